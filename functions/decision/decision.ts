import { normaliseAddress } from "../shared/address";
import { isLinkId, toPublicView, type ApprovalLink } from "../shared/approvalRequest";
import { effectiveState, type LifecycleEvent } from "../shared/lifecycle";
import { describeError } from "../shared/logger";
import { applyEvent, performEffects, type SettleDependencies } from "../shared/settle";
import { isChoice, parseDecisionBody } from "./decisionBody";
import { normaliseHttpEvent, wantsJson, type HttpRequest } from "./httpEvent";
import { ALLOWED_METHODS, jsonBodyOf, statusCodeOf, type Outcome } from "./outcome";
import { CONTENT_SECURITY_POLICY, describeOutcome, renderPage, type PageContext } from "./pages";
import { isTransientAwsError } from "./rules";
import { SignInSecretUnavailableError } from "./signIn/clientSecret";
import { ProviderUnavailableError } from "./signIn/openIdClient";
import type { OpenIdSignIn, VerifiedApprover } from "./signIn/signIn";
import { handleSlackInteraction, type SlackDependencies } from "./slack/route";

export interface DecisionDependencies extends SettleDependencies {
  /** The stack's approvers now (config `approverEmails`), lower case: a removed approver's link stops working. */
  approverEmails: string[];
  /** OpenID Connect sign-in (stack config `signInIssuer`); absent: links alone decide, as without sign-in. */
  signIn?: OpenIdSignIn;
  /** The stack that asks (STACK_LABEL, e.g. "prod"), named on every page. */
  stackLabel?: string;
  /** Slack (stack config `slackSigningSecret` and `slackBotToken`); absent: `/slack/interactions` is 404. */
  slack?: SlackDependencies;
}

/** The response shape that API Gateway (payload 1.0 and 2.0) and Function URLs all accept. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
  /** Set-Cookie values in payload 2.0's shape (HTTP API, Function URL). */
  cookies?: string[];
  /** Set-Cookie values in payload 1.0's shape (REST API), which allows one value per name in `headers`. */
  multiValueHeaders?: Record<string, string[]>;
}

/** An outcome, and the cookies that go with it (sign-in only). */
interface Reply {
  outcome: Outcome;
  cookies?: string[];
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

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
function lifecycleEventOf(http: HttpRequest, link: ApprovalLink, signedIn?: VerifiedApprover): LifecycleEvent | Outcome {
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
    ...(signedIn ? { verifiedBy: signedIn.issuer } : {}),
  };
}

// Both sides are in their one normalised form (functions/shared/address.ts); anything else never matches.
const sameAddress = (a: string, b: string) => normaliseAddress(a) !== undefined && normaliseAddress(a) === normaliseAddress(b);
const linkUrlOf = (http: HttpRequest, linkId: string) => `${http.publicBaseUrl}/requests/${linkId}`;

/**
 * With sign-in, a link opens only with a session for that link, made when its approver signed in.
 * Without one, a browser goes to the provider (a scanner ends on its login page; a POST records
 * nothing) and a script is told that sign-in is needed.
 */
async function signInGate(signIn: OpenIdSignIn, http: HttpRequest, link: ApprovalLink, now: Date): Promise<{ signedIn: VerifiedApprover } | { reply: Reply }> {
  const linkId = http.linkId!;
  const session = await signIn.session(http, linkId, now);
  if (session && sameAddress(session.email, link.approver)) return { signedIn: session };
  if (wantsJson(http)) return { reply: { outcome: { kind: "signInRequired" } } };
  const choice = isChoice(http.query.choice) ? http.query.choice : undefined;
  // "Sign in as <approver>" from the wrong-account page asks the provider for the credentials again.
  const login = await signIn.beginLogin(http, linkId, { choice, prompt: http.query.signIn === "again" ? "login" : undefined }, now);
  return { reply: { outcome: { kind: "redirect", location: login.location, afterPost: http.method === "POST" }, cookies: login.cookies } };
}

/** `GET /auth/callback`: the provider's redirect back. Matches the approver, then back to the link with a session. */
async function signInCallback(deps: DecisionDependencies, signIn: OpenIdSignIn, http: HttpRequest): Promise<Reply> {
  if (http.method !== "GET") return { outcome: { kind: "methodNotAllowed", allow: "GET" } };
  const now = deps.now();
  const result = await signIn.completeLogin(http, now);
  if (result.type === "failed") {
    deps.logger.warn("Sign-in refused", { reason: result.reason, detail: result.detail });
    return { outcome: { kind: "signInFailed", reason: result.reason, signedInAs: result.signedInAs }, cookies: result.cookies };
  }
  const link = await deps.store.findLink(result.linkId);
  if (!link) return { outcome: { kind: "notFound" }, cookies: result.cookies };
  if (!deps.approverEmails.includes(link.approver)) return { outcome: { kind: "removedApprover" }, cookies: result.cookies };
  const linkUrl = linkUrlOf(http, result.linkId);
  if (!sameAddress(result.approver.email, link.approver)) {
    // Someone else's link: no session, nothing shown, nothing recorded.
    deps.logger.warn("Sign-in by someone who is not the link's approver", { requestRef: link.requestRef, signedInAs: result.approver.email.slice(0, 320), approver: link.approver });
    return { outcome: { kind: "wrongApprover", signedInAs: result.approver.email, approver: link.approver, retryUrl: `${linkUrl}?signIn=again` }, cookies: result.cookies };
  }
  const session = await signIn.sessionCookie(result.linkId, result.approver, now);
  const location = result.choice && isChoice(result.choice) ? `${linkUrl}?choice=${result.choice}` : linkUrl;
  return { outcome: { kind: "redirect", location, afterPost: false }, cookies: [...result.cookies, session] };
}

