/**
 * Lambda entry point of the request-approval function, invoked by the state machine: with
 * `lambda:invoke.waitForTaskToken` to ask for approval, and plainly on the timeout path to close
 * the request and tell the approvers; by EventBridge with an execution that ended (withdrawal.ts), on the
 * sweeper's schedule (sweeper.ts) and, when reminders are configured, on theirs (reminders.ts). Only wiring
 * lives here.
 */
import type { Context } from "aws-lambda";
import { awsApi, DYNAMODB, KMS, STEP_FUNCTIONS } from "../shared/awsApi";
import { KMS_BUDGET, REQUEST_FUNCTION_DYNAMODB_BUDGET, STEP_FUNCTIONS_BUDGET } from "../shared/awsClients";
import { DEFAULT_SUBJECT_TEMPLATE, labelledPublisher, stackLabelFromEnvironment } from "../shared/email";
import { requireEmailListEnv, requireEnv, requireHttpsUrlEnv, requirePositiveIntegerEnv, type Environment } from "../shared/env";
import { stepFunctionsWorkflow } from "../shared/delivery";
import { createLogger, describeError } from "../shared/logger";
import { noticePublisher, snsPublisher, type Publish } from "../shared/publisher";
import { DynamoDbRequestStore } from "../shared/requestStore";
import { slackFromEnvironment, slackOutcomeAnnouncer } from "../shared/slack/environment";
import { verifyDecision } from "./verification";
import { parseRequestApprovalPayload } from "./payload";
import { pendingRequestsFromIndex, reminderMinutesFromEnvironment, sendReminders, type ReminderDependencies } from "./reminders";
import { recordExpiry, requestApproval, type RequestApprovalDependencies } from "./requestApproval";
import { followUpPolicies } from "./policyFollowUp";
import { policiesFromEnvironment } from "../shared/policy";
import { sweepDeliveries, unfinishedDeliveriesFromIndex, type SweepDependencies } from "./sweeper";
import { recordExecutionEnd, type WithdrawalDependencies } from "./withdrawal";

/** Everything the function's entries need; reminders, the sweeper and the execution check are optional (tests leave them out). */
export type RequestFunctionDependencies = RequestApprovalDependencies &
  Partial<Pick<ReminderDependencies, "reminderMinutesBeforeExpiry" | "pendingRequests">> &
  Partial<Pick<SweepDependencies, "workflow" | "unfinishedDeliveries">> &
  Pick<WithdrawalDependencies, "describeExecution"> & {
    /** Outcome notices (expiry, withdrawal, the sweeper's deliveries): at most once. Unset: `publish`. */
    publishNotice?: Publish;
  };

