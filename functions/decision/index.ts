/**
 * Lambda entry point of the decision function, behind whichever transport the
 * stack uses (REST API, HTTP API or Function URL). Only wiring lives here.
 */
import type { Context } from "aws-lambda";
import { requireEmailListEnv, requireEnv, requireHttpsUrlEnv, type Environment } from "../shared/env";
import { stepFunctionsWorkflow } from "../shared/delivery";
import { createLogger } from "../shared/logger";
import { labelledPublisher, stackLabelFromEnvironment } from "../shared/email";
import { noticePublisher } from "../shared/publisher";
import { DynamoDbRequestStore } from "../shared/requestStore";
import { handleDecisionEvent, type DecisionDependencies } from "./decision";
import { secretsManagerSecret } from "./signIn/clientSecret";
import { OpenIdSignIn } from "./signIn/signIn";
import { slackFromEnvironment, slackOutcomeAnnouncer } from "../shared/slack/environment";

/**
 * Sign-in when the stack configures it (SIGN_IN_ISSUER): the issuer, the client id, and the ARN of the
 * Secrets Manager secret holding the client secret (never the secret itself).
 */
export function signInFromEnvironment(env: Environment): OpenIdSignIn | undefined {
  if (env.SIGN_IN_ISSUER === undefined || env.SIGN_IN_ISSUER.trim() === "") return undefined;
  return new OpenIdSignIn({
    issuer: requireHttpsUrlEnv(env, "SIGN_IN_ISSUER", "the OpenID Connect issuer approvers sign in with"),
    clientId: requireEnv(env, "SIGN_IN_CLIENT_ID", "the OpenID client id registered for this stack"),
    clientSecret: secretsManagerSecret(requireEnv(env, "SIGN_IN_SECRET_ARN", "the ARN of the Secrets Manager secret holding the OpenID client secret")),
  });
}

export function dependenciesFromEnvironment(env: Environment): DecisionDependencies {
  const signIn = signInFromEnvironment(env);
  const slack = slackFromEnvironment(env);
  return {
    store: new DynamoDbRequestStore(requireEnv(env, "TABLE_NAME", "the name of the approval requests table")),
    workflow: stepFunctionsWorkflow(),
    // This function only ever sends outcome notices.
    publish: labelledPublisher(noticePublisher(requireEnv(env, "TOPIC_ARN", "the ARN of the SNS topic that emails approvers")), stackLabelFromEnvironment(env)),
    stackLabel: stackLabelFromEnvironment(env),
    approverEmails: requireEmailListEnv(env, "APPROVER_EMAILS", "the stack's approvers, comma-separated"),
    now: () => new Date(),
    logger: createLogger({ service: "decision", level: env.LOG_LEVEL }),
    ...(signIn ? { signIn } : {}),
    ...(slack ? { slack, announceOutcome: slackOutcomeAnnouncer(slack.api, stackLabelFromEnvironment(env)) } : {}),
  };
}

/** The handler over given dependencies: what Lambda runs, and what the local mode runs. */
export function createHandler(dependencies: DecisionDependencies) {
  return (event: unknown, context?: Pick<Context, "awsRequestId">) =>
    handleDecisionEvent({ ...dependencies, logger: dependencies.logger.child({ awsRequestId: context?.awsRequestId }) }, event);
}

// Built on the first invocation and kept for the container's life: one set of AWS clients, env checked once.
let containerHandler: ReturnType<typeof createHandler> | undefined;

export async function handler(event: unknown, context?: Pick<Context, "awsRequestId">) {
  containerHandler ??= createHandler(dependenciesFromEnvironment(process.env));
  return containerHandler(event, context);
}
