/**
 * The guarantees of the human-approval stack as Pulumi policies. This module
 * only defines them (constructing a PolicyPack starts a server, see index.ts),
 * so tests call each rule directly with passing and failing resources.
 */
// The component's pure IAM module (no imports of its own), so the pack and the stack share one list.
import { FUNCTION_ROLE_TAG, LOG_DELIVERY_ACTIONS, ROUTED_TOPIC_TAG, TABLE_GUARD_ACTIONS, TABLE_WRITE_ACTIONS, THROWAWAY_TABLE_TAG } from "../components/policies";
export { THROWAWAY_TABLE_TAG };
import type { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";

/** Actions AWS offers no resource-level permissions for: the only ones allowed on Resource "*". */
export const ACTIONS_ALLOWED_ON_ANY_RESOURCE = new Set(["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat", ...LOG_DELIVERY_ACTIONS]);
export const CURRENT_NODE_RUNTIMES = new Set(["nodejs22.x", "nodejs24.x"]);
/** A table tagged with this key and the value "true" may go without deletion protection (config `tableDeletionProtection: false`). */

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

/**
 * Reads a value that may be unknown during preview. The policy engine throws its UnknownValueError
 * when a rule touches an unknown value, which would abandon a whole stack policy; here it reads as
 * undefined, like a value the tests leave out, so one unknown ARN skips only what depends on it.
 */
function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if ((error as object | undefined)?.constructor?.name === "UnknownValueError") return undefined;
    throw error;
  }
}

/** An IAM or resource-policy statement, as far as these rules read it. */
interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface PolicyDocument {
  Statement?: unknown;
}

/** A policy document given as JSON text or as an object; undefined when absent or empty (unknown during preview: checked again at update). */
function parseDocument(raw: unknown): PolicyDocument | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  return typeof raw === "string" ? JSON.parse(raw) : (raw as PolicyDocument);
}

const statementsOf = (document: PolicyDocument | undefined) => asList(document?.Statement) as Statement[];
const isAllow = (statement: Statement) => statement.Effect !== "Deny";
const sidOf = (statement: Statement) => (statement.Sid ? ` "${statement.Sid}"` : "");

/** IAM resources whose `policy` is one permissions document. */
const IAM_POLICY_TYPES = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"];
const ROLE_TYPE = "aws:iam/role:Role";

/**
 * The permissions documents a resource carries: its `policy`, or each of a role's inline policies
 * (`inlinePolicies[].policy`). `where` ends the messages, so a role's report names the inline policy.
 */
function permissionDocuments(type: string, props: Record<string, unknown>): Array<{ where: string; statements: Statement[] }> {
  if (type !== ROLE_TYPE) {
    const document = parseDocument(props.policy);
    return document ? [{ where: "", statements: statementsOf(document) }] : [];
  }
  return asList(props.inlinePolicies).flatMap((inline, index) => {
    const { name, policy } = (inline ?? {}) as { name?: string; policy?: unknown };
    const document = parseDocument(policy);
    return document ? [{ where: ` (inline policy "${name ?? index}")`, statements: statementsOf(document) }] : [];
  });
}

/** Does an IAM action pattern (wildcards `*` and `?`) cover this action? Action names are case-insensitive. */
function actionMatches(pattern: string, action: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "i").test(action);
}

/** Which of `actions` a statement applies to: those its Action patterns match, or those its NotAction leaves out. */
function coveredActions(statement: Statement, actions: string[]): string[] {
  if (statement.NotAction !== undefined) {
    const excluded = asList(statement.NotAction).map(String);
    return actions.filter((action) => !excluded.some((pattern) => actionMatches(pattern, action)));
  }
  const patterns = asList(statement.Action).map(String);
  return actions.filter((action) => patterns.some((pattern) => actionMatches(pattern, action)));
}

