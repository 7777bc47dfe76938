import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** What every transport is given: the decision function, and the limits for a public endpoint. */
export interface DecisionEndpointArgs {
  decisionFunction: aws.lambda.Function;
  /** Requests per second and burst, for transports that can throttle. */
  throttle: { rateLimit: number; burstLimit: number };
}

/** What every transport gives back. */
export interface DecisionEndpoint {
  /** Public base URL, without a trailing slash; request links are `<callbackUrl>/requests/<id>`. */
  callbackUrl: pulumi.Output<string>;
}

/**
 * A transport creates, under `parent`, whatever makes the decision function
 * reachable over HTTPS and may invoke it, and returns its base URL.
 */
export type DecisionEndpointFactory = (name: string, args: DecisionEndpointArgs, parent: pulumi.Resource) => DecisionEndpoint;

/** One route of the decision endpoint: what a gateway must send to the decision function. */
export interface DecisionRoute {
  /** Names the route's own resources (methods, integrations, permissions). */
  name: string;
  /** `{name}` is a path parameter. */
  path: string;
  methods: readonly string[];
}

/**
 * Every route every transport serves, all to the decision function; adding a route is one line here.
 * The sign-in callback is always routed: with sign-in off the function answers it 404, so turning
 * sign-in on or off changes the function's settings, never the endpoint.
 */
export const DECISION_ROUTES: readonly DecisionRoute[] = [
  // Review links: GET/HEAD show the page, POST decides.
  { name: "request", path: "/requests/{id}", methods: ["GET", "HEAD", "POST"] },
  // Sign-in: the OpenID provider redirects the approver back here (redirect URI `<callbackUrl>/auth/callback`).
  { name: "sign-in-callback", path: "/auth/callback", methods: ["GET"] },
];

/** The review links' route. */
export const REQUEST_ROUTE = DECISION_ROUTES[0];

/**
 * The logical name of one of a route's resources. The review links' route keeps the names it had
 * before routes were a list, so existing stacks update in place instead of replacing their routes.
 */
export function routeResourceName(name: string, route: DecisionRoute, resource: string): string {
  return route === REQUEST_ROUTE ? `${name}-${resource}` : `${name}-${route.name}-${resource}`;
}

/** The route as an execute-api source ARN suffix: `<method or *>/<path with * for parameters>`, for invoke permissions. */
export function routeSourceArnSuffix(route: DecisionRoute): string {
  return `${route.methods.length === 1 ? route.methods[0] : "*"}${route.path.replace(/\{[^}]+\}/g, "*")}`;
}
