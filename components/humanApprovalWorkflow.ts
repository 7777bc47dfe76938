import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Transport } from "../functions/decision/httpEvent";
import { LAMBDA_HANDLER, type HandlerName } from "../functions/bundle";
import { APPROVALS_TABLE_KEY, APPROVALS_TABLE_TTL_ATTRIBUTE } from "../functions/shared/approvalRequest";
import { lambdaCodeArchive } from "./lambdaCode";
import { assumeRolePolicy, decisionPolicy, FUNCTION_ROLE_TAG, requestApprovalPolicy, stateMachinePolicy, type PolicyDocument } from "./policies";
import { buildStateMachineDefinition } from "./stateMachineDefinition";
import { DECISION_ENDPOINTS } from "./transports";

export const LAMBDA_RUNTIME = "nodejs24.x";
export const LAMBDA_ARCHITECTURE = "arm64";

export interface HumanApprovalWorkflowArgs {
  /** How approvers' clicks reach the decision function. */
  transport: Transport;
  /** Each address gets an SNS email subscription (the recipient must confirm it once). */
  approverEmails: string[];
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
    // Physical names of log groups are stable and readable; everything else is auto-named.
    const logGroupPrefix = `${name}-${pulumi.getStack()}`;

    const topic = new aws.sns.Topic(`${name}-requests`, { displayName: "Approval requests" }, { parent });
    for (const email of args.approverEmails) {
      new aws.sns.TopicSubscription(`${name}-approver-${email}`, { topic: topic.arn, protocol: "email", endpoint: email }, { parent });
    }

    const table = new aws.dynamodb.Table(`${name}-requests`, {
      billingMode: "PAY_PER_REQUEST",
      hashKey: APPROVALS_TABLE_KEY,
      attributes: [{ name: APPROVALS_TABLE_KEY, type: "S" }],
      ttl: { attributeName: APPROVALS_TABLE_TTL_ATTRIBUTE, enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
    }, { parent });

    const logGroup = (role: string, logGroupName: string) =>
      new aws.cloudwatch.LogGroup(`${name}-${role}-logs`, { name: logGroupName, retentionInDays: args.logRetentionDays }, { parent });

    const lambdaFunction = (handler: HandlerName, role: string, policy: (logGroupArn: pulumi.Output<string>) => pulumi.Output<PolicyDocument>, settings: {
      description: string;
      timeout: number;
      environment: Record<string, pulumi.Input<string>>;
      reservedConcurrentExecutions?: number;
    }) => {
      const logs = logGroup(role, `/aws/lambda/${logGroupPrefix}-${role}`);
      const executionRole = new aws.iam.Role(`${name}-${role}-role`, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("lambda.amazonaws.com")) }, { parent });
      const rolePolicy = new aws.iam.RolePolicy(`${name}-${role}-policy`, {
        role: executionRole.id,
        policy: policy(logs.arn).apply((document) => JSON.stringify(document)),
      }, { parent });
      return new aws.lambda.Function(`${name}-${role}`, {
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
    };

    const decisionFunction = lambdaFunction("decision", "decision", (logGroupArn) => pulumi.all([table.arn, logGroupArn]).apply(([tableArn, logsArn]) => decisionPolicy({ table: tableArn, logGroup: logsArn })), {
      description: "Human approval: serves review pages and records decisions",
      // API Gateway REST waits at most 29 s; a decision takes well under a second.
      timeout: 10,
      environment: { TABLE_NAME: table.name },
      reservedConcurrentExecutions: args.decisionReservedConcurrency ?? -1,
    });

    const endpoint = DECISION_ENDPOINTS[args.transport](name, {
      decisionFunction,
      throttle: args.apiThrottle ?? { rateLimit: 10, burstLimit: 20 },
    }, this);

    const approvalTimeoutSeconds = args.approvalTimeoutMinutes * 60;
    const requestFunction = lambdaFunction("requestApproval", "request-approval", (logGroupArn) => pulumi.all([table.arn, topic.arn, logGroupArn]).apply(([tableArn, topicArn, logsArn]) => requestApprovalPolicy({ table: tableArn, topic: topicArn, logGroup: logsArn })), {
      description: "Human approval: stores an approval request and emails its link",
      timeout: 30,
      environment: {
        TABLE_NAME: table.name,
        TOPIC_ARN: topic.arn,
        CALLBACK_URL: endpoint.callbackUrl,
        APPROVAL_TIMEOUT_SECONDS: String(approvalTimeoutSeconds),
        AUDIT_RETENTION_DAYS: String(args.auditRetentionDays),
        ...(args.emailSubject ? { EMAIL_SUBJECT: args.emailSubject } : {}),
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
        JSON.stringify(buildStateMachineDefinition({ requestFunctionArn, approvalTimeoutSeconds, partition: awsPartition, approvedFunctionArn: approvedArn }), null, 2),
      ),
      // ERROR level without execution data: no input, output or task token reaches the logs.
      loggingConfiguration: { level: "ERROR", includeExecutionData: false, logDestination: pulumi.interpolate`${stateMachineLogs.arn}:*` },
    }, { parent, dependsOn: [stateMachineRolePolicy] });

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
