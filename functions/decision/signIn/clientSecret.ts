/**
 * The OpenID client secret, from AWS Secrets Manager: never an environment variable (Lambda
 * configuration is readable with read-only access), only its ARN is. Read once per container and kept
 * in memory; a failed read is not cached, so the next request tries again.
 */
import { awsApi, SECRETS_MANAGER } from "../../shared/awsApi";
import { SECRETS_MANAGER_BUDGET } from "../../shared/awsClients";

/** The secret could not be read now (throttled, unreachable, misconfigured): sign-in is unavailable (503). */
export class SignInSecretUnavailableError extends Error {
  override name = "SignInSecretUnavailableError";
}

export type SecretReader = () => Promise<string>;

export function secretsManagerSecret(secretArn: string): SecretReader {
  let cached: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    try {
      const result = await awsApi(SECRETS_MANAGER, SECRETS_MANAGER_BUDGET).json<{ SecretString?: string }>("GetSecretValue", { SecretId: secretArn });
      if (!result.SecretString) throw new Error("the secret has no string value");
      return result.SecretString;
    } catch (error) {
      // The message names the failure (AccessDenied, throttling); the secret's value never reaches it.
      throw new SignInSecretUnavailableError(`The sign-in client secret could not be read: ${(error as Error).name}: ${(error as Error).message}`);
    }
  };
  return () => {
    cached ??= read().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
