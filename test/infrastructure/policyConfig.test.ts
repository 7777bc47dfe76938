import { strict as assert } from "node:assert";
import { buildStateMachineDefinition, STATE_NAMES } from "../../components/stateMachineDefinition";
import { parseStackConfig, StackConfigError, type RawStackConfig } from "../../stacks/config";
import { cliConfigForProgram, PulumiCliConfigError, readProject, stackValuesOf } from "../../stacks/pulumiCliConfig";
import { PROJECT_ROOT } from "../../stacks/stackFiles";
import { parse } from "yaml";

const validateAsl: (definition: unknown) => { isValid: boolean; errors: unknown[] } = require("asl-validator");

/** Issue 23: approverGroups and approvalPolicies in the stack configuration. */
const APPROVERS = ["ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"];
const GROUPS = { leads: ["ann@example.com"], sre: ["bob@example.com", "Cy@Example.com"], backup: ["dee@example.com"] };
const base: RawStackConfig = { approverEmails: JSON.stringify(APPROVERS) };
const withPolicies = (groups: unknown, policies: unknown): RawStackConfig => ({ ...base, approverGroups: JSON.stringify(groups), approvalPolicies: JSON.stringify(policies) });
const problemsOf = (raw: RawStackConfig): string[] => {
  try {
    parseStackConfig(raw);
  } catch (error) {
    if (error instanceof StackConfigError) return error.problems;
    throw error;
  }
  return [];
};
const twoStage = { stages: [{ rules: [{ group: "leads", required: 1 }] }, { rules: [{ group: "sre", required: 2, escalateAfterMinutes: 30, escalateTo: "backup" }] }] };

