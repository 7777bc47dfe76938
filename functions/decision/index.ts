/**
 * Lambda entry point of the decision function, behind whichever transport the
 * stack uses (REST API, HTTP API or Function URL). Only wiring lives here.
 */
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import type { Context } from "aws-lambda";
import { requireEnv, type Environment } from "../shared/env";
import { createLogger } from "../shared/logger";
import { DynamoDbRequestStore } from "../shared/requestStore";
import { handleDecisionEvent, type DecisionDependencies } from "./decision";

export function dependenciesFromEnvironment(env: Environment): DecisionDependencies {
  const stepFunctions = new SFNClient({});
  return {
    store: new DynamoDbRequestStore(requireEnv(env, "TABLE_NAME", "the name of the approval requests table")),
    sendTaskSuccess: async (taskToken, output) => {
      await stepFunctions.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    },
    now: () => new Date(),
    logger: createLogger({ service: "decision", level: env.LOG_LEVEL }),
  };
}

/** The handler over given dependencies: what Lambda runs, and what the local mode runs. */
export function createHandler(dependencies: DecisionDependencies) {
  return (event: unknown, context?: Pick<Context, "awsRequestId">) =>
    handleDecisionEvent({ ...dependencies, logger: dependencies.logger.child({ awsRequestId: context?.awsRequestId }) }, event);
}

// Built on the first invocation and kept for the container's life: one set of SDK clients, env checked once.
let containerHandler: ReturnType<typeof createHandler> | undefined;

export async function handler(event: unknown, context?: Pick<Context, "awsRequestId">) {
  containerHandler ??= createHandler(dependenciesFromEnvironment(process.env));
  return containerHandler(event, context);
}
