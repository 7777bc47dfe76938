/**
 * The Slack app's signing secret and bot token, from one AWS Secrets Manager secret (JSON
 * `{"signingSecret": "…", "botToken": "xoxb-…"}`): never an environment variable (Lambda configuration
 * is readable with read-only access), only the secret's ARN is. Read once per container; a failed
 * read is not cached, so the next request tries again.
 */
import { awsApi, SECRETS_MANAGER } from "../awsApi";
import { SECRETS_MANAGER_BUDGET } from "../awsClients";

export interface SlackSecrets {
  signingSecret: string;
  botToken: string;
}

/** The secret could not be read now, or holds no usable value: Slack is unavailable (503), nothing is decided. */
export class SlackSecretsUnavailableError extends Error {
  override name = "SlackSecretsUnavailableError";
}

export type SlackSecretsReader = () => Promise<SlackSecrets>;

/** What the component stores: the one place the secret's shape is written. */
export function slackSecretString(secrets: SlackSecrets): string {
  return JSON.stringify({ signingSecret: secrets.signingSecret, botToken: secrets.botToken });
}

export function parseSlackSecrets(text: string): SlackSecrets {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new SlackSecretsUnavailableError("The Slack secret is not JSON.");
  }
  if (typeof value?.signingSecret !== "string" || value.signingSecret === "" || typeof value.botToken !== "string" || value.botToken === "") {
    throw new SlackSecretsUnavailableError("The Slack secret needs a signingSecret and a botToken.");
  }
  return { signingSecret: value.signingSecret, botToken: value.botToken };
}

export function secretsManagerSlackSecrets(secretArn: string): SlackSecretsReader {
  let cached: Promise<SlackSecrets> | undefined;
  const read = async (): Promise<SlackSecrets> => {
    let text: string | undefined;
    try {
      text = (await awsApi(SECRETS_MANAGER, SECRETS_MANAGER_BUDGET).json<{ SecretString?: string }>("GetSecretValue", { SecretId: secretArn })).SecretString;
    } catch (error) {
      // The message names the failure (AccessDenied, throttling); the secret's value never reaches it.
      throw new SlackSecretsUnavailableError(`The Slack secret could not be read: ${(error as Error).name}: ${(error as Error).message}`);
    }
    return parseSlackSecrets(text ?? "");
  };
  return () => {
    cached ??= read().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
