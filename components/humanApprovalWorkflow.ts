import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Transport } from "./transport";
import { LAMBDA_HANDLER, type HandlerName } from "../functions/bundle";
import { APPROVALS_TABLE_KEY, APPROVALS_TABLE_TTL_ATTRIBUTE, STATUS_INDEX, STATUS_INDEX_ATTRIBUTES } from "../functions/shared/approvalRequest";
import { DECISION_TIMEOUT_SECONDS, REQUEST_APPROVAL_TIMEOUT_SECONDS } from "../functions/shared/awsClients";
import type { ReasonRequirement, TimeoutOutcome } from "./policyEnums";
import { lambdaCodeArchive } from "./lambdaCode";
import { createAlarms } from "./alarms";
import { assumeRolePolicy, decisionPolicy, decisionVerifyPolicy, FUNCTION_ROLE_TAG, linkKeyPolicy, THROWAWAY_TABLE_TAG, requestApprovalPolicy, requestEventsPolicy, ROUTED_TOPIC_TAG, stateMachinePolicy, topicPolicy, type PolicyDocument } from "./policies";
import { routeRequestEvents } from "./reminders";
import { APPROVAL_DECIDED, buildApprovalStates } from "./approvalStates";
import { WORKFLOW_DEFAULTS } from "./defaults";
import { createSignInSecret } from "./signIn";
import { createSlackSecret, SLACK_ROUTE } from "./slack";
import { buildStateMachineDefinition } from "./stateMachineDefinition";
import { protectApprovalsTable, trustedPrincipals } from "./trustAnchors";
import { DECISION_ENDPOINTS } from "./transports";
import { DECISION_ROUTES } from "./transports/decisionEndpoint";

export const LAMBDA_RUNTIME = "nodejs24.x";
export const LAMBDA_ARCHITECTURE = "arm64";

// The nested argument types are named interfaces declared here, before the class: schema inference turns them
// into named types and reads their doc comments only from the component's own file. Their names do not end in
// "Args": the Python and .NET SDKs add that suffix themselves (ApiThrottleSettingsArgs).

/**
 * API Gateway throttling of the decision endpoint (the REST and HTTP API transports; a Function URL
 * has none, see `decisionReservedConcurrency`).
 */
export interface ApiThrottleSettings {
  /** Steady-state requests per second. Default 10. */
  rateLimit: pulumi.Input<number>;
  /** Burst of requests allowed above the steady rate. Default 20. */
  burstLimit: pulumi.Input<number>;
}

/**
 * OpenID Connect sign-in for approvers: a link then opens only for its approver, after they sign in with
 * this provider. The client secret goes to AWS Secrets Manager, readable by the decision function only.
 */
export interface SignInSettings {
  /** https URL of the OpenID Connect issuer (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer: pulumi.Input<string>;
  /** The OpenID client registered for this workflow; its redirect URI is `<callbackUrl>/auth/callback`. */
  clientId: pulumi.Input<string>;
  /** The client's secret: pass a Pulumi secret. It is stored in Secrets Manager and nowhere else. */
  clientSecret: pulumi.Input<string>;
}

/** Slack decisions: the stack's `slackSigningSecret` and `slackBotToken` (both `pulumi config set --secret`). */
export interface SlackSettings {
  /** The Slack app's signing secret (Basic Information → App Credentials): verifies every interaction request. Pass a Pulumi secret. */
  signingSecret: pulumi.Input<string>;
  /** The app's bot token (xoxb-…), with the scopes chat:write, im:write, users:read and users:read.email. Pass a Pulumi secret. */
  botToken: pulumi.Input<string>;
}

/** One rule of a policy's stage: this many approvals from this group, and whom to ask when they do not come. */
export interface ApprovalRuleSettings {
  /** The group's name, as in the stack's `approverGroups`. */
  group: string;
  /** The group's addresses (each also in `approverEmails`, which makes their subscriptions). */
  members: string[];
  /** Approvals from the group that satisfy the rule; the requester never counts. */
  required: number;
  /** Minutes after the stage opened at which an unsatisfied rule asks its backup group too. */
  escalateAfterMinutes?: number;
  /** The backup group's name; their approvals count toward this rule once they are asked. */
  escalateTo?: string;
  /** The backup group's addresses. */
  escalationMembers?: string[];
}

/** One stage of a policy: every rule must hold before the next stage's approvers are asked. */
export interface ApprovalStageSettings {
  /** The rules that must all hold. */
  rules: ApprovalRuleSettings[];
}

