import * as aws from "@pulumi/aws";
import type { DecisionEndpointFactory } from "./decisionEndpoint";

/**
 * Lambda Function URL with auth NONE on the decision function only. It has no
 * throttling of its own: the decision function's reserved concurrency (stack
 * config `decisionReservedConcurrency`) caps what a flood of requests can cost.
 */
// Every path reaches the function, so every route of DECISION_ROUTES (the sign-in callback too) needs nothing here.
export const createFunctionUrlEndpoint: DecisionEndpointFactory = (name, { decisionFunction }, parent) => {
  const opts = { parent };
  const url = new aws.lambda.FunctionUrl(`${name}-function-url`, {
    functionName: decisionFunction.name,
    authorizationType: "NONE",
    invokeMode: "BUFFERED",
  }, opts);
  // Since October 2025 a public Function URL needs both permissions. @pulumi/aws >= 7.16 also adds
  // them when it creates the URL; declaring them makes them visible in previews and removed on destroy.
  const urlInvoke = new aws.lambda.Permission(`${name}-public-url`, {
    action: "lambda:InvokeFunctionUrl",
    function: decisionFunction.name,
    principal: "*",
    functionUrlAuthType: "NONE",
  }, opts);
  new aws.lambda.Permission(`${name}-invoke-via-url`, {
    action: "lambda:InvokeFunction",
    function: decisionFunction.name,
    principal: "*",
    invokedViaFunctionUrl: true,
  }, { parent, dependsOn: [urlInvoke] });

  return { callbackUrl: url.functionUrl.apply((value) => value.replace(/\/+$/, "")) };
};
