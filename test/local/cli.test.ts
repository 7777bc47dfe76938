import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseCliOptions, UsageError } from "../../local/cliOptions";

const ROOT = path.resolve(__dirname, "../..");

describe("npm start options", () => {
  it("defaults to the dev stack's transport, a day-long timeout and port 3000", () => {
    assert.deepEqual(parseCliOptions([], { transport: "httpApi" }), { transport: "httpApi", inputFile: undefined, serve: false, approvalTimeoutSeconds: 86_400, port: 3000, verbose: false, help: false });
  });

  it("reads every option, with fractional minutes rounded to whole seconds", () => {
    const options = parseCliOptions(["--transport", "restApi", "--input", "in.json", "--timeout-minutes", "0.5", "--port", "0", "--serve", "--verbose"], { transport: "functionUrl" });
    assert.deepEqual(options, { transport: "restApi", inputFile: "in.json", serve: true, approvalTimeoutSeconds: 30, port: 0, verbose: true, help: false });
    assert.equal(parseCliOptions(["--timeout-minutes", "0.001"], { transport: "functionUrl" }).approvalTimeoutSeconds, 1);
  });

  for (const [args, message] of [
    [["--transport", "smtp"], /--transport is "smtp": use one of restApi, httpApi, functionUrl/],
    [["--timeout-minutes", "0"], /--timeout-minutes is "0"/],
    [["--timeout-minutes", "soon"], /--timeout-minutes is "soon"/],
    [["--port", "70000"], /--port is "70000"/],
    [["--colour"], /Unknown option '--colour'/],
  ] as Array<[string[], RegExp]>) {
    it(`refuses ${args.join(" ")} with a one-line explanation`, () => {
      assert.throws(() => parseCliOptions(args, { transport: "functionUrl" }), (error: Error) => error instanceof UsageError && message.test(error.message) && !error.message.includes("\n"));
    });
  }
});

/** Runs `npm start`'s script in a child process and collects what it prints. */
function runStart(args: string[], onOutput?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "local/start.ts", ...args], { cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      onOutput?.(stdout, child);
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm start (child process)", function () {
  this.timeout(60_000);

  it("runs one approval to the end: prints the email, takes the decision, prints path and output", async () => {
    let decided = false;
    const result = await runStart(["--port", "0", "--transport", "httpApi"], (stdout) => {
      const link = /Open the review link in a browser:\n\s+(\S+)/.exec(stdout)?.[1];
      if (link && !decided) {
        decided = true;
        void fetch(link, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "decision=approve" });
      }
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /transport httpApi; no AWS account involved/);
    assert.match(result.stdout, /Subject: Approval needed: Deploy release 2026\.11 to production/);
    assert.match(result.stdout, /SUCCEEDED\n\s+path:\s+Request approval -> Approved\? -> Approved/);
    assert.match(result.stdout, /"decision": "approved"/);
  });

  it("explains an unreadable or invalid input file in one line", async () => {
    const missing = await runStart(["--input", "no-such-file.json", "--port", "0"]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr.trim(), "Error: Cannot read input file no-such-file.json: ENOENT.");
    const file = path.join(mkdtempSync(path.join(tmpdir(), "input-")), "input.json");
    writeFileSync(file, '{"title": "unterminated');
    const invalid = await runStart(["--input", file, "--port", "0"]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr.trim(), /^Error: Input file .*input\.json is not valid JSON: [^\n]+$/);
  });

  it("explains a port in use in one line", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runStart(["--port", String(port)]);
      assert.equal(result.code, 2);
      assert.equal(result.stderr.trim(), `Error: Port ${port} is in use: stop the other process or pass --port <another port>.`);
    } finally {
      blocker.close();
    }
  });

  it("stops cleanly on Ctrl-C (SIGINT) while waiting", async () => {
    let interrupted = false;
    const result = await runStart(["--port", "0"], (stdout, child) => {
      if (stdout.includes("Waiting for a decision") && !interrupted) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    assert.equal(result.code, 130);
    assert.match(result.stdout, /Stopped\.\n$/);
  });
});
