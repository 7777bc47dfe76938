/** Which AWS errors are worth a "try again in a minute" (503) rather than a 500. */
const TRANSIENT_NAMES = new Set([
  "ThrottlingException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalServerException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);
const TRANSIENT_NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND"]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isTransientAwsError(error: unknown): boolean {
  const shape = (error ?? {}) as AwsErrorShape;
  return (
    TRANSIENT_NAMES.has(shape.name ?? "") ||
    TRANSIENT_NETWORK_CODES.has(shape.code ?? "") ||
    shape.$retryable !== undefined ||
    shape.$fault === "server" ||
    (shape.$metadata?.httpStatusCode ?? 0) >= 500
  );
}