/** A named approval policy: stages in order, what expiry means, and which votes need a comment (docs/policies.md). */
export interface ApprovalPolicySettings {
  /** The policy's name; an execution's input names it with `policy`. */
  name: string;
  /** The stages, in order. */
  stages: ApprovalStageSettings[];
  /** What expiry means for a request under this policy: expire (the default) or reject. */
  onTimeout: TimeoutOutcome;
  /** Which votes need a comment: none, reject, approve or both. */
  requireReason: ReasonRequirement;
}

/**
 * The arguments of a HumanApprovalWorkflow. Most accept an `Input` (a value or another resource's output);
 * the few that stay plain values decide which resources exist or their resource options, which a program
 * must know before anything is deployed (each says so).
 */
export interface HumanApprovalWorkflowArgs {
  /**
   * How approvers' clicks reach the decision function: restApi, httpApi or functionUrl. Default functionUrl.
   * A plain value: it decides which resources make the endpoint.
   */
  transport?: Transport;
  /**
   * The approvers. Each address gets an SNS email subscription (the recipient confirms it once) that receives only
   * its own messages. A plain list: there is one subscription resource per address.
   */
  approverEmails: string[];
  /** Distinct approvals that settle a request (the first rejection always rejects). Default 1. */
  requiredApprovals?: pulumi.Input<number>;
  /** May a request's `requestedBy` approve it. Default false. */
  allowSelfApproval?: pulumi.Input<boolean>;
  /**
   * Deletion protection on the approvals table (the audit trail), and keeping it in AWS when it leaves the program.
   * Default true; turn it off only for throwaway stacks. A plain value: it sets a resource option (retainOnDelete).
   */
  tableDeletionProtection?: boolean;
  /** How long a request waits, in minutes: the task's TimeoutSeconds and the links' expiry. Default 1440 (a day). */
  approvalTimeoutMinutes?: pulumi.Input<number>;
  /** Retention in days of every log group this component creates (a CloudWatch Logs retention value). Default 14. */
  logRetentionDays?: pulumi.Input<number>;
  /** Days a request stays in the table after it expires (DynamoDB TTL). Default 90. */
  auditRetentionDays?: pulumi.Input<number>;
  /** Email subject; `{title}` is replaced by the request's title. Default "Approval needed: {title}". */
  emailSubject?: pulumi.Input<string>;
  /** API Gateway throttling (REST and HTTP API transports). Default 10 requests per second, bursts of 20. */
  apiThrottle?: pulumi.Input<ApiThrottleSettings>;
  /**
   * Reserved (and so maximum) concurrency of the decision function, capping what a flood of requests to the
   * public endpoint can cost; -1 reserves none. Default 5, as the stand-alone stack.
   */
  decisionReservedConcurrency?: pulumi.Input<number>;
  /** ARN of a Lambda function the component's own state machine runs after approval, with the execution's state. */
  approvedFunctionArn?: pulumi.Input<string>;
  /**
   * OpenID Connect sign-in for approvers. Unset: links work without sign-in (whoever holds a link decides as its
   * approver). Set or unset, not an Input: it decides whether the Secrets Manager secret exists (its fields are Inputs).
   */
  signIn?: SignInSettings;
  /**
   * Slack decisions: each asked approver also gets a direct message with Approve and Reject, verified by Slack's
   * signature and the approver's Slack identity. Set or unset, not an Input: it decides whether the Secrets Manager
   * secret and the Slack route exist (its fields are Inputs). Unset: nothing of Slack is deployed.
   */
  slack?: SlackSettings;
  /**
   * Minutes before expiry at which approvers who have not voted are reminded (an EventBridge schedule); empty or
   * unset: none. A plain list: whether the reminder schedule exists, and how often it runs, depends on it.
   */
  reminderMinutesBeforeExpiry?: number[];
  /** Minutes between runs of the sweeper, which completes unfinished deliveries (an EventBridge schedule). Default 1. */
  sweepIntervalMinutes?: pulumi.Input<number>;
  /**
   * CloudWatch alarms to a new topic that emails this address; or set `alarmTopicArn`. Neither: no alarms.
   * A plain value: it decides whether the alarm topic and its subscription exist.
   */
  alarmEmail?: string;
  /** CloudWatch alarms to this existing SNS topic (it must let cloudwatch.amazonaws.com publish). */
  alarmTopicArn?: pulumi.Input<string>;
  /**
   * Start of the physical names this component gives (log groups, alarms). Default `<project>-<stack>-<name>`,
   * unique per component, program and stack in an account; the stand-alone stack passes `<project>-<stack>`,
   * the names it has always had. A plain value: the alarms' metric filters name the log groups while the
   * program runs.
   */
  namePrefix?: string;
  /**
   * Pulumi `protect` and `retainOnDelete` on what the approvals rest on: the table (the audit trail), the link
   * key (every outstanding link) and the topic (every confirmed subscription). A rename or move without
   * `aliases` then fails its preview instead of replacing them, and `pulumi destroy` leaves them in AWS.
   * Default true; false only for throwaway stacks (with `tableDeletionProtection: false`). A plain value: it
   * sets resource options.
   */
  protectState?: boolean;
  /**
   * The principal (IAM role or user ARN) that manages the approvals table and the topic's subscriptions; nobody
   * else may subscribe, change the topic or the table's policy. Default: whoever runs `pulumi up`.
   */
  deployerArn?: pulumi.Input<string>;
  /** An operator role that may also write the approvals table and subscribe approvers (a documented repair path). */
  breakGlassRoleArn?: pulumi.Input<string>;
  /**
   * Names of your own state machines that embed `approvalStates` (composition, see docs/component.md). Their
   * executions may then be checked and answered by this component's functions, and a stopped execution closes
   * its request. Names, not ARNs: your state machine's definition holds this component's outputs, so its ARN
   * would make a cycle; give it this explicit `name`.
   */
  callerStateMachineNames?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Named approval policies, their groups resolved to addresses (stacks/config.ts reads them from `approverGroups`
   * and `approvalPolicies`); an execution's input names one with `policy`. Unset: today's one rule. A plain map:
   * whether the follow-up schedule and the timeout-outcome states exist depends on it.
   */
  approvalPolicies?: Record<string, ApprovalPolicySettings>;
}

