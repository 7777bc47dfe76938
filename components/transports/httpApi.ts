import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DECISION_ROUTES, routeResource, routeSourceArnSuffix, type DecisionEndpointFactory } from "./decisionEndpoint";

/**
 * API Gateway HTTP API: routes `GET|HEAD|POST /requests/{id}` and `GET /auth/callback` to the function
 * with payload format 2.0 (the provider's default is 1.0), on an auto-deployed
 * `$default` stage with throttling.
 */
export const createHttpApiEndpoint: DecisionEndpointFactory = (name, { decisionFunction, throttle, routes = DECISION_ROUTES }, parent) => {
  const opts = { parent };
  const api = new aws.apigatewayv2.Api(`${name}-http-api`, {
    protocolType: "HTTP",
    description: "Human approval: review pages and decisions",
  }, opts);
  const integration = new aws.apigatewayv2.Integration(`${name}-integration`, {
    apiId: api.id,
    integrationType: "AWS_PROXY",
    integrationUri: decisionFunction.arn,
    integrationMethod: "POST",
    payloadFormatVersion: "2.0",
  }, opts);
  for (const route of routes) {
    for (const method of route.methods) {
      const [routeName, routeOpts] = routeResource(name, route, method.toLowerCase(), parent);
      new aws.apigatewayv2.Route(routeName, {
        apiId: api.id,
        routeKey: `${method} ${route.path}`,
        target: pulumi.interpolate`integrations/${integration.id}`,
      }, routeOpts);
    }
  }
  new aws.apigatewayv2.Stage(`${name}-stage`, {
    apiId: api.id,
    name: "$default",
    autoDeploy: true,
    defaultRouteSettings: { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit },
  }, opts);
  // This API, each route only (any stage).
  for (const route of routes) {
    const [permissionName, permissionOpts] = routeResource(name, route, "invoke", parent);
    new aws.lambda.Permission(permissionName, {
      action: "lambda:InvokeFunction",
      function: decisionFunction.name,
      principal: "apigateway.amazonaws.com",
      sourceArn: pulumi.interpolate`${api.executionArn}/*/${routeSourceArnSuffix(route)}`,
    }, permissionOpts);
  }

  return {
    callbackUrl: api.apiEndpoint.apply((url) => url.replace(/\/+$/, "")),
    serverErrors: { kind: "HTTP API", metricName: "5xx", dimensions: { ApiId: api.id } },
  };
};