export function dependenciesFromEnvironment(env: Environment): RequestFunctionDependencies {
  const topicArn = requireEnv(env, "TOPIC_ARN", "the ARN of the SNS topic that emails approvers");
  const linkKeyId = requireEnv(env, "LINK_KEY_ID", "the KMS HMAC key that makes approvers' links");
  const tableName = requireEnv(env, "TABLE_NAME", "the name of the approval requests table");
  const kms = awsApi(KMS, KMS_BUDGET);
  const stepFunctions = awsApi(STEP_FUNCTIONS, STEP_FUNCTIONS_BUDGET);
  const store = new DynamoDbRequestStore(tableName, awsApi(DYNAMODB, REQUEST_FUNCTION_DYNAMODB_BUDGET));
  const slack = slackFromEnvironment(env);
  return {
    store,
    publish: labelledPublisher(snsPublisher(topicArn), stackLabelFromEnvironment(env)),
    publishNotice: labelledPublisher(noticePublisher(topicArn), stackLabelFromEnvironment(env)),
    mac: async (message) => {
      // Blobs travel base64-encoded in the JSON protocol.
      const result = await kms.json<{ Mac?: string }>("GenerateMac", { KeyId: linkKeyId, MacAlgorithm: "HMAC_SHA_256", Message: Buffer.from(message).toString("base64") });
      if (!result.Mac) throw new Error("KMS GenerateMac returned no MAC.");
      return new Uint8Array(Buffer.from(result.Mac, "base64"));
    },
    callbackUrl: requireHttpsUrlEnv(env, "CALLBACK_URL", "the public base URL of the decision endpoint"),
    approvalTimeoutSeconds: requirePositiveIntegerEnv(env, "APPROVAL_TIMEOUT_SECONDS", "how long a request waits, in seconds"),
    auditRetentionDays: requirePositiveIntegerEnv(env, "AUDIT_RETENTION_DAYS", "how long decided requests are kept, in days"),
    subjectTemplate: env.EMAIL_SUBJECT?.trim() || DEFAULT_SUBJECT_TEMPLATE,
    approverEmails: requireEmailListEnv(env, "APPROVER_EMAILS", "the stack's approvers, comma-separated"),
    requiredApprovals: env.REQUIRED_APPROVALS ? requirePositiveIntegerEnv(env, "REQUIRED_APPROVALS", "distinct approvals needed") : 1,
    allowSelfApproval: env.ALLOW_SELF_APPROVAL === "true",
    ...policiesFromEnvironment(env),
    reminderMinutesBeforeExpiry: reminderMinutesFromEnvironment(env),
    pendingRequests: pendingRequestsFromIndex(store),
    workflow: stepFunctionsWorkflow(stepFunctions),
    unfinishedDeliveries: unfinishedDeliveriesFromIndex(store),
    describeExecution: async (executionArn) => {
      const execution = await stepFunctions.json<{ status?: string; error?: string; cause?: string }>("DescribeExecution", { executionArn });
      return { status: execution.status ?? "UNKNOWN", error: execution.error, cause: execution.cause };
    },
    now: () => new Date(),
    logger: createLogger({ service: "request-approval", level: env.LOG_LEVEL }),
    ...(slack ? { slack: { api: slack.api, stackLabel: stackLabelFromEnvironment(env) }, announceOutcome: slackOutcomeAnnouncer(slack.api, stackLabelFromEnvironment(env)) } : {}),
  };
}

/** The handler over given dependencies: what Lambda runs, and what the local mode runs. */
export function createHandler(dependencies: RequestFunctionDependencies) {
  return async (event: unknown, context?: Pick<Context, "awsRequestId">) => {
    const logger = dependencies.logger.child({ awsRequestId: context?.awsRequestId });
    try {
      const payload = parseRequestApprovalPayload(event);
      // Links go out at least once (a retried email is the same link); outcome notices at most once.
      const notifying = { ...dependencies, publish: dependencies.publishNotice ?? dependencies.publish, logger };
      switch (payload.kind) {
        case "expired":
          return await recordExpiry(notifying, payload);
        case "executionEnded":
          return await recordExecutionEnd(notifying, payload);
        case "verify":
          return await verifyDecision({ ...dependencies, logger }, payload);
        case "remind": {
          const scheduled = { ...dependencies, reminderMinutesBeforeExpiry: dependencies.reminderMinutesBeforeExpiry ?? [], pendingRequests: dependencies.pendingRequests ?? (async () => []), logger };
          const reminded = await sendReminders(scheduled);
          // Escalations and stage openings share the reminders' schedule.
          if (!dependencies.policies) return reminded;
          if (!dependencies.workflow) throw new Error("Approval policies need the workflow (an escalation can settle a request).");
          return { ...reminded, policies: await followUpPolicies({ ...scheduled, workflow: dependencies.workflow }) };
        }
        case "sweep": {
          const { workflow, unfinishedDeliveries } = dependencies;
          if (!workflow || !unfinishedDeliveries) throw new Error("The sweeper needs the workflow and the status index.");
          return await sweepDeliveries({ ...notifying, workflow, unfinishedDeliveries });
        }
        default:
          return await requestApproval({ ...dependencies, logger }, payload);
      }
    } catch (error) {
      logger.error("Approval request failed", describeError(error));
      throw error;
    }
  };
}

// Built on the first invocation and kept for the container's life: one set of AWS clients, env checked once.
let containerHandler: ReturnType<typeof createHandler> | undefined;

export async function handler(event: unknown, context?: Pick<Context, "awsRequestId">) {
  containerHandler ??= createHandler(dependenciesFromEnvironment(process.env));
  return containerHandler(event, context);
}
