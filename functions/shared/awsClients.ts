/**
 * Limits for every AWS SDK client the functions create. By default the SDK has no request timeout at
 * all: a stalled connection would hold a claim until the function itself times out. These budgets
 * keep the worst case of a whole invocation (a few DynamoDB calls, SendTaskSuccess, a history check)
 * inside the function's timeout, so the code that follows a failed call always gets to run.
 */
export interface CallBudget {
  /** Milliseconds to open a connection. */
  connectionTimeout: number;
  /** Milliseconds for a response once the request is sent; the call fails (it does not just warn). */
  requestTimeout: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
}

export const DYNAMODB_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 1_200, maxAttempts: 2 };
export const STEP_FUNCTIONS_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 2_000, maxAttempts: 2 };
export const SNS_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 3_000, maxAttempts: 3 };
export const KMS_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 2_000, maxAttempts: 3 };
/** The sign-in client secret, read once per container of the decision function (only with sign-in). */
export const SECRETS_MANAGER_BUDGET: CallBudget = { connectionTimeout: 1_000, requestTimeout: 1_500, maxAttempts: 2 };

/** The decision function's timeout, in seconds: API Gateway REST waits at most 29 s. */
export const DECISION_TIMEOUT_SECONDS = 20;
/** The request-approval function's timeout, in seconds: one KMS and one SNS call per approver. */
export const REQUEST_APPROVAL_TIMEOUT_SECONDS = 60;

/**
 * Credentials and region straight from the environment when it holds them, as Lambda's does (the
 * execution role's keys in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, for the
 * container's life, and AWS_REGION), and as the local mode's and the tests' do. The client then never
 * runs the default credential provider chain or reads ~/.aws files for them on its first call, which
 * costs a cold start time for nothing. Without them (a developer's profile, SSO), the SDK's defaults apply.
 */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken, AWS_REGION: region } = env;
  return {
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    ...(region ? { region } : {}),
  };
}

/** Client settings for a budget: explicit timeouts that throw, and a bounded number of attempts. */
export function clientSettings(budget: CallBudget) {
  return {
    ...environmentCredentials(),
    maxAttempts: budget.maxAttempts,
    requestHandler: { connectionTimeout: budget.connectionTimeout, requestTimeout: budget.requestTimeout, throwOnRequestTimeout: true },
  };
}