/** A resource-policy statement that applies to every principal: `"*"`, `{ AWS: "*" }` (alone or in a list), or a NotPrincipal. */
function appliesToEveryone(statement: Statement): boolean {
  if (statement.NotPrincipal !== undefined || statement.Principal === "*") return true;
  const principal = statement.Principal;
  return typeof principal === "object" && principal !== null && Object.values(principal).some((value) => asList(value).map(String).includes("*"));
}

/**
 * The condition keys (lower case) a statement tests with real values (not "*") under operators of one kind:
 * "narrowing", positive string/ARN operators without IfExists (an Allow that holds only for matching callers);
 * "excluding", negated ones (a Deny that holds for everyone who does not match).
 * Set operators (ForAnyValue:, ForAllValues:) and Null count as neither.
 */
function conditionKeys(statement: Statement, kind: "narrowing" | "excluding"): string[] {
  const operators = kind === "narrowing"
    ? /^(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)$/
    : /^(StringNotEquals|StringNotEqualsIgnoreCase|StringNotLike|ArnNotEquals|ArnNotLike)(IfExists)?$/;
  return Object.entries(statement.Condition ?? {}).flatMap(([operator, tests]) =>
    operators.test(operator)
      ? Object.entries(tests ?? {})
          .filter(([, values]) => asList(values).length > 0 && !asList(values).map(String).includes("*"))
          .map(([key]) => key.toLowerCase())
      : [],
  );
}
const conditionedOn = (statement: Statement, kind: "narrowing" | "excluding", keys: string[]) =>
  conditionKeys(statement, kind).some((key) => keys.includes(key));

/** Is `action` denied to every principal except those a negated condition on one of `keys` leaves out? */
const deniedToAllBut = (statements: Statement[], action: string, keys: string[]) =>
  statements.some((statement) => statement.Effect === "Deny" && appliesToEveryone(statement) && coveredActions(statement, [action]).length > 0 && conditionedOn(statement, "excluding", keys));

/** IAM matches `*` and `?` anywhere: "kms:GenerateMa?" is as much a wildcard as "kms:*". */
const isWildcard = (pattern: string) => /[*?]/.test(pattern);

/**
 * A resource pattern that is as good as "*": a wildcard in the partition, service, Region or account
 * ("arn:aws:*:*:*:*", "arn:*"), or a resource part that is nothing but wildcards ("arn:aws:kms:eu-west-1:1:*").
 */
function coversAnyResource(resource: string): boolean {
  const parts = resource.split(":");
  if (parts.length < 6) return isWildcard(resource) || resource === "*";
  return parts.slice(0, 5).some(isWildcard) || /^[*?/]+$/.test(parts.slice(5).join(":"));
}

export const noWildcardActions = resourcePolicy(
  "no-iam-wildcard-actions",
  "IAM policies, role inline policies included, name every action, and use Resource \"*\" only for actions without resource-level permissions (SendTask*, log delivery).",
  [...IAM_POLICY_TYPES, ROLE_TYPE],
  ({ type, props }, report) => {
    for (const { where, statements } of permissionDocuments(type, props)) {
      for (const statement of statements.filter(isAllow)) {
        const actions = asList(statement.Action).map(String);
        for (const action of actions.filter(isWildcard)) report(`The action "${action}" is a wildcard: name each action.${where}`);
        if (asList(statement.Resource).map(String).some(coversAnyResource)) {
          for (const action of actions.filter((action) => !ACTIONS_ALLOWED_ON_ANY_RESOURCE.has(action))) {
            report(`The action "${action}" is allowed on Resource "*": scope it to this stack's resources.${where}`);
          }
        }
      }
    }
  },
);

/** NotAction / NotResource in an Allow grant everything not listed, including actions and resources AWS adds later. */
export const noAllowNotActionOrNotResource = resourcePolicy(
  "no-iam-allow-not-action",
  "IAM Allow statements, role inline policies included, list what they allow: no NotAction, no NotResource.",
  [...IAM_POLICY_TYPES, ROLE_TYPE],
  ({ type, props }, report) => {
    for (const { where, statements } of permissionDocuments(type, props)) {
      for (const statement of statements.filter(isAllow)) {
        if (statement.NotAction !== undefined) report(`The Allow statement${sidOf(statement)} uses NotAction, which allows every other action: list the allowed actions.${where}`);
        if (statement.NotResource !== undefined) report(`The Allow statement${sidOf(statement)} uses NotResource, which allows every other resource: list the resources.${where}`);
      }
    }
  },
);

