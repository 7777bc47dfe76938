import type { ApprovalRequest } from "../shared/approvalRequest";

/** Where a stored request stands at a given moment, for deciding what to answer. */
export type RequestState = "pending" | "expired" | "decided" | "closed";

export function requestState(request: ApprovalRequest, now: Date): RequestState {
  switch (request.status) {
    case "PENDING":
      // The item may still say PENDING after the link expired: nothing writes at the exact moment.
      return now.getTime() < Date.parse(request.expiresAt) ? "pending" : "expired";
    case "APPROVED":
    case "REJECTED":
      return "decided";
    case "EXPIRED":
      return "expired";
    default:
      return "closed";
  }
}

/**
 * What a failed SendTaskSuccess means for the person who clicked:
 * - timedOut:  the task is gone (timed out, execution stopped, or already answered): 410
 * - gone:      the token is unknown or invalid: the workflow can never take this decision: 409
 * - transient: throttling, a 5xx or the network: undo the claim and ask to retry: 503
 * - fatal:     anything else (permissions, output too large): undo the claim, 500
 */
export type SendTaskFailure = "timedOut" | "gone" | "transient" | "fatal";

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

export function classifySendTaskError(error: unknown): SendTaskFailure {
  const name = (error as AwsErrorShape | undefined)?.name;
  if (name === "TaskTimedOut") return "timedOut";
  if (name === "TaskDoesNotExist" || name === "InvalidToken") return "gone";
  return isTransientAwsError(error) ? "transient" : "fatal";
}
