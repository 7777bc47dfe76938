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

/** The route every transport serves, and its methods: GET/HEAD show the page, POST decides. */
export const REQUEST_ROUTE = { path: "/requests/{id}", methods: ["GET", "HEAD", "POST"] } as const;
