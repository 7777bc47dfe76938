import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { slackSecretString } from "../functions/shared/slack/secrets";
import type { SlackSettings } from "./humanApprovalWorkflow";
import type { DecisionRoute } from "./transports/decisionEndpoint";

export interface SlackResources {
  /** The secret's ARN, for both roles' permission. */
  secretArn: pulumi.Output<string>;
  /** Both functions' environment: the secret's ARN, never its value. */
  environment: Record<string, pulumi.Input<string>>;
}

/** Slack's interactivity request URL, `<callbackUrl>/slack/interactions`: routed on every transport only when Slack is on. */
export const SLACK_ROUTE: DecisionRoute = { name: "slack-interactions", path: "/slack/interactions", methods: ["POST"] };

/**
 * Keeps the signing secret and the bot token in one AWS Secrets Manager secret, readable by this stack's
 * two function roles only (Lambda configuration is readable with read-only access; a secret's value is not).
 */
export function createSlackSecret(name: string, args: SlackSettings, parent: pulumi.Resource): SlackResources {
  const secret = new aws.secretsmanager.Secret(`${name}-slack`, {
    description: "Human approval: the Slack app's signing secret and bot token; read by this stack's two functions only",
  }, { parent });
  const value = pulumi.all([args.signingSecret, args.botToken]).apply(([signingSecret, botToken]) => slackSecretString({ signingSecret, botToken }));
  const version = new aws.secretsmanager.SecretVersion(`${name}-slack`, {
    secretId: secret.id,
    // Marked secret whatever the caller passed: encrypted in the state, [secret] in previews and plans.
    secretString: pulumi.secret(value),
  }, { parent });
  return {
    secretArn: secret.arn,
    // The secret's ARN, once its value is stored: the functions never start before the secret has one.
    environment: { SLACK_SECRET_ARN: pulumi.all([secret.arn, version.versionId]).apply(([arn]) => arn) },
  };
}
