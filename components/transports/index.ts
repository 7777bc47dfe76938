/**
 * The transports, by their stack config name. Adding a transport is one file
 * and one line here (plus its name in functions/decision/httpEvent.ts).
 */
import type { Transport } from "../../functions/decision/httpEvent";
import type { DecisionEndpointFactory } from "./decisionEndpoint";
import { createFunctionUrlEndpoint } from "./functionUrl";
import { createHttpApiEndpoint } from "./httpApi";
import { createRestApiEndpoint } from "./restApi";

export const DECISION_ENDPOINTS: Record<Transport, DecisionEndpointFactory> = {
  restApi: createRestApiEndpoint,
  httpApi: createHttpApiEndpoint,
  functionUrl: createFunctionUrlEndpoint,
};

export type { DecisionEndpoint, DecisionEndpointArgs, DecisionEndpointFactory } from "./decisionEndpoint";
