import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
// Declared in the component's own file, where schema inference reads its descriptions.
import type { SignInSettings } from "./humanApprovalWorkflow";

export interface SignInResources {
  /** The secret's ARN, for the decision role's permission. */
  secretArn: pulumi.Output<string>;
  /** The decision function's environment: the issuer, the client id and the secret's ARN, never the secret. */
  environment: Record<string, pulumi.Input<string>>;
}

/**
 * Keeps the client secret in AWS Secrets Manager. Lambda configuration (its environment) is readable
 * with read-only access; a secret's value is not (ReadOnlyAccess and ViewOnlyAccess do not grant
 * `secretsmanager:GetSecretValue`), and the decision role may read this one secret only.
 */
export function createSignInSecret(name: string, args: SignInSettings, parent: pulumi.Resource): SignInResources {
  const secret = new aws.secretsmanager.Secret(`${name}-sign-in-client-secret`, {
    description: pulumi.interpolate`Human approval: the OpenID client secret of ${args.clientId} at ${args.issuer}; read by the decision function only`,
  }, { parent });
  const version = new aws.secretsmanager.SecretVersion(`${name}-sign-in-client-secret`, {
    secretId: secret.id,
    // Marked secret whatever the caller passed: encrypted in the state, [secret] in previews and plans.
    secretString: pulumi.secret(args.clientSecret),
  }, { parent });
  return {
    secretArn: secret.arn,
    environment: {
      SIGN_IN_ISSUER: args.issuer,
      SIGN_IN_CLIENT_ID: args.clientId,
      // The secret's ARN, once its value is stored: the function never starts before the secret has one.
      SIGN_IN_SECRET_ARN: pulumi.all([secret.arn, version.versionId]).apply(([arn]) => arn),
    },
  };
}
