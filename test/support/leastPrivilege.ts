import { strict as assert } from "node:assert";
import { LOG_DELIVERY_ACTIONS, type PolicyDocument } from "../../components/policies";

/** The whole rule set for every document this project writes. */
export function assertLeastPrivilege(document: PolicyDocument): void {
  for (const statement of document.Statement) {
    for (const action of statement.Action) assert.ok(!action.includes("*"), `wildcard action ${action}`);
    const resources = ([] as string[]).concat(statement.Resource);
    if (resources.includes("*")) {
      const allowedWithStar = ["states:SendTaskSuccess", ...LOG_DELIVERY_ACTIONS];
      for (const action of statement.Action) assert.ok(allowedWithStar.includes(action), `${action} must name its resource`);
    }
  }
}

/** One request as AWS would authorise it: who asks, for what, on which resource, with which context keys. */
export interface SimulatedRequest {
  principal: string;
  action: string;
  resource: string;
  /** Identity policies of the principal (e.g. a PowerUser-like `dynamodb:*` on `*`). */
  identityPolicies: unknown[];
  /** The resource's own policy (table, topic, key), if any. */
  resourcePolicy?: unknown;
  /** Request context keys beyond aws:PrincipalArn, e.g. sns:Endpoint and sns:Protocol for Subscribe. */
  context?: Record<string, string>;
}

/**
 * AWS's policy evaluation (explicit Deny, then Allow from identity or resource policy) by an independent
 * simulator, @cloud-copilot/iam-simulate, which also validates the actions, resources and condition keys
 * against AWS's own service reference: a typo in a policy fails the simulation instead of passing it.
 */
export async function simulate(request: SimulatedRequest): Promise<"Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"> {
  const { runSimulation } = await import("@cloud-copilot/iam-simulate");
  const account = request.resource.split(":")[4] || request.principal.split(":")[4];
  const response = await runSimulation({
    identityPolicies: request.identityPolicies.map((policy, index) => ({ name: `identity${index}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables: { "aws:PrincipalArn": request.principal, "aws:PrincipalAccount": request.principal.split(":")[4], ...request.context },
    },
  } as never, {});
  if (response.resultType === "error") throw new Error(`simulation refused: ${JSON.stringify(response.errors)}`);
  if (response.resultType !== "single") throw new Error(`unexpected simulation result ${response.resultType}`);
  return response.overallResult as "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
}
