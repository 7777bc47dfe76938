import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Transport } from "../functions/decision/httpEvent";
import { LAMBDA_HANDLER, type HandlerName } from "../functions/bundle";
import { APPROVALS_TABLE_KEY, APPROVALS_TABLE_TTL_ATTRIBUTE, STATUS_INDEX, STATUS_INDEX_ATTRIBUTES } from "../functions/shared/approvalRequest";
import { DECISION_TIMEOUT_SECONDS, REQUEST_APPROVAL_TIMEOUT_SECONDS } from "../functions/shared/awsClients";
import type { ApprovalPolicy } from "../functions/shared/policy";
import { lambdaCodeArchive } from "./lambdaCode";
import { createAlarms } from "./alarms";
import { assumeRolePolicy, decisionPolicy, decisionVerifyPolicy, FUNCTION_ROLE_TAG, linkKeyPolicy, THROWAWAY_TABLE_TAG, requestApprovalPolicy, requestEventsPolicy, ROUTED_TOPIC_TAG, stateMachinePolicy, topicPolicy, type PolicyDocument } from "./policies";
import { routeRequestEvents } from "./reminders";
import { createSignInSecret, type SignInArgs } from "./signIn";
import { buildStateMachineDefinition } from "./stateMachineDefinition";
import { protectApprovalsTable, trustedPrincipals } from "./trustAnchors";
import { DECISION_ENDPOINTS } from "./transports";

export const LAMBDA_RUNTIME = "nodejs24.x";
export const LAMBDA_ARCHITECTURE = "arm64";

export interface HumanApprovalWorkflowArgs {
  /** How approvers' clicks reach the decision function. */
  transport: Transport;
  /** Each address gets an SNS email subscription (the recipient must confirm it once) that receives only its own messages. */
  approverEmails: string[];
  /** Distinct approvals that settle a request (the first rejection always rejects). Default 1. */
  requiredApprovals?: number;
  /** May a request's `requestedBy` approve it. Default false. */
  allowSelfApproval?: boolean;
  /**
   * Deletion protection on the approvals table (the audit trail), and keeping it in AWS when it leaves
   * the program. Default true; turn it off only for throwaway stacks.
   */
  tableDeletionProtection?: boolean;
  /** How long a request waits; the task's TimeoutSeconds and the link's expiry. */
  approvalTimeoutMinutes: number;
  /** Retention of every log group this component creates. */
  logRetentionDays: number;
  /** How long requests stay in the table after they expire (DynamoDB TTL). */
  auditRetentionDays: number;
  /** Email subject; `{title}` is replaced by the request's title. */
  emailSubject?: string;
  /** API Gateway throttling (REST and HTTP API transports). */
  apiThrottle?: { rateLimit: number; burstLimit: number };
  /** Reserved concurrency of the decision function; -1 for none. */
  decisionReservedConcurrency?: number;
  /** Optional Lambda function the workflow runs after approval. */
  approvedFunctionArn?: pulumi.Input<string>;
  /**
   * OpenID Connect sign-in for approvers: a link then opens only for its approver, after they sign in
   * with this provider. The client secret goes to Secrets Manager, readable by the decision role only.
   */
  signIn?: SignInArgs;
  /** Minutes before expiry at which approvers who have not voted are reminded (an EventBridge schedule); empty or unset: none. */
  reminderMinutesBeforeExpiry?: number[];
  /** Minutes between runs of the sweeper, which completes unfinished deliveries (an EventBridge schedule); default 1. */
  sweepIntervalMinutes?: number;
  /** CloudWatch alarms to a new topic that emails this address; or set `alarmTopicArn`. Neither: no alarms. */
  alarmEmail?: string;
  /** CloudWatch alarms to this existing SNS topic (it must let cloudwatch.amazonaws.com publish). */
  alarmTopicArn?: pulumi.Input<string>;
  /**
   * Start of the physical names this component gives (log groups, alarms). Default `<project>-<stack>-<name>`,
   * unique per component, program and stack in an account; the stand-alone stack passes `<project>-<stack>`,
   * the names it has always had.
   */
  namePrefix?: string;
  /**
   * Pulumi `protect` and `retainOnDelete` on what the approvals rest on: the table (the audit trail), the link
   * key (every outstanding link) and the topic (every confirmed subscription). A rename or move without
   * `aliases` then fails its preview instead of replacing them, and `pulumi destroy` leaves them in AWS.
   * Default true; false only for throwaway stacks (with `tableDeletionProtection: false`).
   */
  protectState?: boolean;
  /**
   * The principal (IAM role or user ARN) that manages the approvals table and the topic's subscriptions; nobody
   * else may subscribe, change the topic or the table's policy. Default: whoever runs `pulumi up`.
   */
  deployerArn?: string;
  /** An operator role that may also write the approvals table and subscribe approvers (a documented repair path). */
  breakGlassRoleArn?: string;
  /**
   * Named approval policies, their groups resolved to addresses (stacks/config.ts reads them from `approverGroups`
   * and `approvalPolicies`); an execution's input names one with `policy`. Unset: today's one rule.
   */
  approvalPolicies?: Record<string, ApprovalPolicy>;
}

