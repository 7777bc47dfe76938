import { isLinkId, toPublicView, type ApprovalLink, type ApprovalRequest } from "../shared/approvalRequest";
import { composeOutcomeNotice } from "../shared/email";
import { effectiveState, transition, type Answer, type LifecycleEvent, type Transition } from "../shared/lifecycle";
import { describeError, type Logger } from "../shared/logger";
import type { Publish } from "../shared/publisher";
import type { RequestStore } from "../shared/requestStore";
import { isChoice, parseDecisionBody } from "./decisionBody";
import { deliver, type Workflow } from "./delivery";
import { normaliseHttpEvent, wantsJson, type HttpRequest } from "./httpEvent";
import { ALLOWED_METHODS, jsonBodyOf, statusCodeOf, type Outcome } from "./outcome";
import { CONTENT_SECURITY_POLICY, describeOutcome, renderPage } from "./pages";
import { isTransientAwsError } from "./rules";

export interface DecisionDependencies {
  store: RequestStore;
  /** Step Functions: SendTaskSuccess, and the execution history to confirm what it received. */
  workflow: Workflow;
  /** Outcome notices to the approvers. */
  publish: Publish;
  /** The stack's approvers now (config `approverEmails`), lower case: a removed approver's link stops working. */
  approverEmails: string[];
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

const SAFE_METHODS = new Set(["GET", "HEAD"]);
/** Optimistic-lock retries: each loser of a race reads the request again and re-decides. */
const MAX_WRITE_ATTEMPTS = 8;

/** Checks that need nothing from the table; an outcome here means the request goes no further. */
function refuseEarly(http: HttpRequest): Outcome | undefined {
  if (http.linkId === undefined) return { kind: "notFound" };
  if (!SAFE_METHODS.has(http.method) && http.method !== "POST") return { kind: "methodNotAllowed" };
  if (!isLinkId(http.linkId)) return { kind: "notFound" };
  if (http.method !== "POST") return undefined;
  // Browsers label every request: a decision may come from our own page (same-origin), a typed-in or
  // bookmarked request (none), or a client that is no browser (no header); never from another site.
  const fetchSite = http.headers["sec-fetch-site"];
  if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") {
    return { kind: "invalid", statusCode: 403, message: "Decisions are accepted only from the review page itself." };
  }
  if (http.bodyTooLarge) return { kind: "invalid", statusCode: 413, message: "The request body is too large." };
  return undefined;
}

/** What the person's request means for the lifecycle: a view, or a vote; or a 4xx before that. */
function lifecycleEventOf(http: HttpRequest, link: ApprovalLink): LifecycleEvent | Outcome {
  if (SAFE_METHODS.has(http.method)) return { type: "view" };
  const parsed = parseDecisionBody(http);
  if (!parsed.ok) return { kind: "invalid", statusCode: parsed.problem === "unsupportedMediaType" ? 415 : 400, message: parsed.message };
  return {
    type: "vote",
    approver: link.approver,
    decision: parsed.choice === "approve" ? "approved" : "rejected",
    comment: parsed.comment,
    sourceIp: http.sourceIp,
    userAgent: http.headers["user-agent"]?.slice(0, 512),
  };
}

/**
 * Applies one event with the optimistic lock: read, transition, conditional write; the loser of a
 * race reads again. Returns the request as stored afterwards and what the transition asked for.
 */
async function applyEvent(deps: DecisionDependencies, requestRef: string, event: LifecycleEvent): Promise<{ request: ApprovalRequest; step: Transition } | undefined> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const request = await deps.store.get(requestRef);
    if (!request) return undefined;
    const step = transition(request, event, { now: deps.now(), stackApprovers: deps.approverEmails });
    if (!step.next) return { request, step };
    if (await deps.store.save(step.next, request.version)) return { request: step.next, step };
  }
  throw Object.assign(new Error("The request kept changing under concurrent writes."), { name: "ThrottlingException" });
}

