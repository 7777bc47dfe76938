/**
 * Lambda entry point of the request-approval function, invoked by the state
 * machine with `lambda:invoke.waitForTaskToken`. Only wiring lives here.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Context } from "aws-lambda";
import { requireEnv, requireHttpsUrlEnv, requirePositiveIntegerEnv, type Environment } from "../shared/env";
import { createLogger, describeError } from "../shared/logger";
import { DynamoDbRequestStore } from "../shared/requestStore";
import { DEFAULT_SUBJECT_TEMPLATE } from "./email";
import { parseRequestApprovalPayload } from "./payload";
import { requestApproval, type RequestApprovalDependencies } from "./requestApproval";

export function dependenciesFromEnvironment(env: Environment): RequestApprovalDependencies {
  const topicArn = requireEnv(env, "TOPIC_ARN", "the ARN of the SNS topic that emails approvers");
  const sns = new SNSClient({});
  return {
    store: new DynamoDbRequestStore(requireEnv(env, "TABLE_NAME", "the name of the approval requests table")),
    publish: async ({ subject, message }) => {
      await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
    },
    callbackUrl: requireHttpsUrlEnv(env, "CALLBACK_URL", "the public base URL of the decision endpoint"),
    approvalTimeoutSeconds: requirePositiveIntegerEnv(env, "APPROVAL_TIMEOUT_SECONDS", "how long a request waits, in seconds"),
    auditRetentionDays: requirePositiveIntegerEnv(env, "AUDIT_RETENTION_DAYS", "how long decided requests are kept, in days"),
    subjectTemplate: env.EMAIL_SUBJECT?.trim() || DEFAULT_SUBJECT_TEMPLATE,
    now: () => new Date(),
    logger: createLogger({ service: "request-approval", level: env.LOG_LEVEL }),
  };
}

/** The handler over given dependencies: what Lambda runs, and what the local mode runs. */
export function createHandler(dependencies: RequestApprovalDependencies) {
  return async (event: unknown, context?: Pick<Context, "awsRequestId">) => {
    const logger = dependencies.logger.child({ awsRequestId: context?.awsRequestId });
    try {
      return await requestApproval({ ...dependencies, logger }, parseRequestApprovalPayload(event));
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