/** AWS managed policies (AdministratorAccess among them) are broad, and AWS changes them under our feet. */
const AWS_MANAGED_POLICY_ARN = /^arn:[^:]+:iam::aws:policy\//;
/** Where each attaching resource holds the policy ARN(s) it attaches. */
const ATTACHED_POLICY_ARNS: Record<string, string> = {
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
  "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
  [ROLE_TYPE]: "managedPolicyArns",
};

export const noAwsManagedPolicies = resourcePolicy(
  "no-aws-managed-policies",
  "Nothing attaches AdministratorAccess or any other AWS managed policy: this stack writes every permission itself.",
  Object.keys(ATTACHED_POLICY_ARNS),
  ({ type, props }, report) => {
    for (const arn of asList(props[ATTACHED_POLICY_ARNS[type]]).map(String)) {
      if (AWS_MANAGED_POLICY_ARN.test(arn) || /\/AdministratorAccess$/.test(arn)) {
        report(`The policy "${arn}" is attached: this stack grants nothing through managed policies, only through its own least-privilege policies.`);
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

/**
 * Principal "*" only where a public Function URL needs it: InvokeFunctionUrl for a URL with auth NONE
 * (which the public-function-url rule keeps on the decision function), and InvokeFunction only through
 * that URL. A service principal without a source would let any account's API (or bucket, rule, …)
 * invoke the function: API Gateway must name this stack's API in sourceArn.
 */
export const noPublicLambdaInvoke = resourcePolicy(
  "no-public-lambda-invoke",
  "Lambda permissions give principal \"*\" only the public Function URL's two permissions, and AWS services (API Gateway) name their source.",
  "aws:lambda/permission:Permission",
  ({ props }, report) => {
    const action = String(props.action ?? "");
    const principal = String(props.principal ?? "");
    if (principal === "*") {
      if (/^lambda:InvokeFunction$/i.test(action)) {
        if (props.invokedViaFunctionUrl !== true) report("Anyone may invoke the function directly (principal \"*\" on lambda:InvokeFunction): set invokedViaFunctionUrl to true so it holds only through the Function URL.");
      } else if (/^lambda:InvokeFunctionUrl$/i.test(action)) {
        if (props.functionUrlAuthType !== "NONE") {
          report(`Principal "*" on lambda:InvokeFunctionUrl with functionUrlAuthType ${props.functionUrlAuthType === undefined ? "unset" : `"${props.functionUrlAuthType}"`} lets principals of every AWS account call the URL: only the public (NONE) URL of the decision function takes principal "*".`);
        }
      } else {
        report(`Principal "*" may perform "${action}" on the function: name the principal.`);
      }
    } else if (/^apigateway\.amazonaws\.com$/i.test(principal)) {
      if (!props.sourceArn) report("API Gateway may invoke the function from any API in any account: set sourceArn to this stack's API (its execution ARN and route).");
    } else if (/\.amazonaws\.com(\.cn)?$/i.test(principal)) {
      if (!props.sourceArn && !props.sourceAccount) report(`The service "${principal}" may invoke the function on behalf of any account: set sourceArn (or at least sourceAccount).`);
    }
  },
);

/** Topic actions that must never be open to every principal: reading the links (subscribe, receive, list) or sending look-alike emails (publish). */
const SNS_GUARDED_ACTIONS = ["sns:Subscribe", "sns:Receive", "sns:ListSubscriptionsByTopic", "sns:Publish"];

/**
 * What makes an SNS topic policy too open (see `topicPolicy()` in components/policies.ts for the good one):
 * an Allow of a guarded action to every principal not narrowed to aws:PrincipalArn / aws:SourceArn (AWS's
 * default policy allows them to every principal of the account, narrowed by AWS:SourceOwner only), or a
 * missing Deny: of sns:Publish by principals outside a list (aws:PrincipalArn), or of sns:Subscribe
 * other than by email to an approver's address (sns:Protocol / sns:Endpoint).
 */
function topicPolicyProblems(document: PolicyDocument, routed: boolean): string[] {
  const statements = statementsOf(document);
  const problems: string[] = [];
  for (const statement of statements.filter((statement) => isAllow(statement) && appliesToEveryone(statement))) {
    const open = coveredActions(statement, SNS_GUARDED_ACTIONS);
    if (open.length > 0 && !conditionedOn(statement, "narrowing", ["aws:principalarn", "aws:sourcearn"])) {
      problems.push(`its Allow statement${sidOf(statement)} gives every principal ${open.join(", ")}: name the principals, or narrow it with a condition on aws:PrincipalArn or aws:SourceArn`);
    }
  }
  const denies = (action: string, keys: string[]) => deniedToAllBut(statements, action, keys);
  if (!denies("sns:Publish", ["aws:principalarn"])) {
    problems.push("it has no Deny of sns:Publish for every principal outside a list (a negated condition on aws:PrincipalArn): anyone whose own policies allow it could send look-alike approval emails");
  }
  if (!denies("sns:Subscribe", ["sns:endpoint"])) {
    problems.push("it has no Deny of sns:Subscribe for other addresses (a negated condition on sns:Endpoint): anyone in the account could subscribe their own address and receive every link");
  }
  if (!denies("sns:Subscribe", ["sns:protocol"])) {
    problems.push("it has no Deny of sns:Subscribe by other protocols (a negated condition on sns:Protocol): an approver's address could be subscribed over HTTP, SQS or Lambda, which another principal reads");
  }
  if (routed && !denies("sns:Subscribe", ["aws:principalarn"])) {
    problems.push("it has no Deny of sns:Subscribe for every principal but the deployer (a negated condition on aws:PrincipalArn): an approver could subscribe their own address without a filter policy and receive every other approver's link");
  }
  return problems;
}

/** The approvals topic: its per-approver routing is each subscription's filter policy. */
const isRouted = (topic: Pick<PolicyResource, "props">) => known(() => (topic.props.tags as Record<string, unknown> | undefined)?.[ROUTED_TOPIC_TAG]) === "true";

/**
 * Every topic is covered by an `aws.sns.TopicPolicy` (without one, AWS's default policy lets every
 * principal of the account subscribe and publish), and every topic policy is restrictive. Reported on
 * the topic's URN. A stack policy, because it matches topics and policies by ARN; ARNs unknown during
 * preview skip the match, which runs again at update.
 */
export const topicsCoveredByRestrictivePolicy: StackValidationPolicy = {
  name: "sns-topics-covered-by-restrictive-policy",
  description: "Every SNS topic has a TopicPolicy that opens nothing to every principal and denies publishing by others and subscribing other addresses.",
  enforcementLevel: "mandatory",
  validateStack: (args: Pick<StackValidationArgs, "resources">, report) => {
    const topics = args.resources.filter((resource) => resource.type === "aws:sns/topic:Topic");
    const topicPolicies = args.resources.filter((resource) => resource.type === "aws:sns/topicPolicy:TopicPolicy");
    const arnOf = (resource: Pick<PolicyResource, "props">) => known(() => resource.props.arn as string | undefined);
    const coveredArns = topicPolicies.map(arnOf);
    for (const topic of topics) {
      const arn = arnOf(topic);
      // An unknown ARN, the topic's or a policy's, could be the match: decided at update.
      if (arn === undefined || coveredArns.includes(undefined)) continue;
      if (!coveredArns.includes(arn)) {
        report(`The topic "${arn}" has no aws.sns.TopicPolicy: AWS's default policy lets every principal of the account subscribe their own address and publish. Declare one built by topicPolicy().`, topic.urn);
      }
    }
    topicPolicies.forEach((topicPolicy, index) => {
      const document = parseDocument(known(() => topicPolicy.props.policy));
      if (document === undefined) return;
      const topic = topics.find((candidate) => coveredArns[index] !== undefined && arnOf(candidate) === coveredArns[index]);
      for (const problem of topicPolicyProblems(document, topic !== undefined && isRouted(topic))) {
        report(`The policy of topic "${coveredArns[index] ?? "(unknown)"}" is too open: ${problem}.`, topic?.urn ?? topicPolicy.urn);
      }
    });
  },
};

/**
 * A topic's own `policy` input, when set, obeys the same restrictions. A resource policy on purpose:
 * a stack policy sees the topic's outputs, where `policy` is whatever AWS returned at creation (its
 * permissive default, until a refresh), even when the program never set it.
 */
export const topicInlinePolicyRestrictive = resourcePolicy(
  "sns-topic-inline-policy-restrictive",
  "An SNS topic's own policy, when set, opens nothing to every principal and denies publishing by others and subscribing other addresses.",
  "aws:sns/topic:Topic",
  ({ props }, report) => {
    const document = parseDocument(props.policy);
    if (document === undefined) return;
    for (const problem of topicPolicyProblems(document, isRouted({ props }))) report(`The topic's own policy is too open: ${problem}.`);
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

/** The table is the audit trail: a mistaken delete must not take it. Stacks that opt out say so on the table itself. */
export const tableDeletionProtection = resourcePolicy(
  "dynamodb-deletion-protection",
  `DynamoDB tables have deletion protection on, unless tagged ${THROWAWAY_TABLE_TAG}=true (stack config tableDeletionProtection: false).`,
  "aws:dynamodb/table:Table",
  ({ props }, report) => {
    if (props.deletionProtectionEnabled === true) return;
    if ((props.tags as Record<string, unknown> | undefined)?.[THROWAWAY_TABLE_TAG] === "true") return;
    report(`Deletion protection is off: set deletionProtectionEnabled to true, or tag the table ${THROWAWAY_TABLE_TAG}=true if it may be deleted with the stack.`);
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

/**
 * Every subscription of the approvals topic routes one approver's messages to that approver only: email, and
 * the filter policy {"approver": ["<the address in lower case>"]} on the message attributes. Without it, the
 * subscriber receives every approver's link.
 */
export const approverSubscriptionsFiltered: StackValidationPolicy = {
  name: "approver-subscriptions-filtered",
  description: "Every subscription of the approvals topic is an email subscription with the filter policy {\"approver\": [its own address]}.",
  enforcementLevel: "mandatory",
  validateStack: (args: Pick<StackValidationArgs, "resources">, report) => {
    const routedTopics = args.resources.filter((resource) => resource.type === "aws:sns/topic:Topic" && isRouted(resource)).map((topic) => known(() => topic.props.arn as string | undefined));
    for (const subscription of args.resources.filter((resource) => resource.type === "aws:sns/topicSubscription:TopicSubscription")) {
      const topicArn = known(() => subscription.props.topic as string | undefined);
      // An unknown ARN could be the approvals topic's: decided at update.
      if (topicArn === undefined || routedTopics.includes(undefined) || !routedTopics.includes(topicArn)) continue;
      const endpoint = String(known(() => subscription.props.endpoint) ?? "");
      if (subscription.props.protocol !== "email") {
        report(`The approvals topic's subscription of "${endpoint}" uses protocol "${subscription.props.protocol}": only email subscriptions, each filtered to its own address.`, subscription.urn);
        continue;
      }
      const raw = known(() => subscription.props.filterPolicy);
      let filter: unknown;
      try {
        filter = typeof raw === "string" ? JSON.parse(raw) : raw;
      } catch {
        filter = undefined;
      }
      const expected = JSON.stringify({ approver: [endpoint.toLowerCase()] });
      if (JSON.stringify(filter) !== expected || subscription.props.filterPolicyScope !== "MessageAttributes") {
        report(`The approvals topic's subscription of "${endpoint}" receives other approvers' links: set filterPolicy to ${expected} and filterPolicyScope to "MessageAttributes".`, subscription.urn);
      }
    }
  },
};

/**
 * The link key (an HMAC key) makes every approver's link: its policy must deny GenerateMac and VerifyMac to
 * every principal but the named ones (a negated aws:PrincipalArn condition), whatever their identity policies say.
 */
export const linkKeyDenied = resourcePolicy(
  "link-key-deny",
  "An HMAC (GENERATE_VERIFY_MAC) KMS key's policy denies kms:GenerateMac and kms:VerifyMac to every principal but the named ones.",
  "aws:kms/key:Key",
  ({ props }, report) => {
    if (props.keyUsage !== "GENERATE_VERIFY_MAC") return;
    const statements = statementsOf(parseDocument(props.policy));
    for (const action of ["kms:GenerateMac", "kms:VerifyMac"]) {
      if (!deniedToAllBut(statements, action, ["aws:principalarn"])) report(`The key's policy has no Deny of ${action} for every principal but the named ones (a negated condition on aws:PrincipalArn): anyone whose identity policy allows it could make working links.`);
    }
  },
);

/**
 * The approvals table decides what the workflow accepts (the verify step checks against it): every table
 * carries a resource policy that denies every item write, and the changes that would lift that deny, to every
 * principal but the named ones. A stack policy: it matches policies to tables by ARN (unknown in preview: skipped).
 */
export const tableWriteDeny: StackValidationPolicy = {
  name: "dynamodb-table-write-deny",
  description: "Every DynamoDB table has a resource policy denying item writes (and policy or table changes) to every principal but the named ones.",
  enforcementLevel: "mandatory",
  validateStack: (args: Pick<StackValidationArgs, "resources">, report) => {
    const policies = args.resources.filter((resource) => resource.type === "aws:dynamodb/resourcePolicy:ResourcePolicy");
    const policyArns = policies.map((policy) => known(() => policy.props.resourceArn as string | undefined));
    for (const table of args.resources.filter((resource) => resource.type === "aws:dynamodb/table:Table")) {
      const arn = known(() => table.props.arn as string | undefined);
      if (arn === undefined || policyArns.includes(undefined)) continue;
      const policy = policies[policyArns.indexOf(arn)];
      const document = policy && parseDocument(known(() => policy.props.policy));
      if (!policy || document === undefined) {
        report(`The table "${arn}" has no aws.dynamodb.ResourcePolicy: any principal with dynamodb:PutItem could forge a decision. Declare one built by approvalsTablePolicy().`, table.urn);
        continue;
      }
      const statements = statementsOf(document);
      const open = [...TABLE_WRITE_ACTIONS, ...TABLE_GUARD_ACTIONS].filter((action) => !deniedToAllBut(statements, action, ["aws:principalarn"]));
      if (open.length > 0) report(`The table "${arn}"'s resource policy does not deny ${open.join(", ")} to every principal but the named ones (a negated condition on aws:PrincipalArn).`, table.urn);
    }
  },
};

export const HUMAN_APPROVAL_POLICIES: Array<ResourceValidationPolicy | StackValidationPolicy> = [
  noWildcardActions,
  noAllowNotActionOrNotResource,
  noAwsManagedPolicies,
  logRetentionSet,
  noApiGatewayDataTracing,
  currentLambdaRuntimes,
  noPublicLambdaInvoke,
  topicsCoveredByRestrictivePolicy,
  topicInlinePolicyRestrictive,
  tableTtlAndRecovery,
  tableDeletionProtection,
  publicUrlOnlyOnDecisionFunction,
  approverSubscriptionsFiltered,
  linkKeyDenied,
  tableWriteDeny,
];
