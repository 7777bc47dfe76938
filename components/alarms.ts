/**
 * CloudWatch alarms for the platform team (config `alarmEmail` or `alarmTopicArn`; off by default): failed
 * or timed-out executions, either function's errors and throttles, 5xx on the API Gateway transports, and
 * SNS deliveries that failed. Each alarm's description says what it means and where to look. They go to a
 * topic of their own that emails `alarmEmail`, or to an existing topic.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmTopicPolicy } from "./policies";

/** The API Gateway metric that counts the transport's 5xx answers, when the transport is an API. */
export interface ServerErrorMetric {
  metricName: "5XXError" | "5xx";
  dimensions: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** What it is, for the description: "REST API", "HTTP API". */
  kind: string;
}

export interface AlarmsArgs {
  /** Exactly one of these: an address (the alarms get a topic of their own) or an existing topic's ARN. */
  alarmEmail?: string;
  alarmTopicArn?: pulumi.Input<string>;
  /** Physical-name prefix (the component's `namePrefix`): alarm names read well in the emails. */
  namePrefix: string;
  stateMachineArn: pulumi.Input<string>;
  functions: { requestApproval: { name: pulumi.Input<string>; logGroup: pulumi.Input<string> }; decision: { name: pulumi.Input<string>; logGroup: pulumi.Input<string> } };
  approvalsTopicName: pulumi.Input<string>;
  serverErrors?: ServerErrorMetric;
  partition: pulumi.Input<string>;
  region: pulumi.Input<string>;
  account: pulumi.Input<string>;
}

/** One alarm per entry: any occurrence in five minutes alarms; no data is fine (nothing happened). */
export interface AlarmSpec {
  /** The end of the alarm's name and logical name. */
  id: string;
  namespace: string;
  metricName: string;
  dimensions: pulumi.Input<Record<string, pulumi.Input<string>>>;
  description: pulumi.Input<string>;
}

export function alarmSpecs(args: AlarmsArgs): AlarmSpec[] {
  const fn = args.functions;
  const specs: AlarmSpec[] = [
    {
      id: "executions-failed",
      namespace: "AWS/States",
      metricName: "ExecutionsFailed",
      dimensions: { StateMachineArn: args.stateMachineArn },
      description: pulumi.interpolate`An approval execution failed. Open it in the Step Functions console (state machine ${args.stateMachineArn}): "Approval request refused" is a caller's mistake, its cause names it (an approver not in approverEmails, too few eligible approvers); "Approval request failed" means the request-approval function could not store or email the request after retries: see ${fn.requestApproval.logGroup}.`,
    },
    {
      id: "executions-timed-out",
      namespace: "AWS/States",
      metricName: "ExecutionsTimedOut",
      dimensions: { StateMachineArn: args.stateMachineArn },
      description: pulumi.interpolate`An approval execution timed out as a whole (an approval that nobody decided does not: it ends successfully with decision "expired"). Open it in the Step Functions console (state machine ${args.stateMachineArn}) and check the state machine's definition and log group.`,
    },
    {
      id: "request-approval-errors",
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: fn.requestApproval.name },
      description: pulumi.interpolate`The request-approval function failed an invocation: a request could not be stored or emailed (the state machine retries it), a reminder email or an execution's withdrawal failed (EventBridge retries). Search ${fn.requestApproval.logGroup} for level ERROR or WARN; each line names the requestRef.`,
    },
    {
      id: "request-approval-throttles",
      namespace: "AWS/Lambda",
      metricName: "Throttles",
      dimensions: { FunctionName: fn.requestApproval.name },
      description: pulumi.interpolate`The request-approval function was throttled: the account's Lambda concurrency is exhausted. Requests and reminders are retried, but late. Check the account's concurrent executions and which functions use them.`,
    },
    {
      id: "decision-errors",
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: fn.decision.name },
      description: pulumi.interpolate`The decision function failed an invocation: an approver got an error instead of a page, and their vote may not be recorded. Search ${fn.decision.logGroup} for level ERROR; each line names the requestRef and the transport.`,
    },
    {
      id: "decision-throttles",
      namespace: "AWS/Lambda",
      metricName: "Throttles",
      dimensions: { FunctionName: fn.decision.name },
      description: pulumi.interpolate`The decision function was throttled: approvers got an error page. Its reserved concurrency (config decisionReservedConcurrency) is exhausted: a flood of requests to the public endpoint, or a limit too low for the number of approvers.`,
    },
    {
      id: "email-delivery-failed",
      namespace: "AWS/SNS",
      metricName: "NumberOfNotificationsFailed",
      dimensions: { TopicName: args.approvalsTopicName },
      description: pulumi.interpolate`SNS could not deliver approval emails (topic ${args.approvalsTopicName}): an address bounced or its subscription is gone. List the subscriptions (aws sns list-subscriptions-by-topic) and confirm or re-add the approver; the request itself waits until it expires.`,
    },
  ];
  if (args.serverErrors) {
    specs.push({
      id: "endpoint-5xx",
      namespace: "AWS/ApiGateway",
      metricName: args.serverErrors.metricName,
      dimensions: args.serverErrors.dimensions,
      description: pulumi.interpolate`The decision endpoint (${args.serverErrors.kind}) answered 5xx: the decision function failed, timed out or was throttled, or answered 503 (DynamoDB throttled, or a decision not yet delivered to the workflow; the next visit retries). Search ${fn.decision.logGroup} for level WARN and ERROR.`,
    });
  }
  return specs;
}

export function createAlarms(name: string, args: AlarmsArgs, parent: pulumi.Resource): { alarmTopicArn: pulumi.Output<string>; alarms: aws.cloudwatch.MetricAlarm[] } {
  let alarmTopicArn: pulumi.Output<string>;
  if (args.alarmEmail) {
    const topic = new aws.sns.Topic(`${name}-alarms`, { displayName: "Human approval alarms" }, { parent });
    const access = new aws.sns.TopicPolicy(`${name}-alarms-policy`, {
      arn: topic.arn,
      policy: pulumi.all([topic.arn, args.account, args.partition, args.region]).apply(([topicArn, account, partition, region]) =>
        JSON.stringify(alarmTopicPolicy({ topic: topicArn, account, partition, region, alarmEmail: args.alarmEmail! })),
      ),
    }, { parent });
    new aws.sns.TopicSubscription(`${name}-alarms-${args.alarmEmail}`, { topic: topic.arn, protocol: "email", endpoint: args.alarmEmail }, { parent, dependsOn: [access] });
    alarmTopicArn = topic.arn;
  } else if (args.alarmTopicArn) {
    alarmTopicArn = pulumi.output(args.alarmTopicArn);
  } else {
    throw new Error("createAlarms needs alarmEmail or alarmTopicArn.");
  }
  const alarms = alarmSpecs(args).map((spec) =>
    new aws.cloudwatch.MetricAlarm(`${name}-${spec.id}`, {
      name: `${args.namePrefix}-${spec.id}`,
      alarmDescription: spec.description,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: spec.dimensions,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [alarmTopicArn],
      okActions: [alarmTopicArn],
    }, { parent }),
  );
  return { alarmTopicArn, alarms };
}
