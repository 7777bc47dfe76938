import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import type { Transport } from "../../functions/decision/httpEvent";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { ACCOUNT, archiveText, declaredUnder, settled, useMocks, valueOf, type DeclaredResource } from "../support/pulumiMocks";
import { assertLeastPrivilege } from "../support/leastPrivilege";

import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import { RESOURCE_TYPES } from "../support/resourceTypes";
const validateAsl: (definition: unknown) => { isValid: boolean } = require("asl-validator");

const T = RESOURCE_TYPES;
const TRANSPORT_TYPES: Record<Transport, string[]> = {
  restApi: [T.restApi, T.restResource, T.restMethod, T.restIntegration, T.restDeployment, T.restStage, T.restMethodSettings],
  httpApi: [T.httpApi, T.httpIntegration, T.httpRoute, T.httpStage],
  functionUrl: [T.functionUrl],
};

const approverEmails = ["ops@example.com", "lead@example.com"];
const settings = { approverEmails, approvalTimeoutMinutes: 90, logRetentionDays: 30, auditRetentionDays: 60, apiThrottle: { rateLimit: 7, burstLimit: 9 }, decisionReservedConcurrency: 4 };

interface Deployed {
  name: string;
  callbackUrl: string;
  stateMachineArn: string;
  resources: ReturnType<typeof declaredUnder>;
  decisionFunction: DeclaredResource;
  requestFunction: DeclaredResource;
}

async function deploy(transport: Transport, extra: Partial<typeof settings> & { approvedFunctionArn?: string } = {}): Promise<Deployed> {
  const name = `${transport}-${Object.keys(extra).join("-") || "base"}`;
  const workflow = new HumanApprovalWorkflow(name, { transport, ...settings, ...extra });
  const [callbackUrl, stateMachineArn] = [await valueOf(workflow.callbackUrl), await valueOf(workflow.stateMachineArn)];
  await settled();
  const resources = declaredUnder(`${name}-`);
  return { name, callbackUrl, stateMachineArn, resources, decisionFunction: resources.one(T.function, `${name}-decision`), requestFunction: resources.one(T.function, `${name}-request-approval`) };
}

const policyOf = (resources: Deployed["resources"], name: string) => JSON.parse(resources.one(T.rolePolicy, name).inputs.policy);