describe("approval policies in the stack configuration", () => {
  it("leaves a stack without them exactly as it was: the CLI's default {} and unset both mean none", () => {
    for (const raw of [base, { ...base, approverGroups: "{}", approvalPolicies: "{}" }]) {
      const config = parseStackConfig(raw);
      assert.equal("approverGroups" in config, false);
      assert.equal("approvalPolicies" in config, false);
    }
  });

  it("resolves groups (addresses in their stored form) into each policy's rules, with the documented defaults", () => {
    const config = parseStackConfig(withPolicies(GROUPS, { change: twoStage }));
    assert.deepEqual(config.approverGroups?.sre, ["bob@example.com", "cy@example.com"]);
    assert.deepEqual(config.approvalPolicies?.change, {
      name: "change",
      stages: [
        { rules: [{ group: "leads", members: ["ann@example.com"], required: 1 }] },
        { rules: [{ group: "sre", members: ["bob@example.com", "cy@example.com"], required: 2, escalateAfterMinutes: 30, escalateTo: "backup", escalationMembers: ["dee@example.com"] }] },
      ],
      onTimeout: "expire",
      requireReason: "none",
    });
  });

  const cases: Array<[string, unknown, unknown, RegExp]> = [
    ["an unknown group", GROUPS, { p: { stages: [{ rules: [{ group: "ops", required: 1 }] }] } }, /^human-approval:approvalPolicies\.p\.stages\[0\]\.rules\[0\]\.group is "ops": it must name a group of approverGroups \(leads, sre, backup\)\.$/],
    ["an empty group", { ...GROUPS, empty: [] }, { p: twoStage }, /^human-approval:approverGroups\.empty is \[\]: it must be a non-empty list of email addresses\.$/],
    ["a count above the group's size", GROUPS, { p: { stages: [{ rules: [{ group: "sre", required: 3 }] }] } }, /^human-approval:approvalPolicies\.p\.stages\[0\]\.rules\[0\]\.required is 3: it must be a whole number from 1 to the size of group sre \(2\)\.$/],
    ["a group twice in one stage", GROUPS, { p: { stages: [{ rules: [{ group: "sre", required: 1 }, { group: "sre", required: 1 }] }] } }, /^human-approval:approvalPolicies\.p\.stages\[0\]\.rules names group "sre" twice: one rule per group in a stage/],
    ["an address twice in a group", { ...GROUPS, sre: ["bob@example.com", "BOB@example.com"] }, { p: twoStage }, /^human-approval:approverGroups\.sre holds "BOB@example\.com" twice: each address may appear once in a group\.$/],
    ["a group member who is no stack approver", { ...GROUPS, backup: ["eve@example.com"] }, { p: twoStage }, /^human-approval:approverGroups\.backup holds "eve@example\.com", which is not in approverEmails: every group member must be a stack approver/],
    ["an escalation to the rule's own group (a cycle)", GROUPS, { p: { stages: [{ rules: [{ group: "sre", required: 1, escalateAfterMinutes: 5, escalateTo: "sre" }] }] } }, /^human-approval:approvalPolicies\.p\.stages\[0\]\.rules\[0\]\.escalateTo is "sre": a rule cannot escalate to its own group; name a backup group\.$/],
    ["an escalation without its delay", GROUPS, { p: { stages: [{ rules: [{ group: "sre", required: 1, escalateTo: "backup" }] }] } }, /escalateAfterMinutes is undefined: with escalateTo it must be a whole number of minutes from 1 to 525600\.$/],
    ["a timeout outcome that is not offered", GROUPS, { p: { ...twoStage, onTimeout: "approve" } }, /^human-approval:approvalPolicies\.p\.onTimeout is "approve": allowed values are expire, reject \(expire is the default\)\.$/],
    ["an unknown reason requirement", GROUPS, { p: { ...twoStage, requireReason: "always" } }, /^human-approval:approvalPolicies\.p\.requireReason is "always": allowed values are none, reject, approve, both\.$/],
    ["a policy without stages", GROUPS, { p: { stages: [] } }, /^human-approval:approvalPolicies\.p\.stages is \[\]: it must be a non-empty list of stages/],
    ["a misspelled field", GROUPS, { p: { ...twoStage, onTimout: "reject" } }, /^human-approval:approvalPolicies\.p\.onTimout is "reject": a policy has only stages, onTimeout and requireReason\.$/],
  ];
  for (const [what, groups, policies, expected] of cases) {
    it(`refuses ${what} in one line naming the key, the value and what is allowed`, () => {
      const problems = problemsOf(withPolicies(groups, policies));
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0], expected);
    });
  }

  it("refuses a plain string where a map belongs", () => {
    assert.match(problemsOf({ ...base, approvalPolicies: "change" })[0], /^human-approval:approvalPolicies is "change": it must be a map of policy name to/);
    assert.match(problemsOf({ ...base, approverGroups: '["ann@example.com"]' })[0], /^human-approval:approverGroups is \["ann@example\.com"\]: it must be a map of group name/);
  });

  it("is declared in Pulumi.yaml as object keys with the default {}, which the CLI's type check applies to stack values", () => {
    const project = readProject(PROJECT_ROOT);
    for (const key of ["approverGroups", "approvalPolicies"]) assert.deepEqual([project.config[key].type, project.config[key].default], ["object", {}], key);
    const stackFile = (text: string) => stackValuesOf(parse(text), "Pulumi.test.yaml");
    const listed = "config:\n  human-approval:approverEmails: [ann@example.com]\n  human-approval:approvalPolicies: [change]\n";
    assert.throws(() => cliConfigForProgram("test", project, stackFile(listed)), (error: Error) => error instanceof PulumiCliConfigError && error.message === "Stack 'test' with configuration key 'approvalPolicies' must be of type 'object'");
    const unset = cliConfigForProgram("test", project, stackFile("config:\n  human-approval:approverEmails: [ann@example.com]\n"));
    assert.deepEqual([unset.config["human-approval:approverGroups"], unset.config["human-approval:approvalPolicies"]], ["{}", "{}"]);
  });
});

describe("state machine definition with a timeout outcome", () => {
  const args = { requestFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:request", approvalTimeoutSeconds: 3600, partition: "aws" };

  it("is the definition it always was unless a policy rejects on timeout", () => {
    assert.deepEqual(buildStateMachineDefinition({ ...args, timeoutOutcomes: false }), buildStateMachineDefinition(args));
    assert.equal(buildStateMachineDefinition(args).States[STATE_NAMES.timeoutOutcome], undefined);
  });

  it("is valid ASL, and routes only a timeout rejection (decidedBy present) to Rejected; anything else stays Expired", () => {
    const definition = buildStateMachineDefinition({ ...args, timeoutOutcomes: true });
    assert.ok(validateAsl(definition).isValid, JSON.stringify(validateAsl(definition).errors));
    const notify = definition.States[STATE_NAMES.notifyExpiry] as any;
    assert.equal(notify.Next, STATE_NAMES.timeoutOutcome);
    assert.equal(notify.Catch[0].Next, STATE_NAMES.expired, "a failed expiry task still ends Expired");
    const choice = definition.States[STATE_NAMES.timeoutOutcome] as any;
    assert.equal(choice.Default, STATE_NAMES.expired);
    assert.equal(choice.Choices[0].Next, STATE_NAMES.rejectedOnTimeout);
    assert.equal((definition.States[STATE_NAMES.rejectedOnTimeout] as any).Next, STATE_NAMES.rejected);
  });
});