/**
 * An AWS Step Functions workflow that waits for a person to approve or reject
 * it from an email: SNS topic, approvals table, request-approval and decision
 * functions, state machine, their IAM roles and log groups, and the transport
 * that makes the decision function reachable.
 */
export class HumanApprovalWorkflow extends pulumi.ComponentResource {
  public readonly transport: Transport;
  /** Public base URL of the decision endpoint; links are `<callbackUrl>/requests/<id>`. */
  public readonly callbackUrl: pulumi.Output<string>;
  public readonly stateMachineArn: pulumi.Output<string>;
  public readonly topicArn: pulumi.Output<string>;
  public readonly approvalsTableName: pulumi.Output<string>;

  constructor(name: string, args: HumanApprovalWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super("human-approval:index:HumanApprovalWorkflow", name, {}, opts);
    const parent = this;
    const partition = aws.getPartitionOutput({}, { parent }).partition;
    const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const region = aws.getRegionOutput({}, { parent }).region;
    // Physical names of log groups and alarms are stable and readable; everything else is auto-named.
    const logGroupPrefix = args.namePrefix ?? `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
    // What the approvals rest on is never replaced or deleted by accident (see protectState).
    const protectState = args.protectState ?? true;
    const stateOptions = { parent, protect: protectState, retainOnDelete: protectState };

    const approverEmails = args.approverEmails.map((email) => email.toLowerCase());
    const protectTable = args.tableDeletionProtection ?? true;

    const topic = new aws.sns.Topic(`${name}-requests`, { displayName: "Approval requests", tags: { [ROUTED_TOPIC_TAG]: "true" } }, stateOptions);

    const table = new aws.dynamodb.Table(`${name}-requests`, {
      billingMode: "PAY_PER_REQUEST",
      hashKey: APPROVALS_TABLE_KEY,
      attributes: [
        { name: APPROVALS_TABLE_KEY, type: "S" },
        { name: STATUS_INDEX.hashKey, type: "S" },
        { name: STATUS_INDEX.rangeKey, type: "S" },
      ],
      // Pending and decided requests by status, newest first: listing and auditing without a scan of links.
      globalSecondaryIndexes: [{
        name: STATUS_INDEX.name,
        keySchemas: [{ attributeName: STATUS_INDEX.hashKey, keyType: "HASH" }, { attributeName: STATUS_INDEX.rangeKey, keyType: "RANGE" }],
        projectionType: "INCLUDE",
        nonKeyAttributes: STATUS_INDEX_ATTRIBUTES,
      }],
      ttl: { attributeName: APPROVALS_TABLE_TTL_ATTRIBUTE, enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: protectTable,
      // The policy pack lets a table go without deletion protection only when it is marked throwaway.
      ...(protectTable ? {} : { tags: { [THROWAWAY_TABLE_TAG]: "true" } }),
    }, {
      ...stateOptions,
      // The audit trail outlives a mistaken destroy or rename: Pulumi forgets the table, AWS keeps it.
      retainOnDelete: protectTable || protectState,
    });

    const logGroup = (role: string, logGroupName: string) =>
      new aws.cloudwatch.LogGroup(`${name}-${role}-logs`, { name: logGroupName, retentionInDays: args.logRetentionDays }, { parent });

    const lambdaFunction = (handler: HandlerName, role: string, policy: (logGroupArn: pulumi.Output<string>) => pulumi.Output<PolicyDocument>, settings: {
      description: string;
      timeout: number;
      /** A role made beforehand (when another resource must name it); otherwise one is made here. */
      executionRole?: aws.iam.Role;
      environment: Record<string, pulumi.Input<string>>;
      reservedConcurrentExecutions?: number;
    }) => {
      const logs = logGroup(role, `/aws/lambda/${logGroupPrefix}-${role}`);
      const executionRole = settings.executionRole ?? new aws.iam.Role(`${name}-${role}-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")) }, { parent });
      const rolePolicy = new aws.iam.RolePolicy(`${name}-${role}-policy`, {
        role: executionRole.id,
        policy: policy(logs.arn).apply((document) => JSON.stringify(document)),
      }, { parent });
      const fn = new aws.lambda.Function(`${name}-${role}`, {
        description: settings.description,
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        handler: LAMBDA_HANDLER,
        code: lambdaCodeArchive(handler),
        role: executionRole.arn,
        memorySize: 256,
        timeout: settings.timeout,
        reservedConcurrentExecutions: settings.reservedConcurrentExecutions,
        environment: { variables: settings.environment },
        loggingConfig: { logFormat: "JSON", logGroup: logs.name, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
        // The policy pack uses this to allow a public Function URL on the decision function only.
        tags: { [FUNCTION_ROLE_TAG]: role },
      }, { parent, dependsOn: [rolePolicy] });
      return Object.assign(fn, { executionRole });
    };

    const approverSettings = {
      APPROVER_EMAILS: approverEmails.join(","),
      REQUIRED_APPROVALS: String(args.requiredApprovals ?? 1),
      ALLOW_SELF_APPROVAL: String(args.allowSelfApproval ?? false),
    };
    const signIn = args.signIn ? createSignInSecret(name, args.signIn, this) : undefined;
    // Named on every page and email subject, so nobody approves prod believing it is dev.
    const stackLabel = pulumi.getStack();
    const decisionFunction = lambdaFunction("decision", "decision", (logGroupArn) => pulumi.all([table.arn, topic.arn, logGroupArn, signIn?.secretArn]).apply(([tableArn, topicArn, logsArn, signInSecret]) => decisionPolicy({ table: tableArn, topic: topicArn, logGroup: logsArn, signInSecret })), {
      description: "Human approval: serves review pages and records votes",
      // API Gateway REST waits at most 29 s; the SDK clients' budgets fit inside this (functions/shared/awsClients.ts).
      timeout: DECISION_TIMEOUT_SECONDS,
      environment: { TABLE_NAME: table.name, TOPIC_ARN: topic.arn, APPROVER_EMAILS: approverSettings.APPROVER_EMAILS, STACK_LABEL: stackLabel, ...signIn?.environment },
      reservedConcurrentExecutions: args.decisionReservedConcurrency ?? -1,
    });

    const endpoint = DECISION_ENDPOINTS[args.transport](name, {
      decisionFunction,
      throttle: args.apiThrottle ?? { rateLimit: 10, burstLimit: 20 },
    }, this);

    // Links are MACs made with this key inside KMS (functions/shared/links.ts). Its policy lets only the
    // request-approval role use it, so the role is created first and the key names it.
    const requestRole = new aws.iam.Role(`${name}-request-approval-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")) }, { parent });
    const linkKey = new aws.kms.Key(`${name}-link-key`, {
      description: "Human approval: makes approvers' links (HMAC); only the request-approval role may use it",
      customerMasterKeySpec: "HMAC_256",
      keyUsage: "GENERATE_VERIFY_MAC",
      deletionWindowInDays: 30,
      policy: pulumi.all([accountId, partition, requestRole.arn]).apply(([account, awsPartition, role]) => JSON.stringify(linkKeyPolicy({ account, partition: awsPartition, requestRole: role }))),
    }, stateOptions);

    const approvalTimeoutSeconds = args.approvalTimeoutMinutes * 60;
    const reminderMinutes = args.reminderMinutesBeforeExpiry ?? [];
    // Only a stack with policies gets their settings: every other stack's resources stay as they were.
    const policies = args.approvalPolicies && Object.keys(args.approvalPolicies).length > 0 ? args.approvalPolicies : undefined;
    const timeoutOutcomes = Object.values(policies ?? {}).some((policy) => policy.onTimeout === "reject");
    const requestFunction = lambdaFunction("requestApproval", "request-approval", (logGroupArn) => pulumi.all([table.arn, topic.arn, logGroupArn, linkKey.arn]).apply(([tableArn, topicArn, logsArn, keyArn]) => requestApprovalPolicy({ table: tableArn, topic: topicArn, logGroup: logsArn, linkKey: keyArn })), {
      description: "Human approval: stores an approval request and emails each approver their link",
      timeout: REQUEST_APPROVAL_TIMEOUT_SECONDS,
      executionRole: requestRole,
      environment: {
        TABLE_NAME: table.name,
        TOPIC_ARN: topic.arn,
        LINK_KEY_ID: linkKey.arn,
        ...approverSettings,
        CALLBACK_URL: endpoint.callbackUrl,
        APPROVAL_TIMEOUT_SECONDS: String(approvalTimeoutSeconds),
        AUDIT_RETENTION_DAYS: String(args.auditRetentionDays),
        STACK_LABEL: stackLabel,
        ...(args.emailSubject ? { EMAIL_SUBJECT: args.emailSubject } : {}),
        ...(reminderMinutes.length ? { REMINDER_MINUTES_BEFORE_EXPIRY: reminderMinutes.join(",") } : {}),
        ...(policies ? { APPROVAL_POLICIES: JSON.stringify(policies) } : {}),
      },
    });

    const stateMachineLogs = logGroup("state-machine", `/aws/vendedlogs/states/${logGroupPrefix}`);
    const stateMachineRole = new aws.iam.Role(`${name}-state-machine-role`, {
      assumeRolePolicy: accountId.apply((account) => JSON.stringify(assumeRolePolicy("states.amazonaws.com", account))),
    }, { parent });
    const approvedFunctionArn = pulumi.output(args.approvedFunctionArn);
    const stateMachineRolePolicy = new aws.iam.RolePolicy(`${name}-state-machine-policy`, {
      role: stateMachineRole.id,
      policy: pulumi.all([requestFunction.arn, approvedFunctionArn]).apply(([requestArn, approvedArn]) =>
        JSON.stringify(stateMachinePolicy({ requestFunction: requestArn, approvedFunction: approvedArn })),
      ),
    }, { parent });
    const stateMachine = new aws.sfn.StateMachine(`${name}-workflow`, {
      type: "STANDARD",
      roleArn: stateMachineRole.arn,
      definition: pulumi.all([requestFunction.arn, partition, approvedFunctionArn]).apply(([requestFunctionArn, awsPartition, approvedArn]) =>
        JSON.stringify(buildStateMachineDefinition({ requestFunctionArn, approvalTimeoutSeconds, partition: awsPartition, approvedFunctionArn: approvedArn, ...(timeoutOutcomes ? { timeoutOutcomes } : {}) }), null, 2),
      ),
      // ERROR level without execution data: no input, output or task token reaches the logs.
      loggingConfiguration: { level: "ERROR", includeExecutionData: false, logDestination: pulumi.interpolate`${stateMachineLogs.arn}:*` },
    }, { parent, dependsOn: [stateMachineRolePolicy] });

    // Reading what an execution received: only this state machine's executions.
    new aws.iam.RolePolicy(`${name}-decision-verify-policy`, {
      role: decisionFunction.executionRole.id,
      policy: pulumi.all([partition, region, accountId, stateMachine.name]).apply(([awsPartition, awsRegion, account, machine]) =>
        JSON.stringify(decisionVerifyPolicy({ executions: `arn:${awsPartition}:states:${awsRegion}:${account}:execution:${machine}:*` })),
      ),
    }, { parent });

    // Withdrawn (stopped) or broken executions close their request, and the sweeper (and reminders) run on a
    // schedule: all are EventBridge events into the request function, which may check, read and answer this
    // state machine's executions and query the status index (nothing else of the table beyond its own policy).
    new aws.iam.RolePolicy(`${name}-request-approval-events-policy`, {
      role: requestRole.id,
      policy: pulumi.all([partition, region, accountId, stateMachine.name, table.arn]).apply(([awsPartition, awsRegion, account, machine, tableArn]) =>
        JSON.stringify(requestEventsPolicy({
          executions: `arn:${awsPartition}:states:${awsRegion}:${account}:execution:${machine}:*`,
          statusIndex: `${tableArn}/index/${STATUS_INDEX.name}`,
        })),
      ),
    }, { parent });
    routeRequestEvents(name, { requestFunction, stateMachineArn: stateMachine.arn, reminderMinutesBeforeExpiry: reminderMinutes, sweepIntervalMinutes: args.sweepIntervalMinutes ?? 1, ...(policies ? { policyFollowUp: true } : {}) }, this);

    if (args.alarmEmail || args.alarmTopicArn) {
      createAlarms(name, {
        alarmEmail: args.alarmEmail,
        alarmTopicArn: args.alarmTopicArn,
        namePrefix: logGroupPrefix,
        stateMachineArn: stateMachine.arn,
        functions: {
          requestApproval: { name: requestFunction.name, logGroup: `/aws/lambda/${logGroupPrefix}-request-approval` },
          decision: { name: decisionFunction.name, logGroup: `/aws/lambda/${logGroupPrefix}-decision` },
        },
        // A topic's name is the last part of its ARN.
        approvalsTopicName: topic.arn.apply((arn) => arn.split(":").pop()!),
        serverErrors: endpoint.serverErrors,
        partition,
        region,
        account: accountId,
      }, this);
    }

    // Only this stack's functions write the table and publish; only the deployer subscribes, only approvers' addresses, by email.
    const trusted = trustedPrincipals(args, partition, this);
    protectApprovalsTable(name, { table, writerRoles: [requestFunction.executionRole.arn, decisionFunction.executionRole.arn], trusted }, this);
    const topicAccess = new aws.sns.TopicPolicy(`${name}-requests-policy`, {
      arn: topic.arn,
      policy: pulumi.all([topic.arn, requestFunction.executionRole.arn, decisionFunction.executionRole.arn, trusted]).apply(([topicArn, requestRoleArn, decisionRoleArn, trustedArns]) =>
        JSON.stringify(topicPolicy({ topic: topicArn, publisherRoles: [requestRoleArn, decisionRoleArn], approverEmails, trusted: trustedArns })),
      ),
    }, { parent });
    // One subscription per approver, receiving only the messages meant for that address. The logical name is the
    // address in lower case, so a change of case in config replaces nothing; it was once the address as typed,
    // which an alias keeps (a confirmed subscription is never recreated: its approver would have to confirm again).
    for (const email of args.approverEmails) {
      const address = email.toLowerCase();
      new aws.sns.TopicSubscription(`${name}-approver-${address}`, {
        topic: topic.arn,
        protocol: "email",
        endpoint: address,
        filterPolicyScope: "MessageAttributes",
        filterPolicy: JSON.stringify({ approver: [address] }),
      }, {
        parent,
        dependsOn: [topicAccess],
        aliases: address === email ? [] : [{ name: `${name}-approver-${email}` }],
        // A changed endpoint replaces a subscription. Under one logical name only the case can change, and a
        // mailbox does not care: a subscription made as "Ann@Example.com" stays as it is.
        ignoreChanges: ["endpoint"],
      });
    }

    this.transport = args.transport;
    this.callbackUrl = endpoint.callbackUrl;
    this.stateMachineArn = stateMachine.arn;
    this.topicArn = topic.arn;
    this.approvalsTableName = table.name;
    this.registerOutputs({
      transport: this.transport,
      callbackUrl: this.callbackUrl,
      stateMachineArn: this.stateMachineArn,
      topicArn: this.topicArn,
      approvalsTableName: this.approvalsTableName,
    });
  }
}