describe("HumanApprovalWorkflow (Pulumi mocks)", function () {
  this.timeout(60_000);
  const deployed = {} as Record<Transport, Deployed>;
  before(async () => {
    useMocks("test");
    for (const transport of ["restApi", "httpApi", "functionUrl"] as Transport[]) deployed[transport] = await deploy(transport);
  });

  for (const transport of ["restApi", "httpApi", "functionUrl"] as Transport[]) {
    describe(`with transport ${transport}`, () => {
      let stack: Deployed;
      before(() => (stack = deployed[transport]));

      it("declares the shared resources once each, and one subscription per approver", () => {
        const count = (type: string) => stack.resources.ofType(type).length;
        assert.equal(count(T.topic), 1);
        assert.equal(count(T.table), 1);
        assert.equal(count(T.function), 2);
        assert.equal(count(T.stateMachine), 1);
        assert.equal(count(T.role), 3);
        // request-approval, decision, decision-verify (history of this state machine's executions), state machine,
        // request-approval-events (how this state machine's executions ended)
        assert.equal(count(T.rolePolicy), 5);
        assert.equal(count(T.logGroup), 3);
        assert.equal(count(T.kmsKey), 1);
        assert.equal(count(T.topicPolicy), 1);
        assert.deepEqual(stack.resources.ofType(T.subscription).map((s) => [s.inputs.protocol, s.inputs.endpoint]), approverEmails.map((email) => ["email", email]));
      });

      it("declares its own transport's resources and none of the others'", () => {
        for (const [other, types] of Object.entries(TRANSPORT_TYPES)) {
          for (const type of types) {
            const present = stack.resources.ofType(type).length > 0;
            assert.equal(present, other === transport, `${type} ${present ? "present" : "missing"}`);
          }
        }
        assert.equal(stack.resources.ofType(T.restAccount).length, 0, "never the account-wide API Gateway settings");
      });

      it("feeds the transport's callbackUrl to the request-approval function", () => {
        assert.match(stack.callbackUrl, /^https:\/\/[^/]+(\/approvals)?$/);
        assert.equal(stack.requestFunction.inputs.environment.variables.CALLBACK_URL, stack.callbackUrl);
      });

      it("runs both functions on nodejs24.x arm64 with the bundled handler and JSON logs to their own log group", async () => {
        for (const fn of [stack.decisionFunction, stack.requestFunction]) {
          assert.equal(fn.inputs.runtime, "nodejs24.x");
          assert.deepEqual(fn.inputs.architectures, ["arm64"]);
          assert.equal(fn.inputs.handler, "index.handler");
          assert.equal(fn.inputs.loggingConfig.logFormat, "JSON");
          const logGroup = stack.resources.ofType(T.logGroup).find((group) => group.inputs.name === fn.inputs.loggingConfig.logGroup);
          assert.ok(logGroup, "its log group is declared by the stack");
          const code = await archiveText(fn.inputs.code, "index.js");
          assert.match(code, /handler/);
        }
        assert.equal(stack.decisionFunction.inputs.reservedConcurrentExecutions, 4);
        assert.deepEqual(stack.decisionFunction.inputs.tags, { "human-approval:role": "decision" });
        assert.deepEqual(stack.requestFunction.inputs.tags, { "human-approval:role": "request-approval" });
      });

      it("configures the functions through the environment", () => {
        const table = stack.resources.one(T.table);
        const topic = stack.resources.one(T.topic).state.arn;
        assert.deepEqual(stack.requestFunction.inputs.environment.variables, {
          TABLE_NAME: table.state.name,
          TOPIC_ARN: topic,
          LINK_KEY_ID: stack.resources.one(T.kmsKey).state.arn,
          APPROVER_EMAILS: "ops@example.com,lead@example.com",
          REQUIRED_APPROVALS: "1",
          ALLOW_SELF_APPROVAL: "false",
          CALLBACK_URL: stack.callbackUrl,
          APPROVAL_TIMEOUT_SECONDS: "5400",
          AUDIT_RETENTION_DAYS: "60",
          STACK_LABEL: pulumi.getStack(),
        });
        // Approvers' addresses are not secret; no variable holds a key, a secret or a link.
        // STACK_LABEL: the stack's name, on every page and email subject ("[prod] Approval needed: …").
        assert.deepEqual(stack.decisionFunction.inputs.environment.variables, { TABLE_NAME: table.state.name, TOPIC_ARN: topic, APPROVER_EMAILS: "ops@example.com,lead@example.com", STACK_LABEL: pulumi.getStack() });
        assert.ok(pulumi.getStack().length > 0);
      });

      it("sets the configured retention on every log group", () => {
        for (const group of stack.resources.ofType(T.logGroup)) assert.equal(group.inputs.retentionInDays, 30, group.name);
      });

      it("keeps requests in an on-demand, encrypted table with TTL and point-in-time recovery", () => {
        const table = stack.resources.one(T.table).inputs;
        assert.equal(table.billingMode, "PAY_PER_REQUEST");
        assert.equal(table.hashKey, "id");
        assert.deepEqual(table.ttl, { attributeName: "ttl", enabled: true });
        assert.deepEqual(table.pointInTimeRecovery, { enabled: true });
        assert.deepEqual(table.serverSideEncryption, { enabled: true });
      });

      it("grants each role only what it needs, on this stack's resources", () => {
        const table = stack.resources.one(T.table).state.arn;
        const topic = stack.resources.one(T.topic).state.arn;
        const key = stack.resources.one(T.kmsKey).state.arn;
        const request = policyOf(stack.resources, `${stack.name}-request-approval-policy`);
        const decision = policyOf(stack.resources, `${stack.name}-decision-policy`);
        const verify = policyOf(stack.resources, `${stack.name}-decision-verify-policy`);
        const machine = policyOf(stack.resources, `${stack.name}-state-machine-policy`);
        for (const policy of [request, decision, verify, machine]) assertLeastPrivilege(policy);
        assert.deepEqual(request.Statement.map((s: any) => s.Resource), [table, topic, key, `${stack.resources.one(T.logGroup, `${stack.name}-request-approval-logs`).state.arn}:*`]);
        assert.deepEqual(decision.Statement.map((s: any) => s.Resource), [table, "*", topic, `${stack.resources.one(T.logGroup, `${stack.name}-decision-logs`).state.arn}:*`]);
        // Only the decision role reads execution history, and only of this state machine's executions.
        const machineName = stack.resources.one(T.stateMachine).state.name;
        assert.deepEqual(verify.Statement, [{ Sid: "ConfirmWhatTheWorkflowReceived", Effect: "Allow", Action: ["states:GetExecutionHistory"], Resource: `arn:aws:states:eu-west-1:${ACCOUNT}:execution:${machineName}:*` }]);
        assert.equal(verify.Statement.length, 1);
        // Only the request role may make links: nothing else is granted kms:GenerateMac.
        assert.ok(!JSON.stringify(decision).includes("kms:"));
        assert.deepEqual(machine.Statement[0].Resource, [stack.requestFunction.state.arn]);
      });

      it("lets only the right services assume the roles", () => {
        const trust = (role: string) => JSON.parse(stack.resources.one(T.role, `${stack.name}-${role}-role`).inputs.assumeRolePolicy).Statement[0];
        assert.equal(trust("decision").Principal.Service, "lambda.amazonaws.com");
        assert.equal(trust("request-approval").Principal.Service, "lambda.amazonaws.com");
        assert.equal(trust("state-machine").Principal.Service, "states.amazonaws.com");
        assert.deepEqual(trust("state-machine").Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
      });

      it("makes links with a KMS HMAC key that only the request-approval role may use", () => {
        const key = stack.resources.one(T.kmsKey).inputs;
        assert.equal(key.customerMasterKeySpec, "HMAC_256");
        assert.equal(key.keyUsage, "GENERATE_VERIFY_MAC");
        const policy = JSON.parse(key.policy);
        const requestRole = stack.resources.one(T.role, `${stack.name}-request-approval-role`).state.arn;
        const deny = policy.Statement.find((statement: any) => statement.Effect === "Deny");
        assert.deepEqual(deny.Action, ["kms:GenerateMac", "kms:VerifyMac"]);
        assert.deepEqual(deny.Condition, { ArnNotEquals: { "aws:PrincipalArn": requestRole } });
      });

      it("gives the topic a policy: only the functions publish, only approvers' addresses subscribe, by email", () => {
        const topic = stack.resources.one(T.topic).state.arn;
        const topicPolicy = stack.resources.one(T.topicPolicy);
        assert.equal(topicPolicy.inputs.arn, topic);
        const statements = JSON.parse(topicPolicy.inputs.policy).Statement;
        const roles = ["request-approval", "decision"].map((role) => stack.resources.one(T.role, `${stack.name}-${role}-role`).state.arn);
        assert.deepEqual(statements.find((s: any) => s.Sid === "StackFunctionsPublish").Principal, { AWS: roles });
        assert.deepEqual(statements.find((s: any) => s.Sid === "NobodyElsePublishes").Condition, { ArnNotEquals: { "aws:PrincipalArn": roles } });
        assert.deepEqual(statements.find((s: any) => s.Sid === "OnlyApproverAddresses").Condition, { StringNotEqualsIgnoreCase: { "sns:Endpoint": approverEmails } });
        assert.deepEqual(statements.find((s: any) => s.Sid === "OnlyEmailSubscriptions").Condition, { StringNotEquals: { "sns:Protocol": "email" } });
        // Nothing is allowed to everyone.
        for (const statement of statements.filter((s: any) => s.Effect === "Allow")) assert.notEqual(statement.Principal, "*");
      });

      it("routes each approver's messages to that approver only, with a filter policy per subscription", () => {
        const subscriptions = stack.resources.ofType(T.subscription);
        assert.deepEqual(subscriptions.map((subscription) => subscription.inputs.endpoint).sort(), [...approverEmails].sort());
        for (const subscription of subscriptions) {
          assert.equal(subscription.inputs.filterPolicyScope, "MessageAttributes");
          assert.deepEqual(JSON.parse(subscription.inputs.filterPolicy), { approver: [subscription.inputs.endpoint.toLowerCase()] });
          // The logical name is the address, so adding a filter updates a confirmed subscription in place.
          assert.equal(subscription.name, `${stack.name}-approver-${subscription.inputs.endpoint}`);
        }
      });

      it("protects the audit table from deletion, and indexes requests by status", () => {
        const table = stack.resources.one(T.table).inputs;
        assert.equal(table.deletionProtectionEnabled, true);
        assert.equal(table.globalSecondaryIndexes.length, 1);
        const index = table.globalSecondaryIndexes[0];
        assert.equal(index.projectionType, "INCLUDE");
        assert.ok(!index.nonKeyAttributes.includes("taskToken"), "the index never copies the task token");
      });

      it("deploys a valid standard state machine that waits on the request function, logging errors without execution data", () => {
        const machine = stack.resources.one(T.stateMachine).inputs;
        const definition = JSON.parse(machine.definition);
        assert.ok(validateAsl(definition).isValid);
        const task = definition.States[STATE_NAMES.requestApproval];
        assert.equal(task.TimeoutSeconds, 90 * 60);
        assert.equal(task.Parameters.FunctionName, stack.requestFunction.state.arn);
        assert.equal(definition.States[STATE_NAMES.choice].Default, STATE_NAMES.rejected);
        assert.equal(machine.type, "STANDARD");
        assert.equal(machine.roleArn, stack.resources.one(T.role, `${stack.name}-state-machine-role`).state.arn);
        assert.equal(machine.loggingConfiguration.level, "ERROR");
        assert.equal(machine.loggingConfiguration.includeExecutionData, false);
        assert.equal(machine.loggingConfiguration.logDestination, `${stack.resources.one(T.logGroup, `${stack.name}-state-machine-logs`).state.arn}:*`);
      });
    });
  }

  describe("restApi wiring", () => {
    it("routes GET, HEAD and POST on /requests/{id} (and GET /auth/callback, see signIn.test.ts) to the decision function by proxy integration", () => {
      const { resources, decisionFunction } = deployed.restApi;
      assert.deepEqual(resources.ofType(T.restResource).map((r) => r.inputs.pathPart).sort(), ["auth", "callback", "requests", "{id}"]);
      const request = resources.one(T.restResource, `${deployed.restApi.name}-path-requests-id`).id;
      assert.deepEqual(resources.ofType(T.restMethod).filter((m) => m.inputs.resourceId === request).map((m) => [m.inputs.httpMethod, m.inputs.authorization]).sort(), [["GET", "NONE"], ["HEAD", "NONE"], ["POST", "NONE"]]);
      for (const integration of resources.ofType(T.restIntegration)) {
        assert.equal(integration.inputs.type, "AWS_PROXY");
        assert.equal(integration.inputs.integrationHttpMethod, "POST");
        assert.equal(integration.inputs.uri, decisionFunction.state.invokeArn);
      }
    });

    it("redeploys on route changes, throttles the stage and never traces request data", () => {
      const { resources } = deployed.restApi;
      assert.match(resources.one(T.restDeployment).inputs.triggers.routes, /^[0-9a-f]{64}$/);
      assert.equal(resources.one(T.restDeployment).inputs.stageName, undefined);
      const stage = resources.one(T.restStage);
      assert.equal(stage.inputs.deployment, resources.one(T.restDeployment).id);
      const settingsInputs = resources.one(T.restMethodSettings).inputs.settings;
      assert.equal(settingsInputs.throttlingRateLimit, 7);
      assert.equal(settingsInputs.throttlingBurstLimit, 9);
      assert.equal(settingsInputs.dataTraceEnabled, false);
      assert.equal(deployed.restApi.callbackUrl, stage.state.invokeUrl);
    });

    it("lets only this API's stage invoke the function, on the request route", () => {
      const { resources, decisionFunction } = deployed.restApi;
      const permission = resources.one(T.permission, `${deployed.restApi.name}-request-invoke`);
      assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
      assert.equal(permission.inputs.function, decisionFunction.state.name);
      assert.equal(permission.inputs.sourceArn, `${resources.one(T.restApi).state.executionArn}/approvals/*/requests/*`);
    });
  });

  describe("httpApi wiring", () => {
    it("integrates with payload format 2.0 and routes GET, HEAD and POST /requests/{id}", () => {
      const { resources, decisionFunction } = deployed.httpApi;
      const integration = resources.one(T.httpIntegration);
      assert.equal(integration.inputs.payloadFormatVersion, "2.0");
      assert.equal(integration.inputs.integrationType, "AWS_PROXY");
      assert.equal(integration.inputs.integrationUri, decisionFunction.state.arn);
      assert.deepEqual(resources.ofType(T.httpRoute).map((r) => r.inputs.routeKey).sort(), ["GET /auth/callback", "GET /requests/{id}", "HEAD /requests/{id}", "POST /requests/{id}"]);
      for (const route of resources.ofType(T.httpRoute)) assert.equal(route.inputs.target, `integrations/${integration.id}`);
    });

    it("serves an auto-deployed, throttled $default stage at the API endpoint", () => {
      const { resources, callbackUrl } = deployed.httpApi;
      const stage = resources.one(T.httpStage).inputs;
      assert.equal(stage.name, "$default");
      assert.equal(stage.autoDeploy, true);
      assert.deepEqual(stage.defaultRouteSettings, { throttlingRateLimit: 7, throttlingBurstLimit: 9 });
      assert.equal(callbackUrl, resources.one(T.httpApi).state.apiEndpoint);
    });

    it("lets only this API invoke the function", () => {
      const { resources } = deployed.httpApi;
      const permission = resources.one(T.permission, `${deployed.httpApi.name}-request-invoke`);
      assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
      assert.equal(permission.inputs.sourceArn, `${resources.one(T.httpApi).state.executionArn}/*/*/requests/*`);
    });
  });

  describe("functionUrl wiring", () => {
    it("opens a public URL on the decision function only, with both invoke permissions", () => {
      const { resources, decisionFunction, requestFunction, callbackUrl } = deployed.functionUrl;
      const url = resources.one(T.functionUrl);
      assert.equal(url.inputs.authorizationType, "NONE");
      assert.equal(url.inputs.functionName, decisionFunction.state.name);
      assert.notEqual(url.inputs.functionName, requestFunction.state.name);
      // (The request function's permission for EventBridge is checked in alarmsAndReminders.test.ts.)
      const permissions = resources.ofType(T.permission).map((p) => p.inputs).filter((p) => p.principal !== "events.amazonaws.com");
      assert.deepEqual(permissions.map((p) => [p.action, p.principal, p.function]).sort(), [
        ["lambda:InvokeFunction", "*", decisionFunction.state.name],
        ["lambda:InvokeFunctionUrl", "*", decisionFunction.state.name],
      ]);
      assert.equal(permissions.find((p) => p.action === "lambda:InvokeFunctionUrl")!.functionUrlAuthType, "NONE");
      assert.equal(permissions.find((p) => p.action === "lambda:InvokeFunction")!.invokedViaFunctionUrl, true);
      assert.equal(callbackUrl, url.state.functionUrl.replace(/\/$/, ""), "no trailing slash, so links have no //");
    });
  });

  describe("switching transport", () => {
    /** Inputs with the component name taken out, so two stacks can be compared. */
    const normalised = (stack: Deployed, resource: DeclaredResource) => {
      const { code: _code, ...inputs } = resource.inputs;
      return JSON.stringify(inputs).split(stack.name).join("NAME");
    };
    const shared = (stack: Deployed) => {
      const transportTypes = new Set(Object.values(TRANSPORT_TYPES).flat().concat(T.permission));
      return new Map(stack.resources.all.filter((r) => !transportTypes.has(r.type)).map((r) => [r.name.replace(stack.name, "NAME"), normalised(stack, r)]));
    };

    it("changes only the transport's resources and the request function's CALLBACK_URL", () => {
      const [from, to] = [shared(deployed.functionUrl), shared(deployed.httpApi)];
      assert.deepEqual([...from.keys()].sort(), [...to.keys()].sort(), "the same shared resources");
      const changed = [...from.keys()].filter((key) => from.get(key) !== to.get(key));
      assert.deepEqual(changed, ["NAME-request-approval"]);
      const env = (stack: Deployed) => stack.requestFunction.inputs.environment.variables;
      const { CALLBACK_URL: a, ...restA } = env(deployed.functionUrl);
      const { CALLBACK_URL: b, ...restB } = env(deployed.httpApi);
      assert.notEqual(a, b);
      assert.deepEqual(restA, { ...restB, TABLE_NAME: restA.TABLE_NAME, TOPIC_ARN: restA.TOPIC_ARN, LINK_KEY_ID: restA.LINK_KEY_ID });
    });
  });

  describe("adding an approver", () => {
    it("adds one subscription and leaves the existing ones as they were (no new confirmation)", async () => {
      const before = await deploy("functionUrl", { approverEmails: ["ops@example.com"] });
      // (auditRetentionDays only gives this second stack its own name: deploy() names stacks by their extra keys.)
      const after = await deploy("functionUrl", { approverEmails: ["ops@example.com", "new@example.com"], auditRetentionDays: 61 });
      const subscriptions = (stack: Deployed) =>
        new Map(stack.resources.ofType(T.subscription).map((subscription) => [subscription.name.slice(stack.name.length), JSON.stringify({ ...subscription.inputs, topic: "TOPIC" })]));
      const [from, to] = [subscriptions(before), subscriptions(after)];
      assert.deepEqual([...to.keys()].sort(), ["-approver-new@example.com", "-approver-ops@example.com"]);
      assert.equal(to.get("-approver-ops@example.com"), from.get("-approver-ops@example.com"), "the existing subscription is unchanged");
      // The topic policy lets the new address subscribe; nothing else about the topic changes.
      const endpoints = (stack: Deployed) => JSON.parse(stack.resources.one(T.topicPolicy).inputs.policy).Statement.find((statement: any) => statement.Sid === "OnlyApproverAddresses").Condition.StringNotEqualsIgnoreCase["sns:Endpoint"];
      assert.deepEqual(endpoints(after), ["ops@example.com", "new@example.com"]);
    });
  });

  describe("tableDeletionProtection: false", () => {
    it("turns deletion protection off and tags the table throwaway, which the policy pack then accepts", async () => {
      const stack = await deploy("functionUrl", { tableDeletionProtection: false } as never);
      const table = stack.resources.one(T.table).inputs;
      assert.equal(table.deletionProtectionEnabled, false);
      assert.deepEqual(table.tags, { "human-approval:throwaway": "true" });
    });
  });

  describe("approvedFunctionArn", () => {
    it("adds the continuation to the definition and only that function to the state machine's policy", async () => {
      const approvedFunctionArn = "arn:aws:lambda:eu-west-1:123456789012:function:deploy";
      const stack = await deploy("functionUrl", { approvedFunctionArn });
      const definition = JSON.parse(stack.resources.one(T.stateMachine).inputs.definition);
      assert.equal(definition.States[STATE_NAMES.runApprovedFunction].Parameters.FunctionName, approvedFunctionArn);
      assert.deepEqual(policyOf(stack.resources, `${stack.name}-state-machine-policy`).Statement[0].Resource, [stack.requestFunction.state.arn, approvedFunctionArn]);
    });
  });
});
