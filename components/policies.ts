/**
 * IAM policy documents as pure functions of plain ARNs, so tests read them
 * directly. Every statement names its resources; the only `"*"` resources are
 * the actions AWS gives no resource-level permissions: SendTaskSuccess, and the
 * CloudWatch Logs delivery actions Step Functions needs to write its log group.
 */
export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string | string[];
}
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

const document = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });

/** Trust policy for a service role; `sourceAccount` guards against the confused-deputy problem. */
export function assumeRolePolicy(service: "lambda.amazonaws.com" | "states.amazonaws.com", sourceAccount?: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(sourceAccount ? { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } } : {}),
      },
    ],
  };
}

/** Writing to its own log group only (Lambda creates the streams). */
function writeOwnLogs(logGroupArn: string): PolicyStatement {
  return { Sid: "WriteOwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` };
}

export function requestApprovalPolicy(arns: { table: string; topic: string; logGroup: string; linkKey: string; slackSecret?: string }): PolicyDocument {
  return document(
    // PutItem (conditional create, link items), GetItem (a retried invocation, expiry), UpdateItem (mark emailed, new token).
    { Sid: "StoreApprovalRequests", Effect: "Allow", Action: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: arns.table },
    { Sid: "EmailApprovers", Effect: "Allow", Action: ["sns:Publish"], Resource: arns.topic },
    // Links are MACs made inside KMS: this role is the only principal that can make one.
    { Sid: "MakeApproverLinks", Effect: "Allow", Action: ["kms:GenerateMac"], Resource: arns.linkKey },
    ...readSlackSecret(arns.slackSecret),
    writeOwnLogs(arns.logGroup),
  );
}

/** With Slack: the one secret holding the app's signing secret and bot token. */
function readSlackSecret(slackSecret: string | undefined): PolicyStatement[] {
  return slackSecret ? [{ Sid: "ReadSlackSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: slackSecret }] : [];
}

export function decisionPolicy(arns: { table: string; topic: string; logGroup: string; signInSecret?: string; slackSecret?: string }): PolicyDocument {
  return document(
    // GetItem (link, request), PutItem (version-conditioned replace of the request). No Scan, no Query.
    { Sid: "ReadAndDecideApprovalRequests", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: arns.table },
    // SendTaskSuccess has no resource-level permissions; the token itself is the authorisation.
    // SendTaskFailure is not granted: a rejection is a successful answer with decision "rejected".
    { Sid: "AnswerWaitingTask", Effect: "Allow", Action: ["states:SendTaskSuccess"], Resource: "*" },
    { Sid: "NotifyOutcome", Effect: "Allow", Action: ["sns:Publish"], Resource: arns.topic },
    // With sign-in: the OpenID client secret, this one secret only (its value, nothing about other secrets).
    ...(arns.signInSecret ? [{ Sid: "ReadSignInClientSecret", Effect: "Allow" as const, Action: ["secretsmanager:GetSecretValue"], Resource: arns.signInSecret }] : []),
    ...readSlackSecret(arns.slackSecret),
    writeOwnLogs(arns.logGroup),
  );
}

/**
 * When SendTaskSuccess's outcome is unknown, the decision function reads what the execution received.
 * A separate policy: it names the state machine, which is created after the decision function.
 */
export function decisionVerifyPolicy(arns: { executions: string | string[] }): PolicyDocument {
  return document({ Sid: "ConfirmWhatTheWorkflowReceived", Effect: "Allow", Action: ["states:GetExecutionHistory"], Resource: arns.executions });
}

/**
 * The request-approval function's event entries (functions/requestApproval/withdrawal.ts, sweeper.ts,
 * reminders.ts): check how one of this state machine's executions ended; list settling (and, with reminders,
 * pending) requests through the status index (a query of that index only, never a scan of the table and its
 * links); and, for the sweeper, deliver a settled decision and read what this state machine's executions
 * received. A separate policy: it names the state machine, which is created after the function.
 */
export function requestEventsPolicy(arns: { executions: string | string[]; statusIndex: string }): PolicyDocument {
  return document(
    { Sid: "ConfirmHowExecutionsEnded", Effect: "Allow", Action: ["states:DescribeExecution", "states:GetExecutionHistory"], Resource: arns.executions },
    { Sid: "ListPendingRequests", Effect: "Allow", Action: ["dynamodb:Query"], Resource: arns.statusIndex },
    // SendTaskSuccess has no resource-level permissions; the token itself (stored in the table) is the authorisation.
    { Sid: "DeliverSettledDecisions", Effect: "Allow", Action: ["states:SendTaskSuccess"], Resource: "*" },
  );
}

/**
 * The link key's policy. The account keeps administering the key (without that AWS refuses the
 * policy), but no principal other than the request-approval role may compute a MAC with it, whatever
 * their identity policies say: a read-only insider, or anyone else, cannot make a working link.
 */
export function linkKeyPolicy(args: { account: string; partition: string; requestRole: string }) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministersTheKey", Effect: "Allow", Principal: { AWS: `arn:${args.partition}:iam::${args.account}:root` }, Action: "kms:*", Resource: "*" },
      { Sid: "OnlyRequestRoleMakesLinks", Effect: "Deny", Principal: { AWS: "*" }, Action: ["kms:GenerateMac", "kms:VerifyMac"], Resource: "*", Condition: { ArnNotEquals: { "aws:PrincipalArn": args.requestRole } } },
    ],
  };
}

