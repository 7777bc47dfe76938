/**
 * Builds the event each transport delivers to the decision function, from a
 * plain HTTP request: API Gateway REST proxy (payload 1.0), HTTP API (payload
 * 2.0) and Function URL (2.0 with `$default`). Used by the local gateway and by
 * the tests, so both exercise the same shapes, typed by @types/aws-lambda.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, LambdaFunctionURLEvent } from "aws-lambda";
import { randomUUID } from "node:crypto";
import type { Transport } from "../functions/decision/httpEvent";

export interface PlainHttpRequest {
  method: string;
  /** Path after any stage prefix, e.g. `/requests/abc`. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Force base64 on or off; by default each transport's own rule applies. */
  base64?: boolean;
  sourceIp?: string;
}

export const REST_API_STAGE_PATH = "/approvals";
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const TEXT_TYPES = /^(text\/|application\/(json|javascript|xml))/i;

/** HTTP APIs and Function URLs base64-encode any body that is not text; REST APIs (without binary media types) never do. */
function encodeBody(transport: Transport, request: PlainHttpRequest, contentType: string) {
  if (request.body === undefined || request.body.length === 0) return { body: undefined, isBase64Encoded: false };
  const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, "utf8");
  const base64 = request.base64 ?? (transport !== "restApi" && !TEXT_TYPES.test(contentType));
  return base64 ? { body: bytes.toString("base64"), isBase64Encoded: true } : { body: bytes.toString("utf8"), isBase64Encoded: false };
}

const requestIdOf = (path: string) => /\/requests\/([^/]+)$/.exec(path)?.[1];
/** The route a path matches, as the gateways name it: the review link, the sign-in callback, or Slack's interactions. */
const routeOf = (path: string) => (/^\/auth\/callback\/?$/.test(path) ? "/auth/callback" : /^\/slack\/interactions\/?$/.test(path) ? "/slack/interactions" : "/requests/{id}");
/** The host the request was sent to (the local gateway's own), else the transport's fake domain. */
const hostIn = (headers: Record<string, string> | undefined) => Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === "host")?.[1];

function restApiEvent(request: PlainHttpRequest): APIGatewayProxyEvent {
  const domainName = hostIn(request.headers) ?? `abc123.execute-api.${REGION}.amazonaws.com`;
  const headers: Record<string, string> = { ...(hostIn(request.headers) ? {} : { Host: domainName }), ...request.headers };
  const contentType = Object.entries(headers).find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
  const id = requestIdOf(request.path);
  const query = request.query && Object.keys(request.query).length > 0 ? request.query : null;
  const encoded = encodeBody("restApi", request, contentType);
  const userAgent = Object.entries(headers).find(([name]) => name.toLowerCase() === "user-agent")?.[1] ?? null;
  return {
    resource: routeOf(request.path),
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]])) : null,
    pathParameters: id ? { id } : null,
    stageVariables: null,
    body: encoded.body ?? null,
    isBase64Encoded: encoded.isBase64Encoded,
    requestContext: {
      accountId: ACCOUNT,
      apiId: "abc123",
      authorizer: null,
      protocol: "HTTP/1.1",
      httpMethod: request.method,
      identity: {
        accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
        cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: request.sourceIp ?? "203.0.113.7", user: null,
        userAgent, userArn: null,
      },
      path: `${REST_API_STAGE_PATH}${request.path}`,
      domainName,
      stage: REST_API_STAGE_PATH.slice(1),
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: "r1",
      resourcePath: routeOf(request.path),
    },
  };
}

function payloadV2Event(transport: "httpApi" | "functionUrl", request: PlainHttpRequest): APIGatewayProxyEventV2 {
  const domainName = hostIn(request.headers) ?? (transport === "functionUrl" ? `a1b2c3d4e5f6g7h8.lambda-url.${REGION}.on.aws` : `xyz789.execute-api.${REGION}.amazonaws.com`);
  const headers = Object.fromEntries(Object.entries({ host: domainName, ...request.headers }).map(([name, value]) => [name.toLowerCase(), value]));
  // Payload 2.0 takes cookies out of the headers and passes them as an array.
  const cookies = headers.cookie ? headers.cookie.split(/;\s*/).filter(Boolean) : undefined;
  delete headers.cookie;
  const id = requestIdOf(request.path);
  // Function URLs have one route and no path parameters; our HTTP API routes are explicit.
  const routeKey = transport === "functionUrl" ? "$default" : `${request.method} ${routeOf(request.path)}`;
  return {
    version: "2.0",
    routeKey,
    rawPath: request.path,
    rawQueryString: new URLSearchParams(request.query ?? {}).toString(),
    ...(cookies ? { cookies } : {}),
    headers,
    queryStringParameters: request.query && Object.keys(request.query).length > 0 ? request.query : undefined,
    pathParameters: transport === "httpApi" && id ? { id } : undefined,
    ...encodeBody(transport, request, headers["content-type"] ?? ""),
    requestContext: {
      accountId: ACCOUNT,
      apiId: domainName.split(".")[0],
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: { method: request.method, path: request.path, protocol: "HTTP/1.1", sourceIp: request.sourceIp ?? "203.0.113.7", userAgent: headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

export const TRANSPORT_EVENTS: Record<Transport, (request: PlainHttpRequest) => APIGatewayProxyEvent | APIGatewayProxyEventV2 | LambdaFunctionURLEvent> = {
  restApi: restApiEvent,
  httpApi: (request) => payloadV2Event("httpApi", request),
  functionUrl: (request) => payloadV2Event("functionUrl", request) as LambdaFunctionURLEvent,
};
