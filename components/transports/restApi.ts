import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { DECISION_ROUTES, routeResource, routeSourceArnSuffix, type DecisionEndpointFactory } from "./decisionEndpoint";

export const REST_API_STAGE = "approvals";

/** A path resource's logical name: `<name>-path-requests-id` for `/requests/{id}`. */
const pathOf = (path: string) => path.slice(1).replace(/[{}]/g, "").replace(/\//g, "-");
/** The names path resources had before they were named by `pathOf`: aliases keep them in place. */
const EARLIER_PATH_RESOURCE_NAMES: Record<string, string> = { "/requests": "requests", "/requests/{id}": "request" };

/**
 * API Gateway REST API: `/requests/{id}` with GET, HEAD and POST and `/auth/callback` with GET, Lambda
 * proxy integration (payload 1.0), a stage with throttling and no data tracing.
 * No `aws.apigateway.Account`: it is account-wide and belongs to no one stack.
 */
export const createRestApiEndpoint: DecisionEndpointFactory = (name, { decisionFunction, throttle, routes = DECISION_ROUTES }, parent) => {
  const opts = { parent };
  const api = new aws.apigateway.RestApi(`${name}-rest-api`, {
    description: "Human approval: review pages and decisions",
    endpointConfiguration: { types: "REGIONAL" },
  }, opts);
  // One path resource per path segment, shared by the routes under it (`/requests`, `/requests/{id}`, `/auth`, ...).
  const pathResources = new Map<string, aws.apigateway.Resource>();
  const resourceFor = (path: string): aws.apigateway.Resource => {
    const existing = pathResources.get(path);
    if (existing) return existing;
    const parentPath = path.slice(0, path.lastIndexOf("/"));
    const parentId = parentPath ? resourceFor(parentPath).id : api.rootResourceId;
    const earlier = EARLIER_PATH_RESOURCE_NAMES[path] ?? pathOf(path);
    const resource = new aws.apigateway.Resource(`${name}-path-${pathOf(path)}`, { restApi: api.id, parentId, pathPart: path.slice(path.lastIndexOf("/") + 1) }, { parent, aliases: [{ name: `${name}-${earlier}` }] });
    pathResources.set(path, resource);
    return resource;
  };

  const integrations = routes.flatMap((route) => {
    const resource = resourceFor(route.path);
    const pathParameters = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => [`method.request.path.${match[1]}`, true] as const);
    return route.methods.map((httpMethod) => {
      const [methodName, methodOpts] = routeResource(name, route, httpMethod.toLowerCase(), parent);
      const [integrationName, integrationOpts] = routeResource(name, route, `${httpMethod.toLowerCase()}-integration`, parent);
      const method = new aws.apigateway.Method(methodName, {
        restApi: api.id,
        resourceId: resource.id,
        httpMethod,
        authorization: "NONE",
        ...(pathParameters.length ? { requestParameters: Object.fromEntries(pathParameters) } : {}),
      }, methodOpts);
      return new aws.apigateway.Integration(integrationName, {
        restApi: api.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        type: "AWS_PROXY",
        integrationHttpMethod: "POST", // Lambda is always invoked with POST, whatever the client's method
        uri: decisionFunction.invokeArn,
      }, integrationOpts);
    });
  });

  // A Deployment is a snapshot: redeploy whenever the routes or their target change.
  const routesFingerprint = pulumi
    .all([decisionFunction.invokeArn, ...integrations.map((integration) => integration.id)])
    .apply((parts) => createHash("sha256").update(JSON.stringify([routes, ...parts])).digest("hex"));
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

  // This API, this stage, each route only.
  for (const route of routes) {
    const [permissionName, permissionOpts] = routeResource(name, route, "invoke", parent);
    new aws.lambda.Permission(permissionName, {
      action: "lambda:InvokeFunction",
      function: decisionFunction.name,
      principal: "apigateway.amazonaws.com",
      sourceArn: pulumi.interpolate`${api.executionArn}/${REST_API_STAGE}/${routeSourceArnSuffix(route)}`,
    }, permissionOpts);
  }

  return {
    callbackUrl: stage.invokeUrl.apply((url) => url.replace(/\/+$/, "")),
    // REST API metrics are keyed by the API's name.
    serverErrors: { kind: "REST API", metricName: "5XXError", dimensions: { ApiName: api.name } },
  };
};
