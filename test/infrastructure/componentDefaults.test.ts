/**
 * A program that gives the component only its approvers gets what a stack that sets only approverEmails gets:
 * the component's defaults are the stack's (components/defaults.ts feeds both; Pulumi.yaml is checked against
 * stacks/config.ts in stackConfig.test.ts). decisionReservedConcurrency once differed (-1 and 5).
 */
import { strict as assert } from "node:assert";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import { CONFIG_KEYS } from "../../stacks/config";
import { declaredUnder, settled, useMocks, valueOf } from "../support/pulumiMocks";

describe("the component's defaults are the stack's", () => {
  before(() => useMocks("dev"));

  it("with only approverEmails: transport, reserved concurrency, timeout, retention, quorum, sweeper", async () => {
    const workflow = new HumanApprovalWorkflow("defaults", { approverEmails: ["ops@example.com"] });
    assert.equal(await valueOf(workflow.callbackUrl).then(() => workflow.transport), CONFIG_KEYS.transport.default);
    await settled();
    const resources = declaredUnder("defaults-");
    const decision = resources.one("aws:lambda/function:Function", "defaults-decision");
    const request = resources.one("aws:lambda/function:Function", "defaults-request-approval");
    assert.equal(decision.inputs.reservedConcurrentExecutions, CONFIG_KEYS.decisionReservedConcurrency.default);
    assert.equal(resources.ofType("aws:lambda/functionUrl:FunctionUrl").length, 1);
    const definition = JSON.parse(resources.one("aws:sfn/stateMachine:StateMachine").inputs.definition);
    assert.equal(definition.States["Request approval"].TimeoutSeconds, CONFIG_KEYS.approvalTimeoutMinutes.default * 60);
    for (const logGroup of resources.ofType("aws:cloudwatch/logGroup:LogGroup")) assert.equal(logGroup.inputs.retentionInDays, CONFIG_KEYS.logRetentionDays.default);
    const environment = request.inputs.environment.variables;
    assert.equal(environment.REQUIRED_APPROVALS, String(CONFIG_KEYS.requiredApprovals.default));
    assert.equal(environment.ALLOW_SELF_APPROVAL, String(CONFIG_KEYS.allowSelfApproval.default));
    assert.equal(environment.AUDIT_RETENTION_DAYS, String(CONFIG_KEYS.auditRetentionDays.default));
    assert.equal(resources.one("aws:cloudwatch/eventRule:EventRule", "defaults-sweeper").inputs.scheduleExpression, "rate(1 minute)");
    assert.equal(CONFIG_KEYS.sweepIntervalMinutes.default, 1);
    assert.equal(resources.one("aws:dynamodb/table:Table").inputs.deletionProtectionEnabled, CONFIG_KEYS.tableDeletionProtection.default);
  });
});
