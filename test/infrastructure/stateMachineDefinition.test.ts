import { strict as assert } from "node:assert";
import fc from "fast-check";
import { buildStateMachineDefinition, STATE_NAMES } from "../../components/stateMachineDefinition";

const validateAsl: (definition: unknown) => { isValid: boolean; errors: unknown[] } = require("asl-validator");

const requestFunctionArn = "arn:aws:lambda:eu-west-1:123456789012:function:request";
const definition = buildStateMachineDefinition({ requestFunctionArn, approvalTimeoutSeconds: 3600, partition: "aws" });
const task = definition.States[STATE_NAMES.requestApproval] as any;
const choice = definition.States[STATE_NAMES.choice] as any;

describe("state machine definition", () => {
  it("is valid Amazon States Language", () => {
    const result = validateAsl(definition);
    assert.ok(result.isValid, JSON.stringify(result.errors));
  });

  it("waits for the task token with the configured timeout and keeps the input", () => {
    assert.equal(definition.StartAt, STATE_NAMES.inspectInput);
    assert.equal((definition.States[STATE_NAMES.unwrapInput] as any).Next, STATE_NAMES.requestApproval);
    assert.equal((definition.States[STATE_NAMES.wrapInput] as any).Next, STATE_NAMES.requestApproval);
    assert.equal(task.Resource, "arn:aws:states:::lambda:invoke.waitForTaskToken");
    assert.equal(task.TimeoutSeconds, 3600);
    assert.equal(task.ResultPath, "$.approval");
    assert.equal(task.Parameters.FunctionName, requestFunctionArn);
    assert.equal(task.Parameters.Payload["taskToken.$"], "$$.Task.Token");
    assert.equal(task.Parameters.Payload["input.$"], "$");
    assert.equal((definition as any).TimeoutSeconds, undefined, "no execution-wide timeout that would kill the wait silently");
  });

  it("retries transient Lambda errors with backoff, but not our own validation error", () => {
    const lambdaRetry = task.Retry.find((retry: any) => retry.ErrorEquals.includes("Lambda.TooManyRequestsException"));
    assert.ok(lambdaRetry.MaxAttempts > 1 && lambdaRetry.BackoffRate > 1);
    assert.equal(task.Retry[0].ErrorEquals[0], "InvalidApprovalPayload");
    assert.equal(task.Retry[0].MaxAttempts, 0);
  });

  it("sends a refusal to a Fail state that carries its reason, a timeout down a named expired path (via the expiry notice), anything else to a named Fail state", () => {
    assert.deepEqual(task.Catch[0].ErrorEquals, ["InvalidApprovalRequest", "InvalidApprovalPayload"]);
    const refused = definition.States[task.Catch[0].Next] as any;
    assert.equal(refused.Type, "Fail");
    assert.equal(refused.CausePath, "$.approvalError.Cause");
    assert.deepEqual(task.Catch[1].ErrorEquals, ["States.Timeout"]);
    assert.equal(task.Catch[1].Next, STATE_NAMES.notifyExpiry);
    const notify = definition.States[STATE_NAMES.notifyExpiry] as any;
    assert.equal(notify.Parameters.Payload.kind, "expired");
    assert.equal(notify.Next, STATE_NAMES.expired);
    assert.equal(notify.Catch[0].Next, STATE_NAMES.expired, "a failed notice never turns an expiry into a failure");
    assert.equal(definition.States[STATE_NAMES.expired].Type, "Pass");
    assert.deepEqual((definition.States[STATE_NAMES.expired] as any).Result, { decision: "expired" });
    assert.equal((definition.States[STATE_NAMES.expired] as any).ResultPath, "$.approval");
    assert.deepEqual(task.Catch[2].ErrorEquals, ["States.ALL"]);
    assert.equal(definition.States[task.Catch[2].Next].Type, "Fail");
  });

  it("approves only on decision \"approved\"; anything else takes the Default to Rejected", () => {
    assert.deepEqual(choice.Choices, [{ Variable: "$.approval.decision", StringEquals: "approved", Next: STATE_NAMES.approved }]);
    assert.equal(choice.Default, STATE_NAMES.rejected);
    assert.equal(definition.States[STATE_NAMES.approved].End, true);
    assert.equal(definition.States[STATE_NAMES.rejected].End, true);
  });

  it("uses the partition it is given", () => {
    const china = buildStateMachineDefinition({ requestFunctionArn, approvalTimeoutSeconds: 60, partition: "aws-cn" });
    assert.equal((china.States[STATE_NAMES.requestApproval] as any).Resource, "arn:aws-cn:states:::lambda:invoke.waitForTaskToken");
  });

  it("runs the approved function after approval when one is configured", () => {
    const approvedFunctionArn = "arn:aws:lambda:eu-west-1:123456789012:function:deploy";
    const withContinuation = buildStateMachineDefinition({ requestFunctionArn, approvalTimeoutSeconds: 60, partition: "aws", approvedFunctionArn });
    assert.ok(validateAsl(withContinuation).isValid);
    assert.equal(withContinuation.States[STATE_NAMES.approved].Next, STATE_NAMES.runApprovedFunction);
    const run = withContinuation.States[STATE_NAMES.runApprovedFunction] as any;
    assert.equal(run.Parameters.FunctionName, approvedFunctionArn);
    assert.equal(run.End, true);
    assert.equal(withContinuation.States[STATE_NAMES.rejected].End, true, "rejection never runs it");
  });

  it("is valid for every allowed timeout", function () {
    // 100 asl-validator runs: a few seconds alone, past mocha's 30 s on a loaded 2-core machine.
    this.timeout(180_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 525_600 }), fc.boolean(), (minutes, continuation) => {
        const built = buildStateMachineDefinition({ requestFunctionArn, approvalTimeoutSeconds: minutes * 60, partition: "aws", approvedFunctionArn: continuation ? requestFunctionArn : undefined });
        return validateAsl(built).isValid && (built.States[STATE_NAMES.requestApproval] as any).TimeoutSeconds === minutes * 60;
      }),
      { numRuns: 50 },
    );
  });

  it("verifies the decision before acting on it: only the settled output goes on, anything else fails", () => {
    assert.equal(task.Next, STATE_NAMES.verifyDecision);
    const verify = definition.States[STATE_NAMES.verifyDecision] as any;
    assert.equal(verify.Parameters.Payload.kind, "verify");
    assert.equal(verify.Parameters.Payload["approval.$"], "$.approval");
    assert.equal(verify.ResultPath, null, "the state keeps $.approval as received");
    assert.equal(verify.Next, STATE_NAMES.choice);
    assert.deepEqual(verify.Catch[0].ErrorEquals, ["DecisionNotVerified"]);
    assert.equal((definition.States[verify.Catch[0].Next] as any).Type, "Fail");
    assert.equal(verify.Retry[0].MaxAttempts, 0, "a refused decision is not retried");
  });
});
