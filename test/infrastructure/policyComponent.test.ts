import { strict as assert } from "node:assert";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { parseStackConfig } from "../../stacks/config";
import { declaredUnder, settled, useMocks, valueOf } from "../support/pulumiMocks";

/**
 * Issue 23 in the component: only a stack with approval policies gets their settings (the request function's
 * APPROVAL_POLICIES, the reminders' schedule every minute for escalations and stage openings, and, when a policy
 * rejects on timeout, the timeout outcome in the definition). Stacks without policies are pinned by the URN
 * fixture and the plans.
 */
const APPROVERS = ["lead@example.com", "sec@example.com", "sre1@example.com", "sre2@example.com"];
const configured = (onTimeout: string) =>
  parseStackConfig({
    approverEmails: JSON.stringify(APPROVERS),
    approverGroups: JSON.stringify({ leads: ["lead@example.com"], security: ["sec@example.com"], sre: ["sre1@example.com", "sre2@example.com"] }),
    approvalPolicies: JSON.stringify({ change: { stages: [{ rules: [{ group: "leads", required: 1 }] }, { rules: [{ group: "security", required: 1 }, { group: "sre", required: 2 }] }], onTimeout } }),
  }).approvalPolicies;

async function deploy(name: string, onTimeout?: string) {
  const workflow = new HumanApprovalWorkflow(name, { transport: "functionUrl", approverEmails: APPROVERS, approvalTimeoutMinutes: 60, logRetentionDays: 14, auditRetentionDays: 30, ...(onTimeout ? { approvalPolicies: configured(onTimeout) } : {}) });
  await valueOf(workflow.stateMachineArn);
  await settled();
  const resources = declaredUnder(`${name}-`);
  const fn = (role: string) => resources.one("aws:lambda/function:Function", `${name}-${role}`);
  const definition = JSON.parse(resources.one("aws:sfn/stateMachine:StateMachine").inputs.definition);
  return { resources, fn, definition };
}

describe("approval policies in the component (Pulumi mocks)", function () {
  this.timeout(60_000);
  before(() => useMocks("policies"));

  it("hands the request function its policies, runs the reminders' schedule every minute, and adds the timeout outcome for a policy that rejects", async () => {
    const stack = await deploy("policy-reject", "reject");
    const variables = stack.fn("request-approval").inputs.environment.variables;
    assert.deepEqual(JSON.parse(variables.APPROVAL_POLICIES), configured("reject"));
    assert.equal(stack.fn("decision").inputs.environment.variables.APPROVAL_POLICIES, undefined, "the decision function reads each request's own policy");
    const schedule = stack.resources.one("aws:cloudwatch/eventRule:EventRule", "policy-reject-reminders");
    assert.equal(schedule.inputs.scheduleExpression, "rate(1 minute)");
    assert.deepEqual(JSON.parse(stack.resources.one("aws:cloudwatch/eventTarget:EventTarget", "policy-reject-reminders-target").inputs.input), { kind: "remind" });
    assert.ok(stack.definition.States[STATE_NAMES.timeoutOutcome], "the timeout outcome is in the definition");
  });

  it("keeps the definition as it was for policies that only expire, and adds nothing without policies", async () => {
    const expiring = await deploy("policy-expire", "expire");
    assert.equal(expiring.definition.States[STATE_NAMES.timeoutOutcome], undefined);
    const plain = await deploy("policy-none");
    assert.equal(plain.fn("request-approval").inputs.environment.variables.APPROVAL_POLICIES, undefined);
    assert.equal(plain.resources.ofType("aws:cloudwatch/eventRule:EventRule").some((rule) => rule.name === "policy-none-reminders"), false);
    assert.equal(JSON.stringify(plain.definition).replaceAll("policy-none", "policy-expire"), JSON.stringify(expiring.definition), "a policy that expires changes nothing in the definition");
  });
});
