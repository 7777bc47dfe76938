import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";
import { stackNames } from "../../stacks/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
const VALIDATOR = path.join(ROOT, "node_modules/@action-validator/cli/cli.mjs");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const ACTIONS = path.join(ROOT, ".github/actions");
const FILES = [...readdirSync(WORKFLOWS).map((file) => path.join(WORKFLOWS, file)), ...readdirSync(ACTIONS).map((action) => path.join(ACTIONS, action, "action.yml"))];
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

  it("shows the environment's reviewers a refreshed preview of exactly the commit it deploys, before they approve", () => {
    const { preview, up } = load("pulumi-up.yml").jobs;
    assert.equal(up.needs, "preview", "the up job (and so the environment's approval) waits for the preview");
    assert.equal(preview.environment, undefined, "the preview runs before the gate, with the read-only preview role");
    const step = (job: { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }, uses: string) => job.steps.find((entry) => entry.uses?.startsWith(uses))!;
    for (const job of [preview, up]) assert.equal(step(job, "actions/checkout@").with?.ref, "${{ github.sha }}", "both jobs check out the same commit");
    assert.deepEqual([step(preview, "pulumi/actions@").with?.command, step(preview, "pulumi/actions@").with?.["comment-on-summary"]], ["preview", true]);
  });

  it("pins the Pulumi CLI to the SDK's version and refreshes before every preview and update", () => {
    const sdk = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")).packages["node_modules/@pulumi/pulumi"].version;
    const steps = ["pull-request.yml", "pulumi-up.yml"].flatMap((file) => Object.values(load(file).jobs as Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>).flatMap((job) => job.steps));
    const pulumiSteps = steps.filter((step) => step.uses?.startsWith("pulumi/actions@"));
    assert.equal(pulumiSteps.length, 3);
    for (const step of pulumiSteps) {
      assert.equal(step.with?.["pulumi-version"], sdk);
      assert.equal(step.with?.refresh, true);
    }
  });

  it("grants the workflow token least permissions and uses OIDC, never stored AWS keys", () => {
    for (const file of readdirSync(WORKFLOWS)) {
      const workflow = load(file);
      assert.deepEqual(workflow.permissions, { contents: "read" }, `${file}: read-only by default`);
      for (const [name, job] of Object.entries(workflow.jobs as Record<string, { permissions?: Record<string, string> }>)) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          // Writing contents (a GitHub release) only in the release workflow's publish job, after the tests.
          const allowed = ["contents:read", "id-token:write", "pull-requests:write", ...(file === "release.yml" && name === "publish" ? ["contents:write"] : [])];
          assert.ok(allowed.includes(`${scope}:${level}`), `${file} ${name}: ${scope}: ${level}`);
        }
      }
    }
    const everything = FILES.map((file) => readFileSync(file, "utf8")).join("\n");
    assert.ok(!/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/.test(everything), "no long-lived AWS keys");
    assert.match(everything, /aws-actions\/configure-aws-credentials@v4[\s\S]*role-to-assume/);
  });

  it("releases only from a version tag that is package.json's version, after the tests: the npm package and the plugin archive", () => {
    const release = load("release.yml");
    assert.deepEqual(release.on, { push: { tags: ["v*.*.*"] } });
    const { test, publish } = release.jobs as Record<string, { needs?: string; environment?: string; steps: Array<{ name?: string; run?: string; uses?: string; env?: Record<string, string> }> }>;
    const runs = (job: typeof test) => job.steps.map((step) => step.run ?? "").join("\n");
    assert.match(runs(test), /\$TAG" != "v\$version"/, "the tag must be package.json's version");
    assert.match(runs(test), /CHANGELOG\.md/);
    assert.match(runs(test), /^npm test$/m);
    assert.equal(publish.needs, "test");
    assert.equal(publish.environment, "release");
    assert.match(runs(publish), /npm publish --provenance --access public/);
    assert.match(runs(publish), /git archive --format=tar\.gz .*"\$TAG"/);
    assert.match(runs(publish), /gh release create "\$TAG" "human-approval-\$TAG\.tar\.gz"/);
    // The tag only ever reaches the scripts through the environment, never pasted into them.
    assert.ok(!/\$\{\{/.test(runs(test) + runs(publish)), "no expression inside a run script");
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
    assert.match(readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8"), new RegExp(`^## \\[${manifest.version.replace(/\./g, "\\.")}\\]$`, "m"), "CHANGELOG.md has a section for package.json's version");
  });

  describe("the approval gate (.github/actions/approval-gate) and its example workflow", () => {
    let onExecution: (execution: LocalExecution) => void = () => undefined;
    const gate = parse(readFileSync(path.join(ACTIONS, "approval-gate/action.yml"), "utf8"));
    const example = load("gated-deploy-example.yml");

    it("gates the deploy job on the approval job, which waits with node cli/human-approval.js request --wait (never through npx)", () => {
      assert.equal(example.jobs.deploy.needs, "approval");
      const step = example.jobs.approval.steps.find((candidate: { uses?: string }) => candidate.uses === "./.github/actions/approval-gate");
      assert.ok(step, "the approval job uses the gate");
      assert.match(step.with.title, /\$\{\{ inputs\.version \}\}/);
      assert.ok(example.jobs.approval["timeout-minutes"] <= 360, "GitHub-hosted jobs run 6 hours at most");
      assert.equal(gate.runs.using, "composite");
      assert.match(gate.runs.steps[0].run, /^\s*node cli\/human-approval\.js "\$\{args\[@\]\}"/m);
      assert.ok(!/^\s*(npx|npm exec)\b/m.test(gate.runs.steps[0].run), "npx and npm exec go through npm's shared cache");
      assert.match(gate.runs.steps[0].run, /args=\(request --wait --json/);
    });

    it("never pastes an input or an expression into a script (no script injection)", () => {
      for (const step of gate.runs.steps) assert.ok(!/\$\{\{/.test(step.run), "the gate's script reads its inputs from the environment");
      for (const job of Object.values(example.jobs as Record<string, { steps: Array<{ run?: string }> }>)) {
        for (const step of job.steps) if (step.run) assert.ok(!/\$\{\{/.test(step.run), step.run);
      }
    });

    /** The gate's script, run as the runner runs it (bash -e), against a local approval stack in this process. */
    async function runGate(local: LocalApprovals, decide: (links: Record<string, string>) => Promise<void>) {
      const dir = mkdtempSync(path.join(tmpdir(), "gate-"));
      const [outputFile, summaryFile] = [path.join(dir, "output"), path.join(dir, "summary")];
      writeFileSync(outputFile, "");
      writeFileSync(summaryFile, "");
      const env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        RUNNER_TEMP: dir,
        GITHUB_RUN_ID: "1",
        GITHUB_RUN_ATTEMPT: "1",
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        GATE_TITLE: "Deploy 1.2.3 to production",
        GATE_DESCRIPTION: "From the workflow test",
        GATE_DETAILS_FILE: "",
        GATE_REQUESTED_BY: "",
        GATE_APPROVERS: "",
        GATE_POLL_SECONDS: "0.2",
        HUMAN_APPROVAL_STACK_OUTPUTS: "",
        HUMAN_APPROVAL_STATE_MACHINE_ARN: local.stackOutputs.stateMachineArn,
        HUMAN_APPROVAL_TABLE: local.stackOutputs.approvalsTable,
        AWS_ENDPOINT_URL_SFN: local.stackOutputs.endpoints.sfn,
        AWS_ENDPOINT_URL_DYNAMODB: local.stackOutputs.endpoints.dynamodb,
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      };
      const execution = new Promise<LocalExecution>((resolve) => (onExecution = resolve));
      const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", gate.runs.steps[0].run], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      child.stdout.on("data", (chunk) => (log += chunk));
      child.stderr.on("data", (chunk) => (log += chunk));
      const code = new Promise<number | null>((resolve) => child.on("close", resolve));
      await decide(Object.fromEntries((await (await execution).emails).map((email) => [email.approver, email.reviewUrl])));
      const exitCode = await code;
      // GITHUB_OUTPUT's one-line form: name=value per line.
      const outputs = Object.fromEntries(readFileSync(outputFile, "utf8").trim().split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
      return { code: exitCode, log, outputs, summary: () => readFileSync(summaryFile, "utf8") };
    }
    const vote = (link: string, decision: string, comment: string) =>
      fetch(link, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision, comment }) }).then((response) => response.status);

    describe("run against the local mode", () => {
      let local: LocalApprovals;
      before(async () => (local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 600, approverEmails: ["ann@example.com"], onExecution: (execution) => onExecution(execution) })));
      after(async () => local.close());

      it("passes when approved, with the decision as step outputs and in the job summary", async () => {
        const run = runGate(local, async (links) => assert.equal(await vote(links["ann@example.com"], "approve", "go ahead"), 200));
        const { code, log, outputs, summary } = await run;
        assert.equal(code, 0, log);
        assert.equal(outputs.decision, "approved");
        assert.equal(outputs["decided-by"], "ann@example.com");
        assert.equal(outputs.comment, "go ahead");
        assert.match(outputs["request-ref"], /^req-/);
        assert.match(outputs["input-digest"], /^sha256:/);
        assert.match(log, /Approval approved by ann@example\.com: "go ahead" \[req-/);
        assert.match(summary(), /Approval approved by ann@example\.com/);
      });

      it("fails the step when rejected (exit 20), so the deploy job never runs", async () => {
        const { code, outputs } = await runGate(local, async (links) => assert.equal(await vote(links["ann@example.com"], "reject", "not today"), 200));
        assert.equal(code, 20);
        assert.deepEqual([outputs.decision, outputs.comment], ["rejected", "not today"]);
      });
    });
  });
});