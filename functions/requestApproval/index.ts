/**
 * Lambda entry point of the request-approval function, invoked by the state machine: with
 * `lambda:invoke.waitForTaskToken` to ask for approval, and plainly on the timeout path to close
 * the request and tell the approvers; by EventBridge with an execution that ended (withdrawal.ts) and,
 * when reminders are configured, on a schedule (reminders.ts). Only wiring lives here.
 */
import { GenerateMacCommand, KMSClient } from "@aws-sdk/client-kms";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import type { Context } from "aws-lambda";
import { clientSettings, DYNAMODB_BUDGET, KMS_BUDGET, SNS_BUDGET, STEP_FUNCTIONS_BUDGET } from "../shared/awsClients";
import { DEFAULT_SUBJECT_TEMPLATE } from "../shared/email";
import { requireEmailListEnv, requireEnv, requireHttpsUrlEnv, requirePositiveIntegerEnv, type Environment } from "../shared/env";
import { createLogger, describeError } from "../shared/logger";
import { snsPublisher } from "../shared/publisher";
import { DynamoDbRequestStore } from "../shared/requestStore";
import { verifyDecision } from "./verification";
import { parseRequestApprovalPayload } from "./payload";
import { pendingRequestsFromIndex, reminderMinutesFromEnvironment, sendReminders, type ReminderDependencies } from "./reminders";
import { recordExpiry, requestApproval, type RequestApprovalDependencies } from "./requestApproval";
import { recordExecutionEnd, type WithdrawalDependencies } from "./withdrawal";

/** Everything the function's entries need; reminders and the execution check are optional (tests leave them out). */
export type RequestFunctionDependencies = RequestApprovalDependencies &
  Partial<Pick<ReminderDependencies, "reminderMinutesBeforeExpiry" | "pendingRequests">> &
  Pick<WithdrawalDependencies, "describeExecution">;

export function dependenciesFromEnvironment(env: Environment): RequestFunctionDependencies {
  const topicArn = requireEnv(env, "TOPIC_ARN", "the ARN of the SNS topic that emails approvers");
  const linkKeyId = requireEnv(env, "LINK_KEY_ID", "the KMS HMAC key that makes approvers' links");
  const tableName = requireEnv(env, "TABLE_NAME", "the name of the approval requests table");
  const kms = new KMSClient(clientSettings(KMS_BUDGET));
  const dynamoDb = new DynamoDBClient(clientSettings(DYNAMODB_BUDGET));
  const stepFunctions = new SFNClient(clientSettings(STEP_FUNCTIONS_BUDGET));
  return {
    store: new DynamoDbRequestStore(tableName, dynamoDb),
    publish: snsPublisher(new SNSClient(clientSettings(SNS_BUDGET)), topicArn),
    mac: async (message) => {
      const result = await kms.send(new GenerateMacCommand({ KeyId: linkKeyId, MacAlgorithm: "HMAC_SHA_256", Message: message }));
      if (!result.Mac) throw new Error("KMS GenerateMac returned no MAC.");
      return result.Mac;
    },
    callbackUrl: requireHttpsUrlEnv(env, "CALLBACK_URL", "the public base URL of the decision endpoint"),
    approvalTimeoutSeconds: requirePositiveIntegerEnv(env, "APPROVAL_TIMEOUT_SECONDS", "how long a request waits, in seconds"),
    auditRetentionDays: requirePositiveIntegerEnv(env, "AUDIT_RETENTION_DAYS", "how long decided requests are kept, in days"),
    subjectTemplate: env.EMAIL_SUBJECT?.trim() || DEFAULT_SUBJECT_TEMPLATE,
    approverEmails: requireEmailListEnv(env, "APPROVER_EMAILS", "the stack's approvers, comma-separated"),
    requiredApprovals: env.REQUIRED_APPROVALS ? requirePositiveIntegerEnv(env, "REQUIRED_APPROVALS", "distinct approvals needed") : 1,
    allowSelfApproval: env.ALLOW_SELF_APPROVAL === "true",
    reminderMinutesBeforeExpiry: reminderMinutesFromEnvironment(env),
    pendingRequests: pendingRequestsFromIndex(dynamoDb, tableName),
    describeExecution: async (executionArn) => {
      const execution = await stepFunctions.send(new DescribeExecutionCommand({ executionArn }));
      return { status: execution.status ?? "UNKNOWN", error: execution.error, cause: execution.cause };
    },
    now: () => new Date(),
    logger: createLogger({ service: "request-approval", level: env.LOG_LEVEL }),
  };
}

/** The handler over given dependencies: what Lambda runs, and what the local mode runs. */
export function createHandler(dependencies: RequestFunctionDependencies) {
  return async (event: unknown, context?: Pick<Context, "awsRequestId">) => {
    const logger = dependencies.logger.child({ awsRequestId: context?.awsRequestId });
    try {
      const payload = parseRequestApprovalPayload(event);
      switch (payload.kind) {
        case "expired":
          return await recordExpiry({ ...dependencies, logger }, payload);
        case "executionEnded":
          return await recordExecutionEnd({ ...dependencies, logger }, payload);
        case "verify":
          return await verifyDecision({ ...dependencies, logger }, payload);
        case "remind":
          return await sendReminders({
            ...dependencies,
            reminderMinutesBeforeExpiry: dependencies.reminderMinutesBeforeExpiry ?? [],
            pendingRequests: dependencies.pendingRequests ?? (async () => []),
            logger,
          });
        default:
          return await requestApproval({ ...dependencies, logger }, payload);
      }
    } catch (error) {
      logger.error("Approval request failed", describeError(error));
      throw error;
    }
  };
}

// Built on the first invocation and kept for the container's life: one set of SDK clients, env checked once.
let containerHandler: ReturnType<typeof createHandler> | undefined;

export async function handler(event: unknown, context?: Pick<Context, "awsRequestId">) {
  containerHandler ??= createHandler(dependenciesFromEnvironment(process.env));
  return containerHandler(event, context);
}