/** Performs a transition's effects: delivery (and what it reveals), then outcome notices. */
async function performEffects(deps: DecisionDependencies, request: ApprovalRequest, step: Transition): Promise<{ request: ApprovalRequest; answer?: Answer }> {
  let current = request;
  let answer: Answer | undefined;
  const notices = step.effects.filter((effect) => effect.type === "notifyOutcome");
  for (const effect of step.effects) {
    if (effect.type !== "deliver") continue;
    const report = await deliver(deps.workflow, current, effect.output, deps.logger);
    let delivered: Awaited<ReturnType<typeof applyEvent>>;
    try {
      delivered = await applyEvent(deps, current.id, { type: "delivery", report });
    } catch (error) {
      // The workflow's side is settled; only our record of it failed. Tell the truth from the report: the
      // record stays SETTLING, and the next visit finds the receipt in the history and records it.
      deps.logger.warn("Delivery not recorded; the next visit records it", { requestRef: current.id, report: report.type, ...describeError(error) });
      const told = transition(current, { type: "delivery", report }, { now: deps.now(), stackApprovers: deps.approverEmails });
      return { request: told.next ?? current, answer: told.answer.type === "deliveryPending" ? told.answer : undefined };
    }
    if (!delivered) break;
    current = delivered.request;
    if (delivered.step.answer.type === "deliveryPending") answer = delivered.step.answer;
    notices.push(...delivered.step.effects.filter((next) => next.type === "notifyOutcome"));
    deps.logger.info("Decision delivery", { requestRef: current.id, report: report.type, status: current.status });
  }
  for (const notice of notices) {
    if (notice.type !== "notifyOutcome") continue;
    // The decision stands whether or not the notice goes out; a lost notice is logged, not fatal.
    await deps.publish(composeOutcomeNotice(current, notice.recipients, deps.now())).catch((error) => deps.logger.warn("Outcome notice not sent", { requestRef: current.id, ...describeError(error) }));
  }
  return { request: current, answer };
}

/** Normalise, route, transition, perform: the whole decision endpoint for one HTTP request. */
async function outcomeFor(deps: DecisionDependencies, http: HttpRequest): Promise<Outcome> {
  const refused = refuseEarly(http);
  if (refused) return refused;
  const link = await deps.store.findLink(http.linkId!);
  if (!link) return { kind: "notFound" };
  if (!deps.approverEmails.includes(link.approver)) return { kind: "removedApprover" };
  const event = lifecycleEventOf(http, link);
  if ("kind" in event) return event;

  const applied = await applyEvent(deps, link.requestRef, event);
  if (!applied) return { kind: "notFound" };
  const performed = await performEffects(deps, applied.request, applied.step);
  const request = performed.request;
  return {
    kind: "request",
    request: toPublicView(request),
    approver: link.approver,
    state: effectiveState(request, deps.now()),
    answer: performed.answer ?? applied.step.answer,
    preselected: SAFE_METHODS.has(http.method) && isChoice(http.query.choice) ? http.query.choice : undefined,
  };
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
  const body = asJson ? JSON.stringify(jsonBodyOf(outcome, describeOutcome(outcome, now).lead)) : renderPage(outcome, now);
  return {
    statusCode,
    headers: {
      ...COMMON_HEADERS,
      "Content-Type": asJson ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
      ...(statusCode === 405 ? { Allow: ALLOWED_METHODS } : {}),
      ...(statusCode === 503 ? { "Retry-After": "5" } : {}),
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
    // The requestRef names the request; the link id (a bearer capability) is never logged.
    requestRef: outcome.kind === "request" ? outcome.request.id : undefined,
    gatewayRequestId: http.gatewayRequestId?.slice(0, 64),
    outcome: outcome.kind === "request" ? `${outcome.answer.type}:${outcome.state}` : outcome.kind,
    statusCode: response.statusCode,
    durationMs: Date.now() - started,
  });
  return response;
}
