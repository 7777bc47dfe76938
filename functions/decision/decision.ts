import { isRequestId, toPublicView, type ApprovalOutput, type ApprovalRequest } from "../shared/approvalRequest";
import { describeError, type Logger } from "../shared/logger";
import type { RequestStore } from "../shared/requestStore";
import { isChoice, parseDecisionBody } from "./decisionBody";
import { normaliseHttpEvent, wantsJson, type HttpRequest } from "./httpEvent";
import { ALLOWED_METHODS, jsonBodyOf, statusCodeOf, type Outcome } from "./outcome";
import { CONTENT_SECURITY_POLICY, describeOutcome, renderPage } from "./pages";
import { classifySendTaskError, isTransientAwsError, requestState } from "./rules";

export interface DecisionDependencies {
  store: RequestStore;
  /** Step Functions SendTaskSuccess; the only place the task token is used. */
  sendTaskSuccess(taskToken: string, output: ApprovalOutput): Promise<void>;
  now(): Date;
  logger: Logger;
}

/** The response shape that API Gateway (payload 1.0 and 2.0) and Function URLs all accept. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/**
 * Logs name a request by the first 8 of its 32 id characters: enough to find it
 * in the table, too little to rebuild the link, which is a bearer capability.
 */
export const requestRef = (id: string) => id.slice(0, 8);

const SAFE_METHODS = new Set(["GET", "HEAD"]);

function expiredOrClosed(request: ApprovalRequest, state: "expired" | "closed"): Outcome {
  const view = toPublicView(request);
  return state === "expired" ? { kind: "expired", request: view } : { kind: "closed", request: view, timedOut: request.closedReason === "TaskTimedOut" };
}

/** Answers a GET or HEAD: shows the request as it stands and changes nothing. */
function review(request: ApprovalRequest, http: HttpRequest, now: Date): Outcome {
  const state = requestState(request, now);
  const view = toPublicView(request);
  if (state === "pending") return { kind: "review", request: view, preselected: isChoice(http.query.choice) ? http.query.choice : undefined };
  if (state === "decided") return { kind: "alreadyDecided", request: view, onPost: false };
  return expiredOrClosed(request, state);
}

/** Answers a POST: a single-use, conditional claim, then the callback to the waiting task. */
async function decide(deps: DecisionDependencies, request: ApprovalRequest, http: HttpRequest, now: Date): Promise<Outcome> {
  const parsed = parseDecisionBody(http);
  if (!parsed.ok) return { kind: "invalid", statusCode: parsed.problem === "unsupportedMediaType" ? 415 : 400, message: parsed.message };

  const state = requestState(request, now);
  if (state === "expired" && request.status === "PENDING") {
    await deps.store.close(request.id, "EXPIRED", "LinkExpired", { status: "PENDING" });
  }
  if (state === "decided") return { kind: "alreadyDecided", request: toPublicView(request), onPost: true };
  if (state !== "pending") return expiredOrClosed(request, state);

  const record = {
    decision: parsed.choice === "approve" ? ("approved" as const) : ("rejected" as const),
    decidedAt: now.toISOString(),
    comment: parsed.comment,
    sourceIp: http.sourceIp,
    userAgent: http.headers["user-agent"]?.slice(0, 512),
  };
  const claim = await deps.store.claim(request.id, record, now);
  if (!claim.claimed) {
    // Someone else changed it between our read and our write: answer with what they left.
    if (!claim.current) return { kind: "notFound" };
    const current = requestState(claim.current, now);
    if (current === "decided") return { kind: "alreadyDecided", request: toPublicView(claim.current), onPost: true };
    return expiredOrClosed(claim.current, current === "pending" ? "expired" : current);
  }
  const decided: ApprovalRequest = { ...request, ...record, status: record.decision === "approved" ? "APPROVED" : "REJECTED" };

  try {
    await deps.sendTaskSuccess(request.taskToken, { decision: record.decision, comment: record.comment, decidedAt: record.decidedAt, requestId: request.id });
  } catch (error) {
    const failure = classifySendTaskError(error);
    deps.logger.warn("SendTaskSuccess failed", { requestRef: requestRef(request.id), failure, ...describeError(error) });
    if (failure === "timedOut" || failure === "gone") {
      const reason = failure === "timedOut" ? "TaskTimedOut" : "TaskGone";
      await deps.store.close(request.id, "CLOSED", reason, { status: decided.status, decidedAt: record.decidedAt });
      return { kind: "closed", request: toPublicView({ ...decided, status: "CLOSED", closedReason: reason }), timedOut: failure === "timedOut" };
    }
    await deps.store.releaseClaim(request.id, record.decidedAt);
    return { kind: failure === "transient" ? "unavailable" : "failed" };
  }
  return { kind: "decided", request: toPublicView(decided) };
}

