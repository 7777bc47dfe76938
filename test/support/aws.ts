/** The SDK insists on a region and credentials even when every endpoint is local or mocked. */
export function useFakeAwsCredentials(): void {
  process.env.AWS_REGION ??= "eu-west-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
}
