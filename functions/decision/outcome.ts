import type { PublicApprovalRequest } from "../shared/approvalRequest";
import type { Choice } from "./decisionBody";

/** Everything the decision endpoint can answer, as data; pages and JSON are rendered from it. */
export type Outcome =
  | { kind: "review"; request: PublicApprovalRequest; preselected?: Choice }
  | { kind: "decided"; request: PublicApprovalRequest }
  | { kind: "alreadyDecided"; request: PublicApprovalRequest; onPost: boolean }
  | { kind: "expired"; request: PublicApprovalRequest }
  | { kind: "closed"; request: PublicApprovalRequest; timedOut: boolean }
  | { kind: "notFound" }
  | { kind: "invalid"; statusCode: 400 | 403 | 413 | 415; message: string }
  | { kind: "methodNotAllowed" }
  | { kind: "unavailable" }
  | { kind: "failed" };

export const ALLOWED_METHODS = "GET, HEAD, POST";

export function statusCodeOf(outcome: Outcome): number {
  switch (outcome.kind) {
    case "review":
    case "decided":
      return 200;
    case "alreadyDecided":
      return outcome.onPost ? 409 : 200;
    case "expired":
      return 410;
    case "closed":
      return outcome.timedOut ? 410 : 409;
    case "notFound":
      return 404;
    case "invalid":
      return outcome.statusCode;
    case "methodNotAllowed":
      return 405;
    case "unavailable":
      return 503;
    case "failed":
      return 500;
  }
}

/** Stable, machine-readable name of each answer for scripts and ChatOps. */
const ERROR_CODES: Partial<Record<Outcome["kind"], string>> = {
  alreadyDecided: "already_decided",
  expired: "expired",
  closed: "no_longer_waiting",
  notFound: "not_found",
  invalid: "invalid_request",
  methodNotAllowed: "method_not_allowed",
  unavailable: "temporarily_unavailable",
  failed: "internal_error",
};

function requestFields(request: PublicApprovalRequest) {
  return {
    requestId: request.id,
    status: request.status.toLowerCase(),
    title: request.title,
    stateMachineName: request.stateMachineName,
    executionName: request.executionName,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    ...(request.decision ? { decision: request.decision, decidedAt: request.decidedAt, comment: request.comment ?? "" } : {}),
  };
}

/** The JSON answer: the request's public fields, plus `error` whenever nothing was decided by this call. */
export function jsonBodyOf(outcome: Outcome, message: string): Record<string, unknown> {
  const fields = "request" in outcome ? requestFields(outcome.request) : {};
  const error = outcome.kind === "alreadyDecided" && !outcome.onPost ? undefined : ERROR_CODES[outcome.kind];
  return { ...fields, ...(error ? { error } : {}), message };
}
