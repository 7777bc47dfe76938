import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { REQUEST_ROUTE, type DecisionEndpointFactory } from "./decisionEndpoint";

/**
 * API Gateway HTTP API: routes `GET|HEAD|POST /requests/{id}` to the function
 * with payload format 2.0 (the provider's default is 1.0), on an auto-deployed
 * `$default` stage with throttling.
 */
export const createHttpApiEndpoint: DecisionEndpointFactory = (name, { decisionFunction, throttle }, parent) => {
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
  for (const method of REQUEST_ROUTE.methods) {
    new aws.apigatewayv2.Route(`${name}-${method.toLowerCase()}`, {
      apiId: api.id,
      routeKey: `${method} ${REQUEST_ROUTE.path}`,
      target: pulumi.interpolate`integrations/${integration.id}`,
    }, opts);
  }
  new aws.apigatewayv2.Stage(`${name}-stage`, {
    apiId: api.id,
    name: "$default",
    autoDeploy: true,
    defaultRouteSettings: { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit },
  }, opts);
  new aws.lambda.Permission(`${name}-invoke`, {
    action: "lambda:InvokeFunction",
    function: decisionFunction.name,
    principal: "apigateway.amazonaws.com",
    sourceArn: pulumi.interpolate`${api.executionArn}/*/*/requests/*`,
  }, opts);

  return { callbackUrl: api.apiEndpoint.apply((url) => url.replace(/\/+$/, "")) };
};
