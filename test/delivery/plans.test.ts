import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { stackNames } from "../../stacks/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
const PLANS_DIR = path.join(ROOT, "plans");
const runPlan = (...args: string[]) =>
  spawnSync(process.execPath, ["-r", "tsx/cjs", "scripts/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env } });

describe("credential-free plans (plans/<stack>.yaml)", function () {
  this.timeout(120_000);

  it("are up to date with the program and the stack files", () => {
    const result = runPlan("--check");
    assert.equal(result.status, 0, `${result.stderr}\n(refresh with: npm run plan)`);
    assert.match(result.stdout, /Plans are up to date: dev, prod, staging/);
  });

  it("show each stack's transport and the facts reviewers look for", () => {
    const expected: Record<string, string[]> = {
      dev: ["aws:lambda/functionUrl:FunctionUrl"],
      staging: ["aws:apigatewayv2/api:Api", "aws:apigatewayv2/route:Route"],
      prod: ["aws:apigateway/restApi:RestApi", "aws:apigateway/stage:Stage"],
    };
    for (const stack of stackNames()) {
      const plan = parse(readFileSync(path.join(ROOT, "plans", `${stack}.yaml`), "utf8"));
      const types = new Set(plan.resources.map((resource: { type: string }) => resource.type));
      for (const type of expected[stack]) assert.ok(types.has(type), `${stack} declares ${type}`);
      const machine = plan.resources.find((resource: { type: string }) => resource.type === "aws:sfn/stateMachine:StateMachine");
      assert.equal(machine.inputs.definition.States["Request approval"].TimeoutSeconds, plan.config.approvalTimeoutMinutes * 60, "the definition is shown as structure");
      const policy = plan.resources.find((resource: { name: string }) => resource.name === "human-approval-decision-policy");
      assert.deepEqual(policy.inputs.policy.Statement[1].Action, ["states:SendTaskSuccess"], "IAM documents are shown as structure");
      const fn = plan.resources.find((resource: { name: string }) => resource.name === "human-approval-decision");
      assert.match(fn.inputs.code.archive["index.js"], /^sha256:[0-9a-f]{64} \(\d+ bytes\)$/);
    }
  });

  it("--check fails on a stale plan and prints the command that refreshes it", () => {
    // The committed plans are current (the test above), so a copy of them is a fresh set to spoil.
    const directory = mkdtempSync(path.join(tmpdir(), "plans-"));
    for (const file of readdirSync(PLANS_DIR)) copyFileSync(path.join(PLANS_DIR, file), path.join(directory, file));
    const stale = path.join(directory, "staging.yaml");
    writeFileSync(stale, readFileSync(stale, "utf8").replace("logRetentionDays: 14", "logRetentionDays: 30"));
    const result = runPlan("--check", "--plans-dir", directory);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Stale plan: plans\/staging\.yaml/);
    assert.match(result.stderr, /npm run plan -- staging/);
  });

  it("refuses an unknown stack by name", () => {
    const result = runPlan("qa");
    assert.equal(result.status, 2);
    assert.match(result.stderr, /no stack file Pulumi\.qa\.yaml; stacks are dev, prod, staging/);
  });
});