/** Tag the component puts on the approvals table when deletion protection is turned off; the policy pack reads it. */
export const THROWAWAY_TABLE_TAG = "human-approval:throwaway";

/**
 * Tag the component puts on the approvals topic, whose per-approver routing lives in each subscription's
 * filter policy; the policy pack then holds its subscriptions and its policy to that (only the deployer subscribes).
 */
export const ROUTED_TOPIC_TAG = "human-approval:per-approver-routing";

/** Tag naming each Lambda function's role ("decision" or "request-approval"); the policy pack reads it. */
export const FUNCTION_ROLE_TAG = "human-approval:role";

/** Vended-logs delivery actions; AWS documents them as requiring Resource "*". */
export const LOG_DELIVERY_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
];

export function stateMachinePolicy(arns: { requestFunction: string; approvedFunction?: string }): PolicyDocument {
  const functions = [arns.requestFunction, ...(arns.approvedFunction ? [arns.approvedFunction] : [])];
  return document(
    { Sid: "InvokeWorkflowFunctions", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: functions },
    { Sid: "DeliverErrorLogs", Effect: "Allow", Action: LOG_DELIVERY_ACTIONS, Resource: "*" },
  );
}

/** A resource-policy statement: like an identity statement, plus a principal and conditions. */
export interface ResourcePolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal: { AWS: string | string[] } | { Service: string } | "*";
  Action: string[];
  Resource: string;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The principals a trust-anchor policy names: who may manage it, and who may write through it. */
export interface TrustedPrincipals {
  /**
   * The principal that runs `pulumi up` (config `deployerArn`, or the session's issuer found through
   * aws.getCallerIdentity + aws.iam.getSessionContext): it manages the subscriptions, the topic and the table.
   */
  deployer: string;
  /** Optional operator role (config `breakGlassRoleArn`) that may also write the table and subscribe, for a documented repair. */
  breakGlass?: string;
  /** The account's root user (`arn:<partition>:iam::<account>:root`): the last way back in if the deployer role is gone. */
  accountRoot: string;
}

const present = (...arns: (string | undefined)[]) => arns.filter((arn): arn is string => Boolean(arn));

/**
 * SNS actions a topic policy can control that change who receives what (AWS lists the actions a topic
 * policy accepts; SetSubscriptionAttributes, Unsubscribe and ConfirmSubscription are not among them).
 */
export const TOPIC_MANAGEMENT_ACTIONS = ["sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission", "sns:DeleteTopic", "sns:PutDataProtectionPolicy"];

/**
 * The topic's resource policy. AWS's default topic policy lets every principal of the account
 * subscribe and publish: anyone could subscribe their own address and receive every link, or send
 * look-alike emails from the trusted sender. Explicit denies win over any identity policy:
 * - only this stack's function roles may publish;
 * - only the deployer (and the break-glass role) may subscribe: the per-approver routing is each
 *   subscription's filter policy, so an approver who could subscribe their own address without one
 *   would receive every other approver's link;
 * - even they subscribe only the approvers' addresses, by email;
 * - only the deployer (or the account's root user) may change the policy or delete the topic.
 * What a topic policy cannot cover (docs/security.md): SetSubscriptionAttributes on an existing
 * subscription (its filter policy) is authorised by identity policies only.
 */
