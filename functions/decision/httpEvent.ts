/**
 * Turns the three transports' event shapes into one request the decision logic
 * understands. Every field is read defensively: events come from the internet.
 *
 * - restApi:     API Gateway REST proxy integration, payload 1.0 (`httpMethod`, `path`, `pathParameters`)
 * - httpApi:     API Gateway HTTP API, payload 2.0 (`requestContext.http.method`, `rawPath`, `rawQueryString`)
 * - functionUrl: Lambda Function URL, the 2.0 shape with `routeKey: "$default"` and no path parameters
 */
export type Transport = "restApi" | "httpApi" | "functionUrl";
export const TRANSPORTS: readonly Transport[] = ["restApi", "httpApi", "functionUrl"];

export interface HttpRequest {
  transport: Transport;
  method: string;
  path: string;
  /** The `{id}` path segment as sent; not yet validated. Undefined when the path is not `/requests/{id}`. */
  linkId?: string;
  /** The path is the sign-in callback, `/auth/callback` (only answered when sign-in is on). */
  signInCallback: boolean;
  /** The path is Slack's interactivity endpoint, `/slack/interactions` (only answered when Slack is on). */
  slackInteractions?: boolean;
  /**
   * The endpoint's public base URL as the client reached it, e.g. `https://<api>.execute-api.<region>.amazonaws.com/approvals`:
   * the host the gateway names (`requestContext.domainName`) and any stage prefix; what `callbackUrl` is.
   * https, except on loopback (the local mode).
   */
  publicBaseUrl: string;
  query: Record<string, string>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** `Cookie` header values (payload 1.0) or the `cookies` array (payload 2.0), as sent. */
  cookies: string[];
  /** Decoded body; empty when there is none or it was too large. */
  body: string;
  bodyTooLarge: boolean;
  sourceIp?: string;
  gatewayRequestId?: string;
}

export type NormalisedEvent = { ok: true; request: HttpRequest } | { ok: false; reason: string };

/** A decision form or JSON body is a few hundred bytes; anything far larger is not ours. */
export const MAX_BODY_BYTES = 16 * 1024;
const REQUEST_PATH = /\/requests\/([^/]*)\/?$/;
const SIGN_IN_CALLBACK_PATH = /\/auth\/callback\/?$/;
const SLACK_INTERACTIONS_PATH = /\/slack\/interactions\/?$/;
/** Slack's interaction payloads echo the whole message (blocks and all): far larger than a decision form. */
export const MAX_SLACK_BODY_BYTES = 256 * 1024;
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const asString = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

function stringRecord(value: unknown, lowerCaseKeys: boolean): Record<string, string> {
  const record: Record<string, string> = Object.create(null);
  if (!isObject(value)) return record;
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === "string") record[lowerCaseKeys ? key.toLowerCase() : key] = entry;
  }
  return record;
}

function queryFromRawString(raw: string | undefined): Record<string, string> {
  const record: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw ?? "")) record[key] = value;
  return record;
}

function decodeBody(event: Json, path: string): { body: string; bodyTooLarge: boolean } {
  const raw = asString(event.body);
  if (!raw) return { body: "", bodyTooLarge: false };
  const bytes = event.isBase64Encoded === true ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.length > (SLACK_INTERACTIONS_PATH.test(path) ? MAX_SLACK_BODY_BYTES : MAX_BODY_BYTES)) return { body: "", bodyTooLarge: true };
  return { body: bytes.toString("utf8"), bodyTooLarge: false };
}

function linkIdFrom(path: string, pathParameters: unknown): string | undefined {
  const fromParameters = isObject(pathParameters) ? asString(pathParameters.id) : undefined;
  return fromParameters ?? REQUEST_PATH.exec(path)?.[1];
}

/** Where this route's part of the path starts in the path the client sent: what is before it is the stage prefix. */
function routeStart(clientPath: string): number | undefined {
  return REQUEST_PATH.exec(clientPath)?.index ?? SIGN_IN_CALLBACK_PATH.exec(clientPath)?.index;
}

