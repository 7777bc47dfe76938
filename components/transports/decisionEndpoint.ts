import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { ServerErrorMetric } from "../alarms";

/** What every transport is given: the decision function, and the limits for a public endpoint. */
export interface DecisionEndpointArgs {
  decisionFunction: aws.lambda.Function;
  /** Requests per second and burst, for transports that can throttle. */
  throttle: { rateLimit: pulumi.Input<number>; burstLimit: pulumi.Input<number> };
  /** The routes to serve; default DECISION_ROUTES (Slack adds its own when it is on). */
  routes?: readonly DecisionRoute[];
}

/** What every transport gives back. */
export interface DecisionEndpoint {
  /** Public base URL, without a trailing slash; request links are `<callbackUrl>/requests/<id>`. */
  callbackUrl: pulumi.Output<string>;
  /** The metric counting the endpoint's 5xx answers, for the alarms; none where the transport has none (a Function URL). */
  serverErrors?: ServerErrorMetric;
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
 * The logical name and options of one of a route's resources: `<name>-<route>-<resource>`. The review links'
 * route was once the only one and its resources were named `<name>-<resource>`; an alias keeps existing
 * stacks' resources (updated in place, never replaced).
 */
export function routeResource(name: string, route: DecisionRoute, resource: string, parent: pulumi.Resource): [string, pulumi.CustomResourceOptions] {
  const logicalName = `${name}-${route.name}-${resource}`;
  return [logicalName, route === REQUEST_ROUTE ? { parent, aliases: [{ name: `${name}-${resource}` }] } : { parent }];
}

/** The route as an execute-api source ARN suffix: `<method or *>/<path with * for parameters>`, for invoke permissions. */
export function routeSourceArnSuffix(route: DecisionRoute): string {
  return `${route.methods.length === 1 ? route.methods[0] : "*"}${route.path.replace(/\{[^}]+\}/g, "*")}`;
}
