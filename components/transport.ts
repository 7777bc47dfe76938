/**
 * How approvers' clicks reach the decision function: the component's `transport` argument. An `as const`
 * object and its type, not a bare string-literal union, so that Pulumi's schema inference makes it an enum
 * in every language. The values are the functions' own transport names (functions/decision/httpEvent.ts
 * `TRANSPORTS`; test/infrastructure/packageSchema.test.ts checks they are the same). Kept out of functions/ so
 * the Lambda bundles do not change.
 */
export const Transport = {
  /** API Gateway REST API (payload 1.0), throttled by `apiThrottle`. */
  RestApi: "restApi",
  /** API Gateway HTTP API (payload 2.0), throttled by `apiThrottle`. */
  HttpApi: "httpApi",
  /** A Lambda Function URL with auth NONE; `decisionReservedConcurrency` caps what a flood can cost. */
  FunctionUrl: "functionUrl",
} as const;
export type Transport = (typeof Transport)[keyof typeof Transport];
