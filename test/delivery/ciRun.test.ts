import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launchChromiumOrSkip } from "../support/chromium";

const CI_RUN = resolve(__dirname, "../../.ci/run");

/** .ci/run runs `npm test` with CI set, and under CI a browser suite without Chromium fails rather than skips. */
describe("CI: a missing browser fails the run", () => {
  it(".ci/run runs npm ci and npm test with CI=true", () => {
    // Run the real script with stand-ins for npm and chromium on PATH: each npm call records the CI it sees.
    const bin = mkdtempSync(join(tmpdir(), "ci-run-"));
    try {
      const log = join(bin, "npm.log");
      writeFileSync(join(bin, "npm"), `#!/usr/bin/env bash\necho "npm $1 CI=\${CI:-unset}" >> "${log}"\n`);
      writeFileSync(join(bin, "chromium"), "#!/usr/bin/env bash\n");
      for (const name of ["npm", "chromium"]) chmodSync(join(bin, name), 0o755);
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };
      delete env.CI;
      execFileSync("bash", [CI_RUN], { env, stdio: "pipe" });
      assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), ["npm ci CI=true", "npm test CI=true"]);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("under CI, a browser suite fails when Chromium is missing; outside CI it skips with the install hint", async () => {
    const missing = "/nonexistent/chromium";
    let skipped = false;
    const context = { skip: () => ((skipped = true), assert.fail("skipped")) } as unknown as Mocha.Context;
    await assert.rejects(launchChromiumOrSkip(context, missing, true), /Headless Chromium not found at \/nonexistent\/chromium: install it/);
    assert.equal(skipped, false, "under CI the suite fails, it is not skipped");
    const log = console.log;
    console.log = () => undefined;
    try {
      await assert.rejects(launchChromiumOrSkip(context, missing, false), /skipped/);
    } finally {
      console.log = log;
    }
    assert.equal(skipped, true);
  });
});