async function outcomeFor(deps: DecisionDependencies, http: HttpRequest): Promise<Outcome> {
  if (http.requestId === undefined) return { kind: "notFound" };
  if (!SAFE_METHODS.has(http.method) && http.method !== "POST") return { kind: "methodNotAllowed" };
  if (!isRequestId(http.requestId)) return { kind: "notFound" };
  if (http.method === "POST") {
    // Browsers label every request: a decision may come from our own page (same-origin), a typed-in or
    // bookmarked request (none), or a client that is no browser (no header); never from another site.
    const fetchSite = http.headers["sec-fetch-site"];
    if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") {
      return { kind: "invalid", statusCode: 403, message: "Decisions are accepted only from the review page itself." };
    }
    if (http.bodyTooLarge) return { kind: "invalid", statusCode: 413, message: "The request body is too large." };
  }
  const request = await deps.store.get(http.requestId);
  if (!request) return { kind: "notFound" };
  const now = deps.now();
  return SAFE_METHODS.has(http.method) ? review(request, http, now) : decide(deps, request, http, now);
}

const COMMON_HEADERS = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Robots-Tag": "noindex, nofollow",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
};

export function toHttpResponse(outcome: Outcome, asJson: boolean, method: string, now: Date): HttpResponse {
  const statusCode = statusCodeOf(outcome);
  const body = asJson ? JSON.stringify(jsonBodyOf(outcome, describeOutcome(outcome).lead)) : renderPage(outcome, now);
  return {
    statusCode,
    headers: {
      ...COMMON_HEADERS,
      "Content-Type": asJson ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
      ...(statusCode === 405 ? { Allow: ALLOWED_METHODS } : {}),
    },
    // HEAD gets GET's status and headers without a body.
    body: method === "HEAD" ? "" : body,
    isBase64Encoded: false,
  };
}

/** The whole decision endpoint: any event in, an HTTP response out; it never throws. */
export async function handleDecisionEvent(deps: DecisionDependencies, event: unknown): Promise<HttpResponse> {
  const started = Date.now();
  const normalised = normaliseHttpEvent(event);
  if (!normalised.ok) {
    deps.logger.warn("Unrecognised event", { outcome: "invalid", reason: normalised.reason, statusCode: 400 });
    return toHttpResponse({ kind: "invalid", statusCode: 400, message: "This endpoint only answers HTTP requests." }, false, "GET", deps.now());
  }
  const http = normalised.request;
  let outcome: Outcome;
  try {
    outcome = await outcomeFor(deps, http);
  } catch (error) {
    deps.logger.error("Decision request failed", describeError(error));
    outcome = { kind: isTransientAwsError(error) ? "unavailable" : "failed" };
  }
  const response = toHttpResponse(outcome, wantsJson(http), http.method, deps.now());
  deps.logger.info("Decision request handled", {
    transport: http.transport,
    method: http.method.slice(0, 16),
    requestRef: http.requestId && isRequestId(http.requestId) ? requestRef(http.requestId) : undefined,
    gatewayRequestId: http.gatewayRequestId?.slice(0, 64),
    outcome: outcome.kind,
    statusCode: response.statusCode,
    durationMs: Date.now() - started,
  });
  return response;
}
