/**
 * Limits for every AWS call the functions make (awsApi.ts). Without a request timeout, a stalled
 * connection would hold a claim until the function itself times out. These budgets
 * keep the worst case of a whole invocation (a few DynamoDB calls, SendTaskSuccess, a history check)
 * inside the function's timeout, so the code that follows a failed call always gets to run.
 */
export interface CallBudget {
  /** Milliseconds to open a connection. */
  connectionTimeout: number;
  /** Milliseconds for the whole exchange of one attempt, connecting included; then the attempt fails. */
  requestTimeout: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
}

export const DYNAMODB_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 1_200, maxAttempts: 2 };
/**
 * The request-approval function's DynamoDB calls (timeout 60 s, nobody waiting on a page): more attempts, so
 * that throttling does not fail an invocation between an email and its record (a retried task would email
 * that approver again).
 */
export const REQUEST_FUNCTION_DYNAMODB_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 1_200, maxAttempts: 5 };
export const STEP_FUNCTIONS_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 2_000, maxAttempts: 2 };
export const SNS_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 3 };
export const KMS_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 2_000, maxAttempts: 3 };
/** The sign-in client secret, read once per container of the decision function (only with sign-in). */
export const SECRETS_MANAGER_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 1_500, maxAttempts: 2 };

/** The decision function's timeout, in seconds: API Gateway REST waits at most 29 s. */
export const DECISION_TIMEOUT_SECONDS = 20;
/** The request-approval function's timeout, in seconds: one KMS and one SNS call per approver. */
export const REQUEST_APPROVAL_TIMEOUT_SECONDS = 60;
