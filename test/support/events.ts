/**
 * Real event shapes of the three transports, typed by @types/aws-lambda, as
 * API Gateway and Lambda Function URLs deliver them to the decision function.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, LambdaFunctionURLEvent } from "aws-lambda";
import type { Transport } from "../../functions/decision/httpEvent";

export interface HttpCall {
  method: string;
  /** Path after the stage, e.g. `/requests/abc`. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  /** Send the body base64-encoded, as the gateways do for binary or form content. */
  base64?: boolean;
  sourceIp?: string;
}

const ACCOUNT = "123456789012";
const time = "22/Nov/2026:10:00:00 +0000";

function encodedBody(call: HttpCall): { body: string | undefined; isBase64Encoded: boolean } {
  if (call.body === undefined) return { body: undefined, isBase64Encoded: false };
  return call.base64 ? { body: Buffer.from(call.body, "utf8").toString("base64"), isBase64Encoded: true } : { body: call.body, isBase64Encoded: false };
}

function restApiEvent(call: HttpCall): APIGatewayProxyEvent {
  const id = /\/requests\/([^/]+)$/.exec(call.path)?.[1];
  const { body, isBase64Encoded } = encodedBody(call);
  const headers: Record<string, string> = { Host: "abc123.execute-api.eu-west-1.amazonaws.com", ...call.headers };
  return {
    resource: "/requests/{id}",
    path: call.path,
    httpMethod: call.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: call.query ?? null,
    multiValueQueryStringParameters: call.query ? Object.fromEntries(Object.entries(call.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: id ? { id } : null,
    stageVariables: null,
    body: body ?? null,
    isBase64Encoded,
    requestContext: {
      accountId: ACCOUNT,
      apiId: "abc123",
      authorizer: null,
      protocol: "HTTP/1.1",
      httpMethod: call.method,
      identity: {
        accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
        cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null,
        cognitoIdentityPoolId: null, principalOrgId: null, sourceIp: call.sourceIp ?? "203.0.113.7", user: null,
        userAgent: headers["User-Agent"] ?? null, userArn: null,
      },
      path: `/prod${call.path}`,
      stage: "prod",
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      requestTimeEpoch: 1_795_000_000_000,
      resourceId: "r1",
      resourcePath: "/requests/{id}",
    },
  };
}

function v2Event(call: HttpCall, routeKey: string, domainName: string, pathParameters: Record<string, string> | undefined): APIGatewayProxyEventV2 {
  const { body, isBase64Encoded } = encodedBody(call);
  const rawQueryString = new URLSearchParams(call.query ?? {}).toString();
  const headers = Object.fromEntries(Object.entries({ host: domainName, ...call.headers }).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    version: "2.0",
    routeKey,
    rawPath: call.path,
    rawQueryString,
    headers,
    queryStringParameters: call.query,
    pathParameters,
    body,
    isBase64Encoded,
    requestContext: {
      accountId: ACCOUNT,
      apiId: domainName.split(".")[0],
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: { method: call.method, path: call.path, protocol: "HTTP/1.1", sourceIp: call.sourceIp ?? "203.0.113.7", userAgent: headers["user-agent"] ?? "" },
      requestId: "JKJaXmPLvHcESHA=",
      routeKey,
      stage: "$default",
      time,
      timeEpoch: 1_795_000_000_000,
    },
  };
}

function httpApiEvent(call: HttpCall): APIGatewayProxyEventV2 {
  const id = /\/requests\/([^/]+)$/.exec(call.path)?.[1];
  return v2Event(call, `${call.method} /requests/{id}`, "xyz789.execute-api.eu-west-1.amazonaws.com", id ? { id } : undefined);
}

function functionUrlEvent(call: HttpCall): LambdaFunctionURLEvent {
  return v2Event(call, "$default", "a1b2c3d4e5f6g7h8.lambda-url.eu-west-1.on.aws", undefined) as LambdaFunctionURLEvent;
}

export const EVENT_BUILDERS: Record<Transport, (call: HttpCall) => unknown> = {
  restApi: restApiEvent,
  httpApi: httpApiEvent,
  functionUrl: functionUrlEvent,
};

export const ALL_TRANSPORTS = Object.keys(EVENT_BUILDERS) as Transport[];

/** A browser's form post from the review page itself. */
export function formPost(path: string, fields: Record<string, string>, extraHeaders: Record<string, string> = {}): HttpCall {
  return {
    method: "POST",
    path,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html,application/xhtml+xml", "Sec-Fetch-Site": "same-origin", "User-Agent": "Mozilla/5.0 test", ...extraHeaders },
    body: new URLSearchParams(fields).toString(),
    base64: true,
  };
}

export function jsonPost(path: string, body: unknown): HttpCall {
  return { method: "POST", path, headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) };
}
