/**
 * The approval workflow in Amazon States Language, built by a pure function so
 * the component, the tests and the local runner all use the same definition.
 *
 *   Inspect input --> Input is an object? --yes--> Unwrap input --.
 *                                         `--no---> Wrap input ---+--> Request approval (waitForTaskToken)
 *   Request approval --> Verify decision --> Approved? --approved--> Approved [--> Run approved function]
 *        |                   `-- not the settled one --> Decision not verified (Fail)
 *        |                                              `--Default--> Rejected
 *        |  InvalidApprovalRequest --> Approval request refused (Fail, with the reason as cause)
 *        |  States.Timeout --> Notify expiry --> Expired
 *        `  anything else, after retries --> Approval request failed (Fail)
 *
 * Any JSON value but null is accepted as input: an object is used as it is; anything else (an array, a
 * string, a number, a boolean) is wrapped as {"input": value}, because `ResultPath: $.approval` needs an
 * object. No path can select a null input, so Step Functions itself fails a null input at the first state
 * (States.Runtime, "Path expression '$' does not point to a value"), before anyone is emailed.
 *
 * Approved, Rejected and Expired all end the execution successfully with
 * `$.approval.decision` set to "approved", "rejected" or "expired", so callers
 * (a parent workflow, a pipeline) read one field instead of parsing errors.
 */
export interface StateMachineDefinitionArgs {
  /** ARN of the request-approval function. */
  requestFunctionArn: string;
  /** The task's TimeoutSeconds: how long the workflow waits for a person. */
  approvalTimeoutSeconds: number;
  /** AWS partition ("aws", "aws-cn", "aws-us-gov"), for the service integration ARNs. */
  partition: string;
  /** Optional function to run after approval, with the execution's state as payload. */
  approvedFunctionArn?: string;
  /**
   * Some approval policy rejects on timeout: the expiry task's answer (`approval`) is read, and a timeout
   * rejection goes to Rejected with that output (`decidedBy: "timeout"`). Unset: the definition as it always was.
   */
  timeoutOutcomes?: boolean;
}

export const STATE_NAMES = {
  inspectInput: "Inspect input",
  isObject: "Input is an object?",
  unwrapInput: "Unwrap input",
  wrapInput: "Wrap input",
  requestApproval: "Request approval",
  verifyDecision: "Verify decision",
  notVerified: "Decision not verified",
  refused: "Approval request refused",
  notifyExpiry: "Notify expiry",
  choice: "Approved?",
  approved: "Approved",
  runApprovedFunction: "Run approved function",
  rejected: "Rejected",
  expired: "Expired",
  failed: "Approval request failed",
  timeoutOutcome: "Timeout outcome?",
  rejectedOnTimeout: "Rejected on timeout",
} as const;

/** Transient Lambda service errors worth retrying; AWS recommends retrying these on every Lambda task. */
export const LAMBDA_TRANSIENT_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"];

export type StateMachineDefinition = {
  Comment: string;
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
};

const lambdaRetry = { ErrorEquals: LAMBDA_TRANSIENT_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: "FULL" };

