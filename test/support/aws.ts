/**
 * The SDK insists on a region and credentials even when every endpoint is local
 * or mocked. Development machines run Node 20, which the SDK warns about on
 * every client; Lambda runs nodejs24.x, so the warning says nothing about us.
 */
export function useFakeAwsCredentials(): void {
  process.env.AWS_REGION ??= "eu-west-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