/** The endpoint's base URL: the gateway's own name for the host (the Host header only if it gives none) and the stage prefix. */
function publicBaseUrlOf(context: Json, headers: Record<string, string>, clientPath: string): string {
  const host = (asString(context.domainName) ?? headers.host ?? "").toLowerCase();
  const safeHost = /^[a-z0-9.-]+(:\d+)?$|^\[::1\](:\d+)?$/.test(host) ? host : "invalid.host";
  const start = routeStart(clientPath);
  const prefix = start === undefined ? "" : clientPath.slice(0, start);
  const safePrefix = /^(\/[A-Za-z0-9._~-]+)*$/.test(prefix) ? prefix : "";
  return `${LOOPBACK_HOST.test(safeHost) ? "http" : "https"}://${safeHost}${safePrefix}`;
}

function fromPayloadV1(event: Json): HttpRequest {
  const path = asString(event.path) ?? "/";
  const context = isObject(event.requestContext) ? event.requestContext : {};
  const identity = isObject(context.identity) ? context.identity : {};
  const headers = stringRecord(event.headers, true);
  return {
    transport: "restApi",
    method: (asString(event.httpMethod) ?? "").toUpperCase(),
    path,
    linkId: linkIdFrom(path, event.pathParameters),
    signInCallback: SIGN_IN_CALLBACK_PATH.test(path),
    slackInteractions: SLACK_INTERACTIONS_PATH.test(path),
    // requestContext.path is what the client asked for, the stage (or custom domain base path) included.
    publicBaseUrl: publicBaseUrlOf(context, headers, asString(context.path) ?? path),
    query: stringRecord(event.queryStringParameters, false),
    headers,
    cookies: headers.cookie ? [headers.cookie] : [],
    ...decodeBody(event, path),
    sourceIp: asString(identity.sourceIp),
    gatewayRequestId: asString(context.requestId),
  };
}

function fromPayloadV2(event: Json, http: Json): HttpRequest {
  const context = event.requestContext as Json;
  const path = asString(event.rawPath) ?? asString(http.path) ?? "/";
  const headers = stringRecord(event.headers, true);
  // Payload 2.0 moves cookies out of the headers into an array.
  const cookies = Array.isArray(event.cookies) ? event.cookies.filter((cookie): cookie is string => typeof cookie === "string") : [];
  return {
    // Function URLs always carry the `$default` route key; our HTTP API routes are explicit.
    transport: event.routeKey === "$default" ? "functionUrl" : "httpApi",
    method: (asString(http.method) ?? "").toUpperCase(),
    path,
    linkId: linkIdFrom(path, event.pathParameters),
    signInCallback: SIGN_IN_CALLBACK_PATH.test(path),
    slackInteractions: SLACK_INTERACTIONS_PATH.test(path),
    publicBaseUrl: publicBaseUrlOf(context, headers, path),
    query: queryFromRawString(asString(event.rawQueryString)),
    headers,
    cookies: cookies.length > 0 ? cookies : headers.cookie ? [headers.cookie] : [],
    ...decodeBody(event, path),
    sourceIp: asString(http.sourceIp),
    gatewayRequestId: asString(context.requestId),
  };
}

export function normaliseHttpEvent(event: unknown): NormalisedEvent {
  if (!isObject(event)) return { ok: false, reason: "not an HTTP event" };
  if (typeof event.httpMethod === "string") return { ok: true, request: fromPayloadV1(event) };
  const context = event.requestContext;
  if (event.version === "2.0" && isObject(context) && isObject(context.http)) {
    return { ok: true, request: fromPayloadV2(event, context.http) };
  }
  return { ok: false, reason: "not an API Gateway or Function URL event" };
}

/** Media type without parameters, lower-cased: "application/json; charset=utf-8" -> "application/json". */
export function mediaType(headers: Record<string, string>, name: "content-type"): string {
  return (headers[name] ?? "").split(";")[0].trim().toLowerCase();
}

/** Scripts and chat bots ask for JSON; browsers ask for HTML first. */
export function wantsJson(request: HttpRequest): boolean {
  const accept = (request.headers.accept ?? "").toLowerCase();
  return accept.includes("application/json") && !accept.includes("text/html");
}
