import { strict as assert } from "node:assert";
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { HumanApprovalWorkflow, type HumanApprovalWorkflowArgs } from "../../components/humanApprovalWorkflow";
import { executionEndedPattern, reminderScheduleExpression, reminderScheduleMinutes } from "../../components/reminders";
import type { Transport } from "../../functions/decision/httpEvent";
import { HUMAN_APPROVAL_POLICIES } from "../../policy/rules";
import { readStackFile } from "../../stacks/stackFiles";
import { ACCOUNT, declared, declaredUnder, settled, useMocks, valueOf, type DeclaredResource } from "../support/pulumiMocks";
import { assertLeastPrivilege } from "../support/leastPrivilege";

const T = {
  function: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  table: "aws:dynamodb/table:Table",
  stateMachine: "aws:sfn/stateMachine:StateMachine",
  restApi: "aws:apigateway/restApi:RestApi",
  httpApi: "aws:apigatewayv2/api:Api",
};
const BASE = { approverEmails: ["ops@example.com", "lead@example.com"], approvalTimeoutMinutes: 1440, logRetentionDays: 14, auditRetentionDays: 30 };
const ALARM_EMAIL = "platform@example.com";
const ALARM_TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:platform-alarms`;

interface Stack {
  name: string;
  resources: ReturnType<typeof declaredUnder>;
  requestFunction: DeclaredResource;
  decisionFunction: DeclaredResource;
  stateMachine: DeclaredResource;
  policy(name: string): any;
}

async function deploy(name: string, args: Partial<HumanApprovalWorkflowArgs> & { transport: Transport }): Promise<Stack> {
  const workflow = new HumanApprovalWorkflow(name, { ...BASE, ...args });
  await valueOf(workflow.stateMachineArn);
  await settled();
  const resources = declaredUnder(`${name}-`);
  return {
    name,
    resources,
    requestFunction: resources.one(T.function, `${name}-request-approval`),
    decisionFunction: resources.one(T.function, `${name}-decision`),
    stateMachine: resources.one(T.stateMachine),
    policy: (policyName) => JSON.parse(resources.one(T.rolePolicy, `${name}-${policyName}`).inputs.policy),
  };
}

/** Every rule of the policy pack over these resources; the violations found. */
async function policyPackViolations(resources: DeclaredResource[]): Promise<string[]> {
  const found: string[] = [];
  for (const policy of HUMAN_APPROVAL_POLICIES) {
    const report = (message: string) => found.push(`${policy.name}: ${message}`);
    if ("validateResource" in policy) {
      for (const resource of resources) {
        for (const validate of ([] as any[]).concat(policy.validateResource).flat()) {
          await validate({ type: resource.type, props: resource.inputs, urn: resource.name, name: resource.name } as unknown as ResourceValidationArgs, report);
        }
      }
    }
    if ("validateStack" in policy) await policy.validateStack({ resources: resources.map((r) => ({ type: r.type, urn: r.name, props: r.state })) as PolicyResource[] } as never, report);
  }
  return found;
}

describe("reminders, withdrawal events and alarms (Pulumi mocks)", function () {
  this.timeout(60_000);
  before(() => useMocks("events"));

  describe("the reminder schedule's rate", () => {
    it("runs every 5 minutes when each reminder has at least 15 minutes before the next one (or the expiry), else every minute", () => {
      assert.equal(reminderScheduleMinutes([120, 60]), 5);
      assert.equal(reminderScheduleMinutes([60, 15]), 5);
      assert.equal(reminderScheduleMinutes([60, 10]), 1, "10 minutes before expiry is a narrow window");
      assert.equal(reminderScheduleMinutes([60, 50]), 1, "two reminders 10 minutes apart");
      assert.equal(reminderScheduleExpression([60, 10]), "rate(1 minute)");
      assert.equal(reminderScheduleExpression([240]), "rate(5 minutes)");
    });
  });

  describe("by default (no reminderMinutesBeforeExpiry, no alarmEmail or alarmTopicArn)", () => {
    let stack: Stack;
    before(async () => (stack = await deploy("events-default", { transport: "restApi" })));

    it("creates no reminder schedule, no alarm and no alarm topic", () => {
      assert.deepEqual(stack.resources.ofType(T.rule).map((rule) => rule.name).sort(), [`${stack.name}-execution-ended`, `${stack.name}-sweeper`]);
      assert.equal(stack.resources.ofType(T.alarm).length, 0);
      assert.equal(stack.resources.ofType(T.topic).length, 1, "only the approvals topic");
      assert.equal(stack.requestFunction.inputs.environment.variables.REMINDER_MINUTES_BEFORE_EXPIRY, undefined);
    });

    it("schedules the sweeper, {\"kind\":\"sweep\"} into the request function, every minute by default", async () => {
      const schedule = stack.resources.one(T.rule, `${stack.name}-sweeper`);
      assert.equal(schedule.inputs.scheduleExpression, "rate(1 minute)");
      const target = stack.resources.one(T.target, `${stack.name}-sweeper-target`);
      assert.equal(target.inputs.rule, schedule.state.name);
      assert.equal(target.inputs.arn, stack.requestFunction.state.arn);
      assert.deepEqual(JSON.parse(target.inputs.input), { kind: "sweep" });
      const permission = stack.resources.one(T.permission, `${stack.name}-sweeper-invoke`).inputs;
      assert.deepEqual([permission.principal, permission.function, permission.sourceArn], ["events.amazonaws.com", stack.requestFunction.state.name, schedule.state.arn]);
      const slow = await deploy("events-slow-sweeper", { transport: "functionUrl", sweepIntervalMinutes: 5 });
      assert.equal(slow.resources.one(T.rule, `${slow.name}-sweeper`).inputs.scheduleExpression, "rate(5 minutes)");
    });

    it("sends this state machine's stopped, failed and timed-out executions to the request function, and only those", () => {
      const rule = stack.resources.one(T.rule, `${stack.name}-execution-ended`);
      const machineArn = stack.stateMachine.state.arn;
      assert.deepEqual(JSON.parse(rule.inputs.eventPattern), executionEndedPattern(machineArn));
      assert.deepEqual(JSON.parse(rule.inputs.eventPattern), {
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: { stateMachineArn: [machineArn], status: ["ABORTED", "FAILED", "TIMED_OUT"] },
      });
      const target = stack.resources.one(T.target, `${stack.name}-execution-ended-target`);
      assert.equal(target.inputs.rule, rule.state.name);
      assert.equal(target.inputs.arn, stack.requestFunction.state.arn);
      assert.equal(target.inputs.input, undefined, "the event itself, unchanged");
      const permission = stack.resources.one(T.permission, `${stack.name}-execution-ended-invoke`).inputs;
      assert.deepEqual([permission.action, permission.principal, permission.function, permission.sourceArn], ["lambda:InvokeFunction", "events.amazonaws.com", stack.requestFunction.state.name, rule.state.arn]);
    });

    it("lets the request role read this state machine's executions only, query the status index only, and answer tasks (for the sweeper)", () => {
      const events = stack.policy("request-approval-events-policy");
      const table = stack.resources.one(T.table).state.arn;
      assertLeastPrivilege(events);
      assert.deepEqual(events.Statement, [
        { Sid: "ConfirmHowExecutionsEnded", Effect: "Allow", Action: ["states:DescribeExecution", "states:GetExecutionHistory"], Resource: `arn:aws:states:eu-west-1:${ACCOUNT}:execution:${stack.stateMachine.state.name}:*` },
        { Sid: "ListPendingRequests", Effect: "Allow", Action: ["dynamodb:Query"], Resource: `${table}/index/status-createdAt` },
        { Sid: "DeliverSettledDecisions", Effect: "Allow", Action: ["states:SendTaskSuccess"], Resource: "*" },
      ]);
    });
  });

  describe("with reminderMinutesBeforeExpiry [60, 10]", () => {
    let stack: Stack;
    before(async () => (stack = await deploy("events-reminders", { transport: "functionUrl", reminderMinutesBeforeExpiry: [60, 10] })));

    it("schedules {\"kind\":\"remind\"} into the request function every minute", () => {
      const schedule = stack.resources.one(T.rule, `${stack.name}-reminders`);
      assert.equal(schedule.inputs.scheduleExpression, "rate(1 minute)");
      const target = stack.resources.one(T.target, `${stack.name}-reminders-target`);
      assert.equal(target.inputs.rule, schedule.state.name);
      assert.equal(target.inputs.arn, stack.requestFunction.state.arn);
      assert.deepEqual(JSON.parse(target.inputs.input), { kind: "remind" });
      const permission = stack.resources.one(T.permission, `${stack.name}-reminders-invoke`).inputs;
      assert.deepEqual([permission.principal, permission.function, permission.sourceArn], ["events.amazonaws.com", stack.requestFunction.state.name, schedule.state.arn]);
    });

    it("tells the request function the reminder times", () => {
      assert.equal(stack.requestFunction.inputs.environment.variables.REMINDER_MINUTES_BEFORE_EXPIRY, "60,10");
      assert.equal(stack.decisionFunction.inputs.environment.variables.REMINDER_MINUTES_BEFORE_EXPIRY, undefined);
    });

    it("lets the request role query the status index, and nothing else of the table beyond what it had", () => {
      const table = stack.resources.one(T.table).state.arn;
      const events = stack.policy("request-approval-events-policy");
      assertLeastPrivilege(events);
      assert.deepEqual(events.Statement[1], { Sid: "ListPendingRequests", Effect: "Allow", Action: ["dynamodb:Query"], Resource: `${table}/index/status-createdAt` });
      assert.ok(!JSON.stringify(stack.policy("request-approval-policy")).includes("dynamodb:Query"));
      assert.ok(!JSON.stringify(stack.policy("decision-policy")).includes("dynamodb:Query"), "the decision role never queries");
    });

    it("every 5 minutes when the reminders are far apart", async () => {
      const far = await deploy("events-far-reminders", { transport: "functionUrl", reminderMinutesBeforeExpiry: [240, 60] });
      assert.equal(far.resources.one(T.rule, `${far.name}-reminders`).inputs.scheduleExpression, "rate(5 minutes)");
    });
  });

  describe("with alarmEmail", () => {
    const stacks = {} as Record<Transport, Stack>;
    before(async () => {
      for (const transport of ["restApi", "httpApi", "functionUrl"] as Transport[]) stacks[transport] = await deploy(`alarms-${transport}`, { transport, alarmEmail: ALARM_EMAIL, reminderMinutesBeforeExpiry: [60] });
    });
    const alarm = (stack: Stack, id: string) => stack.resources.one(T.alarm, `${stack.name}-${id}`).inputs;

    it("alarms on failed and timed-out executions, each function's errors and throttles, and failed email deliveries", () => {
      const stack = stacks.functionUrl;
      const machine = stack.stateMachine.state.arn;
      const topicName = stack.resources.one(T.topic, `${stack.name}-requests`).state.arn.split(":").pop();
      const expected = {
        "executions-failed": ["AWS/States", "ExecutionsFailed", { StateMachineArn: machine }],
        "executions-timed-out": ["AWS/States", "ExecutionsTimedOut", { StateMachineArn: machine }],
        "request-approval-errors": ["AWS/Lambda", "Errors", { FunctionName: stack.requestFunction.state.name }],
        "request-approval-throttles": ["AWS/Lambda", "Throttles", { FunctionName: stack.requestFunction.state.name }],
        "decision-errors": ["AWS/Lambda", "Errors", { FunctionName: stack.decisionFunction.state.name }],
        "decision-throttles": ["AWS/Lambda", "Throttles", { FunctionName: stack.decisionFunction.state.name }],
        "email-delivery-failed": ["AWS/SNS", "NumberOfNotificationsFailed", { TopicName: topicName }],
      };
      const alarms = stack.resources.ofType(T.alarm);
      assert.deepEqual(alarms.map((a) => a.name.slice(stack.name.length + 1)).sort(), Object.keys(expected).sort(), "no 5xx alarm: a Function URL is not an API");
      for (const [id, [namespace, metricName, dimensions]] of Object.entries(expected)) {
        const inputs = alarm(stack, id);
        assert.deepEqual([inputs.namespace, inputs.metricName, inputs.dimensions], [namespace, metricName, dimensions], id);
        assert.deepEqual([inputs.statistic, inputs.period, inputs.threshold, inputs.comparisonOperator, inputs.treatMissingData], ["Sum", 300, 0, "GreaterThanThreshold", "notBreaching"], id);
        assert.equal(inputs.name, `human-approval-events-${stack.name}-${id}`, "named after the component and the stack, readable in the email");
      }
    });

    it("describes in each alarm what it means and where to look", () => {
      const stack = stacks.restApi;
      for (const resource of stack.resources.ofType(T.alarm)) {
        const description: string = resource.inputs.alarmDescription;
        assert.ok(description.length > 80 && description.length <= 1024, `${resource.name}: ${description.length} characters (CloudWatch allows 1024)`);
      }
      assert.match(alarm(stack, "executions-failed").alarmDescription, /Approval request refused.*Approval request failed/);
      assert.match(alarm(stack, "request-approval-errors").alarmDescription, new RegExp(`/aws/lambda/human-approval-events-${stack.name}-request-approval`));
      assert.match(alarm(stack, "decision-errors").alarmDescription, new RegExp(`/aws/lambda/human-approval-events-${stack.name}-decision`));
      assert.match(alarm(stack, "decision-throttles").alarmDescription, /decisionReservedConcurrency/);
      assert.match(alarm(stack, "email-delivery-failed").alarmDescription, /list-subscriptions-by-topic/);
      assert.match(alarm(stack, "endpoint-5xx").alarmDescription, /REST API/);
    });

    it("alarms on 5xx of the REST API (5XXError by ApiName) and of the HTTP API (5xx by ApiId)", async () => {
      const rest = alarm(stacks.restApi, "endpoint-5xx");
      assert.deepEqual([rest.namespace, rest.metricName], ["AWS/ApiGateway", "5XXError"]);
      // The transport hands the alarms its own API's metric: the REST API's (auto-generated) name.
      assert.deepEqual(rest.dimensions, { ApiName: stacks.restApi.resources.one(T.restApi).state.name });
      assert.ok(rest.dimensions.ApiName);
      const http = alarm(stacks.httpApi, "endpoint-5xx");
      assert.deepEqual([http.namespace, http.metricName, http.dimensions], ["AWS/ApiGateway", "5xx", { ApiId: stacks.httpApi.resources.one(T.httpApi).id }]);
    });

    it("sends every alarm, and its recovery, to a topic of its own that emails the address", () => {
      const stack = stacks.httpApi;
      const topic = stack.resources.one(T.topic, `${stack.name}-alarms`).state.arn;
      for (const resource of stack.resources.ofType(T.alarm)) {
        assert.deepEqual(resource.inputs.alarmActions, [topic]);
        assert.deepEqual(resource.inputs.okActions, [topic]);
      }
      const subscriptions = stack.resources.ofType(T.subscription).filter((s) => s.inputs.topic === topic);
      assert.deepEqual(subscriptions.map((s) => [s.inputs.protocol, s.inputs.endpoint]), [["email", ALARM_EMAIL]]);
    });

    it("lets only CloudWatch alarms of this account publish to the alarm topic, and only the alarm address subscribe", () => {
      const stack = stacks.httpApi;
      const topic = stack.resources.one(T.topic, `${stack.name}-alarms`).state.arn;
      const policy = JSON.parse(stack.resources.ofType(T.topicPolicy).find((p) => p.inputs.arn === topic)!.inputs.policy);
      const bySid = Object.fromEntries(policy.Statement.map((statement: any) => [statement.Sid, statement]));
      assert.deepEqual(bySid.AccountAlarmsPublish.Principal, { Service: "cloudwatch.amazonaws.com" });
      assert.deepEqual(bySid.AccountAlarmsPublish.Condition, { ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:*` }, StringEquals: { "aws:SourceAccount": ACCOUNT } });
      assert.equal(bySid.NobodyElsePublishes.Effect, "Deny");
      assert.deepEqual(bySid.OnlyTheAlarmAddress.Condition, { StringNotEqualsIgnoreCase: { "sns:Endpoint": ALARM_EMAIL } });
      for (const statement of policy.Statement.filter((s: any) => s.Effect === "Allow")) assert.notEqual(statement.Principal, "*");
    });

    for (const transport of ["restApi", "httpApi", "functionUrl"] as Transport[]) {
      it(`passes the policy pack, alarm topic and reminder schedule included (${transport})`, async () => {
        const resources = stacks[transport].resources.all;
        assert.ok(resources.some((r) => r.type === T.alarm) && resources.some((r) => r.name.endsWith("-reminders")));
        assert.deepEqual(await policyPackViolations(resources), []);
      });
    }
  });

  describe("with alarmTopicArn", () => {
    it("sends the alarms to that topic and creates none", async () => {
      const stack = await deploy("alarms-topic", { transport: "httpApi", alarmTopicArn: ALARM_TOPIC });
      assert.equal(stack.resources.ofType(T.topic).length, 1, "only the approvals topic");
      const alarms = stack.resources.ofType(T.alarm);
      assert.equal(alarms.length, 8);
      for (const resource of alarms) assert.deepEqual(resource.inputs.alarmActions, [ALARM_TOPIC]);
    });
  });

  describe("the program (index.ts) wires the stack config through", () => {
    const modulePath = require.resolve("../../index");
    let before = 0;
    // index.ts runs once per import and always names its component "human-approval": leave no trace for
    // program.test.ts, which imports it again and lists what it declared by that name.
    after(() => {
      delete require.cache[modulePath];
      declared.splice(before);
    });

    it("reminderMinutesBeforeExpiry and alarmEmail from the stack's config reach the component", async () => {
      useMocks("wired", { ...readStackFile("dev"), reminderMinutesBeforeExpiry: "[20, 45]", alarmEmail: ALARM_EMAIL });
      before = declared.length;
      delete require.cache[modulePath];
      const program: typeof import("../../index") = require(modulePath);
      await valueOf(program.stateMachineArn);
      await settled();
      const mine = declared.slice(before);
      const requestFunction = mine.find((r) => r.type === T.function && r.name === "human-approval-request-approval")!;
      assert.equal(requestFunction.inputs.environment.variables.REMINDER_MINUTES_BEFORE_EXPIRY, "45,20");
      assert.equal(mine.find((r) => r.name === "human-approval-reminders")!.inputs.scheduleExpression, "rate(5 minutes)");
      assert.equal(mine.filter((r) => r.type === T.alarm).length, 7, "functionUrl (Pulumi.dev.yaml): every alarm but the API's 5xx");
      assert.deepEqual(mine.filter((r) => r.type === T.subscription && r.inputs.endpoint === ALARM_EMAIL).length, 1);
    });
  });
});