export function buildStateMachineDefinition(args: StateMachineDefinitionArgs): StateMachineDefinition {
  const integration = (action: string) => `arn:${args.partition}:states:::lambda:${action}`;
  const approvedNext = args.approvedFunctionArn ? { Next: STATE_NAMES.runApprovedFunction } : { End: true };

  const states: StateMachineDefinition["States"] = {
    [STATE_NAMES.inspectInput]: {
      Type: "Pass",
      Comment: "Keeps the input and its JSON text, to tell an object from any other JSON value.",
      Parameters: { "input.$": "$", "json.$": "States.JsonToString($)" },
      Next: STATE_NAMES.isObject,
    },
    [STATE_NAMES.isObject]: {
      Type: "Choice",
      Choices: [{ Variable: "$.json", StringMatches: "{*", Next: STATE_NAMES.unwrapInput }],
      Default: STATE_NAMES.wrapInput,
    },
    [STATE_NAMES.unwrapInput]: { Type: "Pass", Comment: "An object: used as it is.", OutputPath: "$.input", Next: STATE_NAMES.requestApproval },
    [STATE_NAMES.wrapInput]: { Type: "Pass", Comment: "Not an object: wrapped, so the decision can be added beside it.", Parameters: { "input.$": "$.input" }, Next: STATE_NAMES.requestApproval },
    [STATE_NAMES.requestApproval]: {
      Type: "Task",
      Comment: "Stores the request and emails the review link; waits until the decision function calls back.",
      Resource: integration("invoke.waitForTaskToken"),
      Parameters: {
        FunctionName: args.requestFunctionArn,
        Payload: {
          "taskToken.$": "$$.Task.Token",
          execution: { "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name" },
          stateMachine: { "name.$": "$$.StateMachine.Name" },
          "input.$": "$",
        },
      },
      TimeoutSeconds: args.approvalTimeoutSeconds,
      ResultPath: "$.approval",
      Retry: [
        // Our own validation errors: a retry would fail the same way.
        { ErrorEquals: ["InvalidApprovalPayload", "InvalidApprovalRequest"], MaxAttempts: 0 },
        lambdaRetry,
        // DynamoDB or SNS errors thrown by the function (States.TaskFailed never matches States.Timeout).
        { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: "FULL" },
      ],
      Catch: [
        { ErrorEquals: ["InvalidApprovalRequest", "InvalidApprovalPayload"], ResultPath: "$.approvalError", Next: STATE_NAMES.refused },
        { ErrorEquals: ["States.Timeout"], ResultPath: "$.approvalError", Next: STATE_NAMES.notifyExpiry },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.approvalError", Next: STATE_NAMES.failed },
      ],
      Next: STATE_NAMES.verifyDecision,
    },
    [STATE_NAMES.verifyDecision]: {
      Type: "Task",
      Comment: "Goes on only if the decision received is the one the approvers' votes settled (SendTaskSuccess cannot be scoped, and the token is readable), about this execution's own input.",
      Resource: integration("invoke"),
      Parameters: {
        FunctionName: args.requestFunctionArn,
        Payload: { kind: "verify", execution: { "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name" }, "approval.$": "$.approval", "executionInput.$": "$$.Execution.Input" },
      },
      ResultPath: null,
      Retry: [
        { ErrorEquals: ["DecisionNotVerified", "InvalidApprovalPayload"], MaxAttempts: 0 },
        lambdaRetry,
        { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: "FULL" },
      ],
      Catch: [
        { ErrorEquals: ["DecisionNotVerified"], ResultPath: "$.verificationError", Next: STATE_NAMES.notVerified },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.verificationError", Next: STATE_NAMES.failed },
      ],
      Next: STATE_NAMES.choice,
    },
    [STATE_NAMES.notVerified]: {
      Type: "Fail",
      Comment: "Someone answered the waiting task with a decision this stack did not send; nothing runs.",
      ErrorPath: "$.verificationError.Error",
      CausePath: "$.verificationError.Cause",
    },
    [STATE_NAMES.choice]: {
      Type: "Choice",
      Choices: [{ Variable: "$.approval.decision", StringEquals: "approved", Next: STATE_NAMES.approved }],
      // Anything but an explicit approval is a rejection: never a States.NoChoiceMatched failure.
      Default: STATE_NAMES.rejected,
    },
    [STATE_NAMES.approved]: { Type: "Pass", Comment: "The approver approved.", ...approvedNext },
    [STATE_NAMES.rejected]: { Type: "Pass", Comment: "The approver rejected, or the answer was not an approval.", End: true },
    [STATE_NAMES.refused]: {
      Type: "Fail",
      Comment: "The request can never settle (too few eligible approvers) or asks someone who is not an approver; nobody was emailed.",
      ErrorPath: "$.approvalError.Error",
      CausePath: "$.approvalError.Cause",
    },
    [STATE_NAMES.notifyExpiry]: {
      Type: "Task",
      Comment: "Closes the request and tells the approvers it expired; the workflow goes on to Expired even if this fails.",
      Resource: integration("invoke"),
      Parameters: {
        FunctionName: args.requestFunctionArn,
        Payload: { kind: "expired", execution: { "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name" } },
      },
      ResultPath: null,
      Retry: [lambdaRetry, { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: "FULL" }],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: STATE_NAMES.expired }],
      Next: STATE_NAMES.expired,
    },
    [STATE_NAMES.expired]: {
      Type: "Pass",
      Comment: "Nobody decided before the approval timeout.",
      Result: { decision: "expired" },
      ResultPath: "$.approval",
      End: true,
    },
    [STATE_NAMES.failed]: {
      Type: "Fail",
      Error: "ApprovalRequestFailed",
      Cause: "The approval request could not be stored or emailed after retries; see the request-approval function's logs.",
    },
  };
  if (args.timeoutOutcomes) {
    // The expiry task answers {approval} for a request with a policy; only a policy's timeout rejection leaves "Expired".
    Object.assign(states[STATE_NAMES.notifyExpiry], { ResultSelector: { "payload.$": "$.Payload" }, ResultPath: "$.timeoutOutcome", Next: STATE_NAMES.timeoutOutcome });
    states[STATE_NAMES.timeoutOutcome] = {
      Type: "Choice",
      Choices: [{ And: [{ Variable: "$.timeoutOutcome.payload.approval.decidedBy", IsPresent: true }, { Variable: "$.timeoutOutcome.payload.approval.decision", StringEquals: "rejected" }], Next: STATE_NAMES.rejectedOnTimeout }],
      Default: STATE_NAMES.expired,
    };
    states[STATE_NAMES.rejectedOnTimeout] = {
      Type: "Pass",
      Comment: "The request's policy rejects on timeout: no person decided (decidedBy \"timeout\").",
      InputPath: "$.timeoutOutcome.payload.approval",
      ResultPath: "$.approval",
      Next: STATE_NAMES.rejected,
    };
  }
  if (args.approvedFunctionArn) {
    states[STATE_NAMES.runApprovedFunction] = {
      Type: "Task",
      Comment: "Runs the job that waited for approval.",
      Resource: integration("invoke"),
      Parameters: { FunctionName: args.approvedFunctionArn, "Payload.$": "$" },
      ResultSelector: { "payload.$": "$.Payload" },
      ResultPath: "$.approvedFunction",
      Retry: [lambdaRetry],
      End: true,
    };
  }
  return {
    Comment: "Waits for a person to approve or reject, from a link in an email.",
    StartAt: STATE_NAMES.inspectInput,
    States: states,
  };
}
