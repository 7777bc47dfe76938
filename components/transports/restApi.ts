import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { REQUEST_ROUTE, type DecisionEndpointFactory } from "./decisionEndpoint";

export const REST_API_STAGE = "approvals";

/**
 * API Gateway REST API: `/requests/{id}` with GET, HEAD and POST, Lambda proxy
 * integration (payload 1.0), a stage with throttling and no data tracing.
 * No `aws.apigateway.Account`: it is account-wide and belongs to no one stack.
 */
export const createRestApiEndpoint: DecisionEndpointFactory = (name, { decisionFunction, throttle }, parent) => {
  const opts = { parent };
  const api = new aws.apigateway.RestApi(`${name}-rest-api`, {
    description: "Human approval: review pages and decisions",
    endpointConfiguration: { types: "REGIONAL" },
  }, opts);
  const requests = new aws.apigateway.Resource(`${name}-requests`, { restApi: api.id, parentId: api.rootResourceId, pathPart: "requests" }, opts);
  const request = new aws.apigateway.Resource(`${name}-request`, { restApi: api.id, parentId: requests.id, pathPart: "{id}" }, opts);

  const integrations = REQUEST_ROUTE.methods.map((httpMethod) => {
    const method = new aws.apigateway.Method(`${name}-${httpMethod.toLowerCase()}`, {
      restApi: api.id,
      resourceId: request.id,
      httpMethod,
      authorization: "NONE",
      requestParameters: { "method.request.path.id": true },
    }, opts);
    return new aws.apigateway.Integration(`${name}-${httpMethod.toLowerCase()}-integration`, {
      restApi: api.id,
      resourceId: request.id,
      httpMethod: method.httpMethod,
      type: "AWS_PROXY",
      integrationHttpMethod: "POST", // Lambda is always invoked with POST, whatever the client's method
      uri: decisionFunction.invokeArn,
    }, opts);
  });

  // A Deployment is a snapshot: redeploy whenever the routes or their target change.
  const routesFingerprint = pulumi
    .all([decisionFunction.invokeArn, ...integrations.map((integration) => integration.id)])
    .apply((parts) => createHash("sha256").update(JSON.stringify([REQUEST_ROUTE, ...parts])).digest("hex"));
  const deployment = new aws.apigateway.Deployment(`${name}-deployment`, {
    restApi: api.id,
    description: "Managed by Pulumi",
    triggers: { routes: routesFingerprint },
  }, { parent, dependsOn: integrations });

  const stage = new aws.apigateway.Stage(`${name}-stage`, {
    restApi: api.id,
    deployment: deployment.id,
    stageName: REST_API_STAGE,
  }, opts);
  new aws.apigateway.MethodSettings(`${name}-throttling`, {
    restApi: api.id,
    stageName: stage.stageName,
    methodPath: "*/*",
    settings: {
      throttlingRateLimit: throttle.rateLimit,
      throttlingBurstLimit: throttle.burstLimit,
      // Execution logging would need the account-wide CloudWatch role; data tracing would log request bodies.
      loggingLevel: "OFF",
      dataTraceEnabled: false,
      metricsEnabled: true,
    },
  }, opts);

  new aws.lambda.Permission(`${name}-invoke`, {
    action: "lambda:InvokeFunction",
    function: decisionFunction.name,
    principal: "apigateway.amazonaws.com",
    // This API, this stage, the request route only.
    sourceArn: pulumi.interpolate`${api.executionArn}/${REST_API_STAGE}/*/requests/*`,
  }, opts);

  return { callbackUrl: stage.invokeUrl.apply((url) => url.replace(/\/+$/, "")) };
};
