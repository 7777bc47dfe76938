/** The environment that points the handlers' real SDK clients at the local endpoints. */
export function localAwsEnvironment(endpoints: { dynamoDb: string; standIn: string }): Record<string, string> {
  return {
    AWS_REGION: "eu-west-1",
    // Fixed fake credentials: the SDK must not go looking for real ones (profiles, SSO) on a developer's machine.
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamoDb,
    AWS_ENDPOINT_URL_SNS: endpoints.standIn,
    AWS_ENDPOINT_URL_SFN: endpoints.standIn,
    AWS_ENDPOINT_URL_KMS: endpoints.standIn,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.standIn,
  };
}