/** Normalise, route, (sign in,) transition, perform: the whole decision endpoint for one HTTP request. */
async function outcomeFor(deps: DecisionDependencies, http: HttpRequest): Promise<Reply> {
  if (http.signInCallback && deps.signIn) return signInCallback(deps, deps.signIn, http);
  const refused = refuseEarly(http);
  if (refused) return { outcome: refused };
  const link = await deps.store.findLink(http.linkId!);
  if (!link) return { outcome: { kind: "notFound" } };
  if (!deps.approverEmails.includes(link.approver)) return { outcome: { kind: "removedApprover" } };
  let signedIn: VerifiedApprover | undefined;
  if (deps.signIn) {
    const gate = await signInGate(deps.signIn, http, link, deps.now());
    if ("reply" in gate) return gate.reply;
    signedIn = gate.signedIn;
  }
  const event = lifecycleEventOf(http, link, signedIn);
  if ("kind" in event) return { outcome: event };

  const applied = await applyEvent(deps, link.requestRef, event);
  if (!applied) return { outcome: { kind: "notFound" } };
  const performed = await performEffects(deps, applied.request, applied.step);
  const request = performed.request;
  return {
    outcome: {
      kind: "request",
      request: toPublicView(request),
      approver: link.approver,
      state: effectiveState(request, deps.now()),
      answer: performed.answer ?? applied.step.answer,
      preselected: SAFE_METHODS.has(http.method) && isChoice(http.query.choice) ? http.query.choice : undefined,
      ...(event.type === "vote" ? { attempted: { decision: event.decision, comment: event.comment } } : {}),
      ...(signedIn ? { signedIn } : {}),
    },
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

export function toHttpResponse(outcome: Outcome, asJson: boolean, method: string, now: Date, page: PageContext = {}): HttpResponse {
  const statusCode = statusCodeOf(outcome);
  const body = asJson ? JSON.stringify(jsonBodyOf(outcome, describeOutcome(outcome, now).lead)) : renderPage(outcome, now, page);
  return {
    statusCode,
    headers: {
      ...COMMON_HEADERS,
      "Content-Type": asJson ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
      ...(statusCode === 405 ? { Allow: outcome.kind === "methodNotAllowed" && outcome.allow ? outcome.allow : ALLOWED_METHODS } : {}),
      ...(statusCode === 503 ? { "Retry-After": outcome.kind === "signInUnavailable" ? "30" : "5" } : {}),
      ...(outcome.kind === "redirect" ? { Location: outcome.location } : {}),
    },
    // HEAD gets GET's status and headers without a body.
    body: method === "HEAD" ? "" : body,
    isBase64Encoded: false,
  };
}

/** Each payload format's own way of setting several cookies. */
function withCookies(response: HttpResponse, cookies: string[] | undefined, transport: HttpRequest["transport"]): HttpResponse {
  if (!cookies || cookies.length === 0) return response;
  return transport === "restApi" ? { ...response, multiValueHeaders: { "Set-Cookie": cookies } } : { ...response, cookies };
}

/** The whole decision endpoint: any event in, an HTTP response out; it never throws. */
export async function handleDecisionEvent(deps: DecisionDependencies, event: unknown): Promise<HttpResponse> {
  const started = Date.now();
  const normalised = normaliseHttpEvent(event);
  if (!normalised.ok) {
    deps.logger.warn("Unrecognised event", { outcome: "invalid", reason: normalised.reason, statusCode: 400 });
    return toHttpResponse({ kind: "invalid", statusCode: 400, message: "This endpoint only answers HTTP requests." }, false, "GET", deps.now(), deps);
  }
  const http = normalised.request;
  if (http.slackInteractions && deps.slack) return handleSlackInteraction(deps, deps.slack, http);
  let outcome: Outcome;
  let cookies: string[] | undefined;
  try {
    ({ outcome, cookies } = await outcomeFor(deps, http));
  } catch (error) {
    deps.logger.error("Decision request failed", describeError(error));
    const signInDown = error instanceof ProviderUnavailableError || error instanceof SignInSecretUnavailableError;
    outcome = { kind: signInDown ? "signInUnavailable" : isTransientAwsError(error) ? "unavailable" : "failed" };
  }
  const response = withCookies(toHttpResponse(outcome, wantsJson(http), http.method, deps.now(), deps), cookies, http.transport);
  deps.logger.info("Decision request handled", {
    transport: http.transport,
    method: http.method.slice(0, 16),
    // The requestRef names the request; the link id (a bearer capability) is never logged.
    requestRef: outcome.kind === "request" ? outcome.request.id : undefined,
    gatewayRequestId: http.gatewayRequestId?.slice(0, 64),
    outcome: outcome.kind === "request" ? `${outcome.answer.type}:${outcome.state}` : outcome.kind,
    ...(outcome.kind === "signInFailed" ? { signInFailure: outcome.reason } : {}),
    ...(deps.signIn && outcome.kind === "request" ? { verifiedBy: outcome.signedIn?.issuer } : {}),
    statusCode: response.statusCode,
    durationMs: Date.now() - started,
  });
  return response;
}