/**
 * An AWS Step Functions workflow that waits for a person to approve or reject
 * it from an email: SNS topic, approvals table, request-approval and decision
 * functions, state machine, their IAM roles and log groups, and the transport
 * that makes the decision function reachable.
 */
export class HumanApprovalWorkflow extends pulumi.ComponentResource {
  /** Which transport serves the links: restApi, httpApi or functionUrl. */
  public readonly transport: Transport;
  /** Public base URL of the decision endpoint; links are `<callbackUrl>/requests/<id>`. */
  public readonly callbackUrl: pulumi.Output<string>;
  /** The component's own state machine: start an execution of it to ask for approval. */
  public readonly stateMachineArn: pulumi.Output<string>;
  /** The SNS topic approvers are subscribed to. */
  public readonly topicArn: pulumi.Output<string>;
  /** Name of the DynamoDB table holding approval requests (the audit trail). */
  public readonly approvalsTableName: pulumi.Output<string>;
  /**
   * ARN of the request-approval function, which the approval step's tasks invoke. A state machine of yours that
   * embeds `approvalStates` needs `lambda:InvokeFunction` on it.
   */
  public readonly requestFunctionArn: pulumi.Output<string>;
  /**
   * The approval step as Amazon States Language states, to add to your own state machine's `States`: enter at
   * "Request approval" (a `lambda:invoke.waitForTaskToken` task); every outcome goes on to the state
   * "Approval decided", which your machine defines, with the decision at `$.approval.decision` ("approved",
   * "rejected" or "expired"). See docs/component.md.
   */
  public readonly approvalStates: pulumi.Output<{ [stateName: string]: any }>;