export function topicPolicy(args: { topic: string; publisherRoles: string[]; approverEmails: string[]; trusted: TrustedPrincipals }): { Version: "2012-10-17"; Statement: ResourcePolicyStatement[] } {
  const subscribableEndpoints = args.approverEmails.map((email) => email.toLowerCase());
  const { deployer, breakGlass, accountRoot } = args.trusted;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "StackFunctionsPublish", Effect: "Allow", Principal: { AWS: args.publisherRoles }, Action: ["sns:Publish"], Resource: args.topic },
      { Sid: "NobodyElsePublishes", Effect: "Deny", Principal: "*", Action: ["sns:Publish"], Resource: args.topic, Condition: { ArnNotEquals: { "aws:PrincipalArn": args.publisherRoles } } },
      { Sid: "OnlyTheDeployerSubscribes", Effect: "Deny", Principal: "*", Action: ["sns:Subscribe"], Resource: args.topic, Condition: { ArnNotEquals: { "aws:PrincipalArn": present(deployer, breakGlass) } } },
      { Sid: "OnlyEmailSubscriptions", Effect: "Deny", Principal: "*", Action: ["sns:Subscribe"], Resource: args.topic, Condition: { StringNotEquals: { "sns:Protocol": "email" } } },
      { Sid: "OnlyApproverAddresses", Effect: "Deny", Principal: "*", Action: ["sns:Subscribe"], Resource: args.topic, Condition: { StringNotEqualsIgnoreCase: { "sns:Endpoint": subscribableEndpoints } } },
      { Sid: "OnlyTheDeployerChangesTheTopic", Effect: "Deny", Principal: "*", Action: TOPIC_MANAGEMENT_ACTIONS, Resource: args.topic, Condition: { ArnNotEquals: { "aws:PrincipalArn": present(deployer, accountRoot) } } },
    ],
  };
}

/**
 * Every DynamoDB action that changes a table's items. Transactions (TransactWriteItems) and batches are
 * authorised as the PutItem, UpdateItem and DeleteItem they contain, so these cover them too.
 */
export const TABLE_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"];

/**
 * Actions that would lift the write deny without a write: replacing or removing this policy, or removing
 * the table (a new table of the same name has no policy) or adding a replica (written in another Region).
 */
export const TABLE_GUARD_ACTIONS = ["dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateTableReplica", "dynamodb:UpdateTimeToLive"];

/**
 * The approvals table's resource policy: the decision rests on what this table records (the verify
 * step checks the workflow's output against it), so only the two function roles may change its items,
 * whatever any identity policy in the account says (PowerUserAccess, AmazonDynamoDBFullAccess). The
 * deployer keeps managing the table and this policy; the account's root user can always remove the
 * policy (DynamoDB's own lock-out guard), which is the way back if the deployer role is gone.
 */
export function approvalsTablePolicy(args: { table: string; writerRoles: string[]; trusted: TrustedPrincipals }): { Version: "2012-10-17"; Statement: ResourcePolicyStatement[] } {
  const { deployer, breakGlass, accountRoot } = args.trusted;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "OnlyStackFunctionsWrite", Effect: "Deny", Principal: "*", Action: TABLE_WRITE_ACTIONS, Resource: args.table, Condition: { ArnNotEquals: { "aws:PrincipalArn": present(...args.writerRoles, breakGlass) } } },
      { Sid: "OnlyTheDeployerManagesTheTable", Effect: "Deny", Principal: "*", Action: TABLE_GUARD_ACTIONS, Resource: args.table, Condition: { ArnNotEquals: { "aws:PrincipalArn": present(deployer, accountRoot) } } },
    ],
  };
}

/**
 * The alarm topic's policy (config `alarmEmail`). Only this account's CloudWatch alarms publish (and the
 * account's root user, for a test message); only the alarm address can be subscribed, by email. Denies with
 * negated conditions, like the approvals topic, so no identity policy can open it.
 */
export function alarmTopicPolicy(args: { topic: string; account: string; partition: string; region: string; alarmEmail: string }): { Version: "2012-10-17"; Statement: ResourcePolicyStatement[] } {
  const alarms = `arn:${args.partition}:cloudwatch:${args.region}:${args.account}:alarm:*`;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAlarmsPublish", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["sns:Publish"], Resource: args.topic, Condition: { ArnLike: { "aws:SourceArn": alarms }, StringEquals: { "aws:SourceAccount": args.account } } },
      {
        Sid: "NobodyElsePublishes",
        Effect: "Deny",
        Principal: "*",
        Action: ["sns:Publish"],
        Resource: args.topic,
        // Both must hold to deny: CloudWatch (a service principal, without a principal ARN) is not denied.
        Condition: { ArnNotEquals: { "aws:PrincipalArn": `arn:${args.partition}:iam::${args.account}:root` }, StringNotEquals: { "aws:PrincipalServiceName": "cloudwatch.amazonaws.com" } },
      },
      { Sid: "OnlyEmailSubscriptions", Effect: "Deny", Principal: "*", Action: ["sns:Subscribe"], Resource: args.topic, Condition: { StringNotEquals: { "sns:Protocol": "email" } } },
      { Sid: "OnlyTheAlarmAddress", Effect: "Deny", Principal: "*", Action: ["sns:Subscribe"], Resource: args.topic, Condition: { StringNotEqualsIgnoreCase: { "sns:Endpoint": args.alarmEmail.toLowerCase() } } },
    ],
  };
}
