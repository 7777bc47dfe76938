import type { Decision, PublicApprovalRequest } from "../shared/approvalRequest";
import { evaluationOf, type Answer, type EffectiveState } from "../shared/lifecycle";
import type { Choice } from "./decisionBody";
import type { SignInFailure, VerifiedApprover } from "./signIn/signIn";

/** Everything the decision endpoint can answer, as data; pages and JSON are rendered from it. */
export type Outcome =
  | {
      kind: "request";
      request: PublicApprovalRequest;
      /** Whose link this is. */
      approver: string;
      /** Computed once, by the lifecycle module, from the request as it now stands. */
      state: EffectiveState;
      answer: Answer;
      preselected?: Choice;
      /** A POST's vote, recorded or not: a vote that was not recorded is shown back to its approver, comment and all. */
      attempted?: { decision: Decision; comment: string };
      /** With sign-in: who the provider verified (always this link's approver). */
      signedIn?: VerifiedApprover;
    }
  | { kind: "notFound" }
  | { kind: "removedApprover" }
  | { kind: "invalid"; statusCode: 400 | 403 | 413 | 415; message: string }
  | { kind: "methodNotAllowed"; allow?: string }
  | { kind: "unavailable" }
  | { kind: "failed" }
  // Sign-in (only when the stack has a signInIssuer):
  /** To the provider's login (302; 303 after a POST, so the browser follows with a GET), or back to the link after it. */
  | { kind: "redirect"; location: string; afterPost: boolean }
  /** A script (JSON) without a session: it cannot sign in, so it is told instead of redirected. */
  | { kind: "signInRequired" }
  | { kind: "signInFailed"; reason: SignInFailure; signedInAs?: string; retryUrl?: string }
  /** Signed in, but as someone other than the link's approver: nothing is shown or recorded. */
  | { kind: "wrongApprover"; signedInAs: string; approver: string; retryUrl: string }
  /** The provider (or the secret needed to talk to it) cannot be reached now. */
  | { kind: "signInUnavailable" };

export const ALLOWED_METHODS = "GET, HEAD, POST";
/** Failures of a sign-in that say "who you are is not allowed", rather than "this request is malformed". */
const FORBIDDEN_SIGN_IN_FAILURES: ReadonlySet<SignInFailure> = new Set(["cancelled", "emailMissing", "emailNotVerified", "emailNotPlain"]);

const CLOSED_STATES: ReadonlySet<EffectiveState> = new Set(["expired", "withdrawn", "closed"]);

function requestStatusCode(outcome: Extract<Outcome, { kind: "request" }>): number {
  const { answer, state } = outcome;
  switch (answer.type) {
    case "notAsked":
    case "selfApproval":
      return 403;
    case "conflictingVote":
      return 409;
    case "deliveryPending":
      return 503;
    case "reasonRequired":
      return 400;
    case "notOpen":
      return CLOSED_STATES.has(state) ? 410 : 409;
    case "show":
    case "voteRecorded":
    case "alreadyRecorded":
      // A recorded vote is a success for the person, even while its delivery is under way (a double
      // click during delivery): only `deliveryPending`, when delivery failed for now, asks for a retry.
      return CLOSED_STATES.has(state) ? 410 : 200;
  }
}

export function statusCodeOf(outcome: Outcome): number {
  switch (outcome.kind) {
    case "request":
      return requestStatusCode(outcome);
    case "notFound":
      return 404;
    case "removedApprover":
      return 403;
    case "invalid":
      return outcome.statusCode;
    case "methodNotAllowed":
      return 405;
    case "unavailable":
      return 503;
    case "failed":
      return 500;
    case "redirect":
      return outcome.afterPost ? 303 : 302;
    case "signInRequired":
    case "wrongApprover":
      return 403;
    case "signInFailed":
      return FORBIDDEN_SIGN_IN_FAILURES.has(outcome.reason) ? 403 : 400;
    case "signInUnavailable":
      return 503;
  }
}

/** Stable, machine-readable name of each answer that is not a plain success, for scripts and ChatOps. */
function errorCodeOf(outcome: Outcome): string | undefined {
  if (outcome.kind !== "request") {
    const codes = {
      notFound: "not_found",
      removedApprover: "not_an_approver",
      invalid: "invalid_request",
      methodNotAllowed: "method_not_allowed",
      unavailable: "temporarily_unavailable",
      failed: "internal_error",
      redirect: "sign_in_required",
      signInRequired: "sign_in_required",
      signInFailed: "sign_in_failed",
      wrongApprover: "wrong_approver",
      signInUnavailable: "sign_in_unavailable",
    } as const;
    return codes[outcome.kind];
  }
  const status = statusCodeOf(outcome);
  if (status === 200) return undefined;
  if (outcome.answer.type === "selfApproval") return "self_approval";
  if (outcome.answer.type === "notAsked") return "not_an_approver";
  if (outcome.answer.type === "conflictingVote") return "already_voted";
  if (outcome.answer.type === "reasonRequired") return "reason_required";
  if (status === 503) return "delivery_pending";
  if (outcome.state === "expired") return "expired";
  if (outcome.state === "withdrawn") return "withdrawn";
  if (outcome.state === "closed") return "no_longer_waiting";
  return "already_decided";
}

function requestFields(outcome: Extract<Outcome, { kind: "request" }>) {
  const { request, state } = outcome;
  const output = request.settlement?.output;
  const delivered = state === "approved" || state === "rejected";
  return {
    requestRef: request.id,
    status: state,
    title: request.title,
    approver: outcome.approver,
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    requiredApprovals: request.requiredApprovals,
    approvers: request.approvers,
    votes: request.votes.map(({ approver, decision, decidedAt, comment, verifiedBy }) => ({ approver, decision, decidedAt, comment, ...(verifiedBy ? { verifiedBy } : {}) })),
    stateMachineName: request.stateMachineName,
    executionName: request.executionName,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    inputDigest: request.inputDigest,
    ...(delivered && output ? { decision: output.decision, decidedBy: output.decidedBy, decidedAt: output.decidedAt, comment: output.comment, ...(output.verifiedBy ? { verifiedBy: output.verifiedBy } : {}) } : {}),
    ...(request.closedReason && !delivered ? { reason: request.closedReason } : {}),
    ...policyFieldsOf(request),
  };
}

/** With a policy: its name, the open stage and each rule's progress (who counted toward which rule). */
function policyFieldsOf(request: PublicApprovalRequest) {
  if (!request.policy) return {};
  const evaluation = evaluationOf(request);
  return { policy: request.policy.name, openStage: evaluation.openStage ?? null, stages: evaluation.stages, escalations: request.policyProgress?.escalations ?? [] };
}

/** The JSON answer: the request's public fields, plus `error` whenever the call did not simply succeed. */
export function jsonBodyOf(outcome: Outcome, message: string): Record<string, unknown> {
  const fields = outcome.kind === "request" ? requestFields(outcome) : {};
  const error = errorCodeOf(outcome);
  const signIn = outcome.kind === "signInFailed" ? { reason: outcome.reason } : outcome.kind === "wrongApprover" ? { signedInAs: outcome.signedInAs, approver: outcome.approver } : {};
  return { ...fields, ...signIn, ...(error ? { error } : {}), message };
}
