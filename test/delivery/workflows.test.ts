import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { stackNames } from "../../stacks/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
const VALIDATOR = path.join(ROOT, "node_modules/@action-validator/cli/cli.mjs");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const FILES = [...readdirSync(WORKFLOWS).map((file) => path.join(WORKFLOWS, file)), path.join(ROOT, ".github/actions/setup/action.yml")];
const validate = (file: string) => spawnSync(process.execPath, [VALIDATOR, file], { cwd: ROOT, encoding: "utf8" });
const load = (file: string) => parse(readFileSync(path.join(WORKFLOWS, file), "utf8"));

describe("GitHub Actions workflows", function () {
  this.timeout(60_000);

  for (const file of FILES) {
    it(`${path.relative(ROOT, file)} passes action-validator`, () => {
      const result = validate(file);
      assert.equal(result.status, 0, result.stdout + result.stderr);
    });
  }

  it("action-validator really rejects a malformed workflow", () => {
    const broken = path.join(mkdtempSync(path.join(tmpdir(), "wf-")), "broken.yml");
    writeFileSync(broken, readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8").replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"));
    assert.notEqual(validate(broken).status, 0);
  });

  it("previews every stack on pull requests, with the diff, the policy pack and a PR comment", () => {
    const preview = load("pull-request.yml").jobs.preview;
    assert.deepEqual([...preview.strategy.matrix.stack].sort(), stackNames());
    const pulumi = preview.steps.find((step: { uses?: string }) => step.uses?.startsWith("pulumi/actions@"));
    assert.equal(pulumi.with.command, "preview");
    assert.equal(pulumi.with.diff, true);
    assert.equal(pulumi.with["comment-on-pr"], true);
    assert.equal(pulumi.with["edit-pr-comment"], true);
    assert.equal(pulumi.with.policyPacks, "policy");
    assert.match(preview.if, /head\.repo\.full_name == github\.repository/, "no preview for forks, which get no credentials");
  });

  it("deploys dev, then staging, then prod, each in its GitHub environment, one update per stack at a time", () => {
    const jobs = load("deploy.yml").jobs;
    assert.deepEqual([jobs.dev.needs, jobs.staging.needs, jobs.prod.needs], ["test", "dev", "staging"]);
    assert.deepEqual([jobs.dev.with, jobs.staging.with, jobs.prod.with], [
      { stack: "dev", environment: "dev" },
      { stack: "staging", environment: "staging" },
      { stack: "prod", environment: "production" },
    ]);
    const up = load("pulumi-up.yml").jobs.up;
    assert.equal(up.environment, "${{ inputs.environment }}");
    assert.deepEqual(up.concurrency, { group: "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": false });
    const pulumi = up.steps.find((step: { uses?: string }) => step.uses?.startsWith("pulumi/actions@"));
    assert.equal(pulumi.with.command, "up");
    assert.equal(pulumi.with.policyPacks, "policy");
  });

  it("grants the workflow token least permissions and uses OIDC, never stored AWS keys", () => {
    for (const file of readdirSync(WORKFLOWS)) {
      const workflow = load(file);
      assert.deepEqual(workflow.permissions, { contents: "read" }, `${file}: read-only by default`);
      for (const [name, job] of Object.entries(workflow.jobs as Record<string, { permissions?: Record<string, string> }>)) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          assert.ok(["contents:read", "id-token:write", "pull-requests:write"].includes(`${scope}:${level}`), `${file} ${name}: ${scope}: ${level}`);
        }
      }
    }
    const everything = FILES.map((file) => readFileSync(file, "utf8")).join("\n");
    assert.ok(!/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/.test(everything), "no long-lived AWS keys");
    assert.match(everything, /aws-actions\/configure-aws-credentials@v4[\s\S]*role-to-assume/);
  });
});