  constructor(name: string, args: HumanApprovalWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
    super("human-approval:index:HumanApprovalWorkflow", name, {}, opts);
    const parent = this;
    const partition = aws.getPartitionOutput({}, { parent }).partition;
    const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const region = aws.getRegionOutput({}, { parent }).region;
    // Physical names of log groups and alarms are stable and readable; everything else is auto-named.
    const logGroupPrefix = args.namePrefix ?? `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
    // What the approvals rest on is never replaced or deleted by accident (see protectState).
    const protectState = args.protectState ?? WORKFLOW_DEFAULTS.protectState;
    const stateOptions = { parent, protect: protectState, retainOnDelete: protectState };

    const approverEmails = args.approverEmails.map((email) => email.toLowerCase());
    const protectTable = args.tableDeletionProtection ?? WORKFLOW_DEFAULTS.tableDeletionProtection;
    const transport = args.transport ?? WORKFLOW_DEFAULTS.transport;

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
      new aws.cloudwatch.LogGroup(`${name}-${role}-logs`, { name: logGroupName, retentionInDays: args.logRetentionDays ?? WORKFLOW_DEFAULTS.logRetentionDays }, { parent });

    const lambdaFunction = (handler: HandlerName, role: string, policy: (logGroupArn: pulumi.Output<string>) => pulumi.Output<PolicyDocument>, settings: {
      description: string;
      timeout: number;
      /** A role made beforehand (when another resource must name it); otherwise one is made here. */
      executionRole?: aws.iam.Role;
      environment: Record<string, pulumi.Input<string>>;
      reservedConcurrentExecutions?: pulumi.Input<number>;
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
      REQUIRED_APPROVALS: pulumi.output(args.requiredApprovals ?? WORKFLOW_DEFAULTS.requiredApprovals).apply(String),
      ALLOW_SELF_APPROVAL: pulumi.output(args.allowSelfApproval ?? WORKFLOW_DEFAULTS.allowSelfApproval).apply(String),
    };
    const signIn = args.signIn ? createSignInSecret(name, args.signIn, this) : undefined;
    const slack = args.slack ? createSlackSecret(name, args.slack, this) : undefined;
    // Named on every page and email subject, so nobody approves prod believing it is dev.
    const stackLabel = pulumi.getStack();
    const decisionFunction = lambdaFunction("decision", "decision", (logGroupArn) => pulumi.all([table.arn, topic.arn, logGroupArn, signIn?.secretArn, slack?.secretArn]).apply(([tableArn, topicArn, logsArn, signInSecret, slackSecret]) => decisionPolicy({ table: tableArn, topic: topicArn, logGroup: logsArn, signInSecret, slackSecret })), {
      description: "Human approval: serves review pages and records votes",
      // API Gateway REST waits at most 29 s; the SDK clients' budgets fit inside this (functions/shared/awsClients.ts).
      timeout: DECISION_TIMEOUT_SECONDS,
      environment: { TABLE_NAME: table.name, TOPIC_ARN: topic.arn, APPROVER_EMAILS: approverSettings.APPROVER_EMAILS, STACK_LABEL: stackLabel, ...signIn?.environment, ...slack?.environment },
      reservedConcurrentExecutions: args.decisionReservedConcurrency ?? WORKFLOW_DEFAULTS.decisionReservedConcurrency,
    });

    const throttle = pulumi.output(args.apiThrottle ?? WORKFLOW_DEFAULTS.apiThrottle);
    const endpoint = DECISION_ENDPOINTS[transport](name, {
      decisionFunction,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      ...(slack ? { routes: [...DECISION_ROUTES, SLACK_ROUTE] } : {}),
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

    const approvalTimeoutSeconds = pulumi.output(args.approvalTimeoutMinutes ?? WORKFLOW_DEFAULTS.approvalTimeoutMinutes).apply((minutes) => minutes * 60);
    const reminderMinutes = args.reminderMinutesBeforeExpiry ?? [];
    // Only a stack with policies gets their settings: every other stack's resources stay as they were.
    const policies = args.approvalPolicies && Object.keys(args.approvalPolicies).length > 0 ? args.approvalPolicies : undefined;
    const timeoutOutcomes = Object.values(policies ?? {}).some((policy) => policy.onTimeout === "reject");
    const requestFunction = lambdaFunction("requestApproval", "request-approval", (logGroupArn) => pulumi.all([table.arn, topic.arn, logGroupArn, linkKey.arn, slack?.secretArn]).apply(([tableArn, topicArn, logsArn, keyArn, slackSecret]) => requestApprovalPolicy({ table: tableArn, topic: topicArn, logGroup: logsArn, linkKey: keyArn, slackSecret })), {
      description: "Human approval: stores an approval request and emails each approver their link",
      timeout: REQUEST_APPROVAL_TIMEOUT_SECONDS,
      executionRole: requestRole,
      environment: {
        TABLE_NAME: table.name,
        TOPIC_ARN: topic.arn,
        LINK_KEY_ID: linkKey.arn,
        ...approverSettings,
        CALLBACK_URL: endpoint.callbackUrl,
        APPROVAL_TIMEOUT_SECONDS: approvalTimeoutSeconds.apply(String),
        AUDIT_RETENTION_DAYS: pulumi.output(args.auditRetentionDays ?? WORKFLOW_DEFAULTS.auditRetentionDays).apply(String),
        STACK_LABEL: stackLabel,
        ...(args.emailSubject ? { EMAIL_SUBJECT: args.emailSubject } : {}),
        ...(reminderMinutes.length ? { REMINDER_MINUTES_BEFORE_EXPIRY: reminderMinutes.join(",") } : {}),
        ...slack?.environment,
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
      definition: pulumi.all([requestFunction.arn, partition, approvedFunctionArn, approvalTimeoutSeconds]).apply(([requestFunctionArn, awsPartition, approvedArn, approvalTimeoutSeconds]) =>
        JSON.stringify(buildStateMachineDefinition({ requestFunctionArn, approvalTimeoutSeconds, partition: awsPartition, approvedFunctionArn: approvedArn, ...(timeoutOutcomes ? { timeoutOutcomes } : {}) }), null, 2),
      ),
      // ERROR level without execution data: no input, output or task token reaches the logs.
      loggingConfiguration: { level: "ERROR", includeExecutionData: false, logDestination: pulumi.interpolate`${stateMachineLogs.arn}:*` },
    }, { parent, dependsOn: [stateMachineRolePolicy] });

    // The state machines whose executions wait on this component: its own, and those of yours that embed
    // `approvalStates`. One string when there is only its own, as it has always been (no diff for existing stacks).
    const callerMachines = pulumi.output(args.callerStateMachineNames ?? []);
    const machineArns = (kind: "stateMachine" | "execution") =>
      pulumi.all([partition, region, accountId, stateMachine.name, callerMachines]).apply(([awsPartition, awsRegion, account, machine, callers]) => {
        const arns = [machine, ...callers].map((machineName) => `arn:${awsPartition}:states:${awsRegion}:${account}:${kind}:${machineName}${kind === "execution" ? ":*" : ""}`);
        return arns.length === 1 ? arns[0] : arns;
      });
    const executions = machineArns("execution");

    // Reading what an execution received: only these state machines' executions.
    new aws.iam.RolePolicy(`${name}-decision-verify-policy`, {
      role: decisionFunction.executionRole.id,
      policy: executions.apply((executionArns) => JSON.stringify(decisionVerifyPolicy({ executions: executionArns }))),
    }, { parent });

    // Withdrawn (stopped) or broken executions close their request, and the sweeper (and reminders) run on a
    // schedule: all are EventBridge events into the request function, which may check, read and answer these
    // state machines' executions and query the status index (nothing else of the table beyond its own policy).
    new aws.iam.RolePolicy(`${name}-request-approval-events-policy`, {
      role: requestRole.id,
      policy: pulumi.all([executions, table.arn]).apply(([executionArns, tableArn]) =>
        JSON.stringify(requestEventsPolicy({
          executions: executionArns,
          statusIndex: `${tableArn}/index/${STATUS_INDEX.name}`,
        })),
      ),
    }, { parent });
    const endedMachines = pulumi.all([stateMachine.arn, machineArns("stateMachine"), callerMachines]).apply(([own, all, callers]) => (callers.length ? all : own));
    routeRequestEvents(name, { requestFunction, stateMachineArn: endedMachines, reminderMinutesBeforeExpiry: reminderMinutes, sweepIntervalMinutes: args.sweepIntervalMinutes ?? WORKFLOW_DEFAULTS.sweepIntervalMinutes, ...(policies ? { policyFollowUp: true } : {}) }, this);

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

    this.transport = transport;
    this.callbackUrl = endpoint.callbackUrl;
    this.stateMachineArn = stateMachine.arn;
    this.topicArn = topic.arn;
    this.approvalsTableName = table.name;
    this.requestFunctionArn = requestFunction.arn;
    this.approvalStates = pulumi.all([requestFunction.arn, partition, approvalTimeoutSeconds]).apply(([requestFunctionArn, awsPartition, timeoutSeconds]) =>
      buildApprovalStates({ requestFunctionArn, partition: awsPartition, approvalTimeoutSeconds: timeoutSeconds, next: APPROVAL_DECIDED }));
    this.registerOutputs({
      transport: this.transport,
      callbackUrl: this.callbackUrl,
      stateMachineArn: this.stateMachineArn,
      topicArn: this.topicArn,
      approvalsTableName: this.approvalsTableName,
      requestFunctionArn: this.requestFunctionArn,
      approvalStates: this.approvalStates,
    });
  }
}
