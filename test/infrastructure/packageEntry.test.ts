/**
 * The repository is two things at once: a Pulumi stack (index.ts, run by `pulumi up`) and a component package
 * (components/index.ts, run by `pulumi package add` as a plugin and read by the schema analyzer). They must
 * never be mistaken for each other. How the Pulumi CLI and SDK pick the file they run (pulumi/pulumi at
 * 1b5949891b3cefcb9974752b24a5ecef0acc86c8; @pulumi/pulumi 3.248 ships the same JavaScript):
 *
 * - pkg/engine/project.go:45-71 (getPwdMain): Pulumi.yaml `main` unset -> the entry point is "."; `main` naming a
 *   file -> the entry point is that file's name, run from its folder.
 * - sdk/nodejs/cmd/pulumi-language-nodejs/main.go:1111-1112: the language host passes that entry point to
 *   @pulumi/pulumi/cmd/run as the program.
 * - sdk/nodejs/cmd/run/run.ts:271-305: only when the entry point is "." does the runner look in package.json, at
 *   `exports` first and then `main`. So with `main: index.ts` in Pulumi.yaml the stack runs index.ts whatever
 *   package.json says; without it, it would run package.json `main` = the package entry, which creates nothing:
 *   `pulumi up` would then delete every resource of the stack.
 * - sdk/nodejs/cmd/pulumi-language-nodejs/main.go:1700-1703 (RunPlugin): a component plugin is run with
 *   @pulumi/pulumi/cmd/run-plugin and the plugin's folder; sdk/nodejs/cmd/run-plugin/run.ts:276-305 does
 *   `require(<folder>)` (Node loads package.json `main`), hosts every ComponentResource class that module exports,
 *   and names the provider after package.json `name`.
 * - sdk/nodejs/provider/experimental/analyzer.ts:177-230 (findProgramEntryPoint): the schema analyzer starts at
 *   package.json `exports`, else `main`, else index.ts (the stack program!).
 *
 * Hence the layout pinned here: Pulumi.yaml `main: index.ts`, package.json `main: components/index.ts`, and no
 * package.json `exports` (it would take precedence over `main` in both the runner and the analyzer).
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const packageJson = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const pulumiYaml = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

/** The file `pulumi up` runs: getPwdMain, then cmd/run's package.json fallback for ".", as cited above. */
function programThePulumiCliRuns(root: string, project: { main?: string }, manifest: { main?: string; exports?: unknown }): string {
  const entryPoint = project.main ? path.basename(path.resolve(root, project.main)) : ".";
  const folder = project.main ? path.dirname(path.resolve(root, project.main)) : root;
  if (entryPoint !== ".") return path.join(folder, entryPoint);
  if (manifest.exports !== undefined) return path.join(root, String(typeof manifest.exports === "string" ? manifest.exports : (manifest.exports as Record<string, string>)["."]));
  return path.join(root, manifest.main ?? "index.js");
}

/** What the import did, in a child process under the mocks (test/support/importUnderMocks.ts). */
function importUnderMocks(modulePath: string, config: Record<string, string> = {}): Promise<{ declared: string[]; exports: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(ROOT, "test/support/importUnderMocks.ts"), modulePath, JSON.stringify(config)], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
      maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => (error ? reject(new Error(`${modulePath}: ${stderr || error.message}`)) : resolve(JSON.parse(stdout))));
  });
}

describe("the package entry and the stack program", function () {
  this.timeout(120_000);

  describe("which file each Pulumi tool runs (pinned layout)", () => {
    it("pulumi up runs the stack program, index.ts, because Pulumi.yaml names it", () => {
      assert.equal(pulumiYaml.main, "index.ts");
      assert.equal(programThePulumiCliRuns(ROOT, pulumiYaml, packageJson), path.join(ROOT, "index.ts"));
    });

    it("without Pulumi.yaml main, pulumi up would run the package entry (the danger this layout avoids)", () => {
      assert.equal(programThePulumiCliRuns(ROOT, {}, packageJson), path.join(ROOT, "components/index.ts"));
    });

    it("the plugin host and the analyzer load package.json main, the package entry; no exports field overrides it", () => {
      assert.equal(packageJson.main, "components/index.ts");
      assert.equal(packageJson.exports, undefined);
      // run-plugin's require(<folder>): Node's own resolution of the folder.
      assert.equal(require.resolve(ROOT), path.join(ROOT, "components/index.ts"));
    });

    it("is a nodejs component package named for the component's type token", () => {
      assert.deepEqual(parse(readFileSync(path.join(ROOT, "PulumiPlugin.yaml"), "utf8")), { runtime: "nodejs" });
      assert.equal(packageJson.name, "human-approval");
      assert.ok(!packageJson.private, "a private package cannot be published");
      assert.match(readFileSync(path.join(ROOT, "components/humanApprovalWorkflow.ts"), "utf8"), /super\("human-approval:index:HumanApprovalWorkflow"/);
      for (const file of [packageJson.main, pulumiYaml.main, "PulumiPlugin.yaml"]) assert.ok(existsSync(path.join(ROOT, file)), file);
      assert.ok(packageJson.files.includes("PulumiPlugin.yaml") && packageJson.files.includes("components/") && packageJson.files.includes("functions/"), "the published package holds the plugin and the function sources");
    });
  });

  describe("importing", () => {
    it("the package entry declares no resource and reads no stack configuration (none is set)", async () => {
      const { declared, exports } = await importUnderMocks("components/index.ts");
      assert.deepEqual(declared, []);
      for (const name of ["HumanApprovalWorkflow", "Transport"]) assert.ok(exports.includes(name), name);
    });

    it("the stack program, under the same harness, declares the workflow (the harness sees declarations)", async () => {
      const { declared } = await importUnderMocks("index.ts", { approverEmails: '["a@example.com"]' });
      assert.ok(declared.includes("human-approval:index:HumanApprovalWorkflow::human-approval"), declared.join("\n"));
    });
  });
});
