/**
 * The guarantees of the human-approval stack as Pulumi policies. This module
 * only defines them (constructing a PolicyPack starts a server, see index.ts),
 * so tests call each rule directly with passing and failing resources.
 */
// The component's pure IAM module (no imports of its own), so the pack and the stack share one list.
import { FUNCTION_ROLE_TAG, LOG_DELIVERY_ACTIONS } from "../components/policies";
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";

/** Actions AWS offers no resource-level permissions for: the only ones allowed on Resource "*". */
export const ACTIONS_ALLOWED_ON_ANY_RESOURCE = new Set(["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat", ...LOG_DELIVERY_ACTIONS]);
export const CURRENT_NODE_RUNTIMES = new Set(["nodejs22.x", "nodejs24.x"]);

type Resource = Pick<ResourceValidationArgs, "type" | "props">;
type Rule = (resource: Resource, report: ReportViolation) => void;

/** A policy over one resource type: the rule only sees resources of that type. */
function resourcePolicy(name: string, description: string, type: string | string[], rule: Rule): ResourceValidationPolicy {
  const types = new Set(([] as string[]).concat(type));
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args, report) => (types.has(args.type) ? rule(args, report) : undefined),
  };
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

function policyDocument(props: Record<string, unknown>, key: string): { Statement?: unknown } | undefined {
  const raw = props[key];
  if (raw === undefined) return undefined; // unknown during preview: checked again at update
  return typeof raw === "string" ? JSON.parse(raw) : (raw as { Statement?: unknown });
}

export const noWildcardActions = resourcePolicy(
  "no-iam-wildcard-actions",
  "IAM policies name every action, and use Resource \"*\" only for actions without resource-level permissions (SendTask*, log delivery).",
  ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"],
  ({ props }, report) => {
    const document = policyDocument(props, "policy");
    for (const statement of asList(document?.Statement) as Array<{ Effect?: string; Action?: unknown; Resource?: unknown }>) {
      if (statement.Effect === "Deny") continue;
      const actions = asList(statement.Action).map(String);
      for (const action of actions.filter((action) => action.includes("*"))) report(`The action "${action}" is a wildcard: name each action.`);
      if (asList(statement.Resource).includes("*")) {
        for (const action of actions.filter((action) => !ACTIONS_ALLOWED_ON_ANY_RESOURCE.has(action))) {
          report(`The action "${action}" is allowed on Resource "*": scope it to this stack's resources.`);
        }
      }
    }
  },
);

export const logRetentionSet = resourcePolicy(
  "log-retention-set",
  "Every log group has a retention period, so logs do not pile up forever.",
  "aws:cloudwatch/logGroup:LogGroup",
  ({ props }, report) => {
    if (!(Number(props.retentionInDays) > 0)) report("The log group has no retention period: set retentionInDays.");
  },
);

export const noApiGatewayDataTracing = resourcePolicy(
  "no-api-gateway-data-tracing",
  "API Gateway never logs full requests and responses (data tracing), which would expose request bodies.",
  "aws:apigateway/methodSettings:MethodSettings",
  ({ props }, report) => {
    if ((props.settings as { dataTraceEnabled?: boolean } | undefined)?.dataTraceEnabled === true) report("Data tracing is on: set settings.dataTraceEnabled to false.");
  },
);

export const currentLambdaRuntimes = resourcePolicy(
  "current-lambda-runtimes",
  `Lambda functions run a supported Node.js runtime (${[...CURRENT_NODE_RUNTIMES].join(", ")}).`,
  "aws:lambda/function:Function",
  ({ props }, report) => {
    if (props.runtime !== undefined && !CURRENT_NODE_RUNTIMES.has(String(props.runtime))) {
      report(`The runtime "${props.runtime}" is not current: use one of ${[...CURRENT_NODE_RUNTIMES].join(", ")}.`);
    }
  },
);

export const tableTtlAndRecovery = resourcePolicy(
  "dynamodb-ttl-and-pitr",
  "DynamoDB tables expire old items (TTL) and keep point-in-time recovery on.",
  "aws:dynamodb/table:Table",
  ({ props }, report) => {
    const ttl = props.ttl as { enabled?: boolean; attributeName?: string } | undefined;
    if (!ttl?.enabled || !ttl.attributeName) report("TTL is off: enable ttl with an attribute name.");
    if ((props.pointInTimeRecovery as { enabled?: boolean } | undefined)?.enabled !== true) report("Point-in-time recovery is off: enable pointInTimeRecovery.");
  },
);

/** A public (auth NONE) Function URL may only front the function tagged as the decision function. */
export const publicUrlOnlyOnDecisionFunction: StackValidationPolicy = {
  name: "public-function-url-only-on-decision-function",
  description: "A Function URL with auth NONE is allowed only on the decision function.",
  enforcementLevel: "mandatory",
  validateStack: (args: Pick<StackValidationArgs, "resources">, report) => {
    const functions = args.resources.filter((resource) => resource.type === "aws:lambda/function:Function");
    for (const url of args.resources.filter((resource) => resource.type === "aws:lambda/functionUrl:FunctionUrl")) {
      if (url.props.authorizationType !== "NONE") continue;
      const target = functions.find((fn) => fn.props.name === url.props.functionName || fn.props.arn === url.props.functionName);
      if (target?.props.tags?.[FUNCTION_ROLE_TAG] !== "decision") {
        report(`The Function URL with auth NONE fronts "${url.props.functionName}", which is not the decision function.`, url.urn);
      }
    }
  },
};

export const HUMAN_APPROVAL_POLICIES: Array<ResourceValidationPolicy | StackValidationPolicy> = [
  noWildcardActions,
  logRetentionSet,
  noApiGatewayDataTracing,
  currentLambdaRuntimes,
  tableTtlAndRecovery,
  publicUrlOnlyOnDecisionFunction,
];
