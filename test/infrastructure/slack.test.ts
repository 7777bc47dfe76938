import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import type { Transport } from "../../functions/decision/httpEvent";
import { parseStackConfig, StackConfigError, type RawStackConfig } from "../../stacks/config";
import { renderInventory } from "../../scripts/planInventory";
import { assertLeastPrivilege } from "../support/leastPrivilege";
import { declaredUnder, settled, useMocks, valueOf, type DeclaredResource } from "../support/pulumiMocks";
import { ALL_TRANSPORTS } from "../support/events";
import { RESOURCE_TYPES } from "../support/resourceTypes";

/** Issue 22's infrastructure under Pulumi mocks: opt-in only, the two secrets in Secrets Manager, both roles may read that one secret, the route on every transport. */
const T = RESOURCE_TYPES;
const SIGNING_SECRET = "signing-secret-that-must-never-show-42";
const BOT_TOKEN = "xoxb-bot-token-that-must-never-show-42";
const base = { approverEmails: ["ops@example.com"], approvalTimeoutMinutes: 60, logRetentionDays: 14, auditRetentionDays: 30 };

interface Deployed {
  name: string;
  resources: ReturnType<typeof declaredUnder>;
  decision: DeclaredResource;
  request: DeclaredResource;
}

async function deploy(transport: Transport, slack: boolean): Promise<Deployed> {
  const name = `slack-${transport}-${slack ? "on" : "off"}`;
  const workflow = new HumanApprovalWorkflow(name, { transport, ...base, ...(slack ? { slack: { signingSecret: pulumi.secret(SIGNING_SECRET), botToken: pulumi.secret(BOT_TOKEN) } } : {}) });
  await valueOf(workflow.callbackUrl);
  await valueOf(workflow.stateMachineArn);
  await settled();
  const resources = declaredUnder(`${name}-`);
  return { name, resources, decision: resources.one(T.function, `${name}-decision`), request: resources.one(T.function, `${name}-request-approval`) };
}

const policyOf = (stack: Deployed, role: string) => JSON.parse(stack.resources.one(T.rolePolicy, `${stack.name}-${role}-policy`).inputs.policy);
const shortName = (stack: Deployed, resource: DeclaredResource) => resource.name.slice(stack.name.length + 1);

describe("Slack infrastructure (Pulumi mocks)", function () {
  this.timeout(120_000);
  const on = {} as Record<Transport, Deployed>;
  const off = {} as Record<Transport, Deployed>;
  before(async () => {
    useMocks("test");
    for (const transport of ALL_TRANSPORTS) {
      on[transport] = await deploy(transport, true);
      off[transport] = await deploy(transport, false);
    }
  });

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("stores the signing secret and the bot token in one Secrets Manager secret, as a Pulumi secret", () => {
        const stack = on[transport];
        const secret = stack.resources.one(T.secret);
        const version = stack.resources.one(T.secretVersion);
        assert.equal(version.inputs.secretId, secret.id);
        assert.equal(typeof version.inputs.secretString, "object", "marked secret");
        assert.deepEqual(JSON.parse(version.inputs.secretString.value), { signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN });
      });

      it("gives both functions the secret's ARN, never a secret, and never SLACK_API_URL", () => {
        const stack = on[transport];
        const arn = stack.resources.one(T.secret).state.arn;
        for (const fn of [stack.decision, stack.request]) {
          const environment = fn.inputs.environment.variables;
          assert.equal(environment.SLACK_SECRET_ARN, arn, fn.name);
          assert.equal(environment.SLACK_API_URL, undefined, "local mode and tests only");
          assert.ok(!JSON.stringify(fn.inputs).includes(SIGNING_SECRET) && !JSON.stringify(fn.inputs).includes(BOT_TOKEN), `${fn.name} holds a secret`);
        }
      });

      it("lets each function role read that one secret, and nothing else of Secrets Manager", () => {
        const stack = on[transport];
        const arn = stack.resources.one(T.secret).state.arn;
        for (const role of ["decision", "request-approval"]) {
          const policy = policyOf(stack, role);
          assertLeastPrivilege(policy);
          const statements = policy.Statement.filter((entry: { Action: string[] }) => entry.Action.some((action) => action.startsWith("secretsmanager:")));
          assert.deepEqual(statements, [{ Sid: "ReadSlackSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arn }], role);
        }
      });

      it("without both secrets: no secret, no SLACK_ setting, no permission, no route", () => {
        const stack = off[transport];
        assert.equal(stack.resources.ofType(T.secret).length + stack.resources.ofType(T.secretVersion).length, 0);
        for (const fn of [stack.decision, stack.request]) assert.ok(!Object.keys(fn.inputs.environment.variables).some((name) => name.startsWith("SLACK_")));
        // Apart from the functions' code (the same bundle either way) and this test's own stack name.
        const settings = stack.resources.all.map(({ inputs: { code: _code, ...inputs } }) => inputs);
        assert.doesNotMatch(JSON.stringify(settings).split(stack.name).join(""), /slack/i, "nothing names Slack");
      });

      it("turning Slack on adds its resources and changes no other resource's name", () => {
        const names = (stack: Deployed) => stack.resources.all.map((resource) => `${resource.type} ${shortName(stack, resource)}`);
        const added = names(on[transport]).filter((entry) => !names(off[transport]).includes(entry));
        assert.deepEqual(names(off[transport]).filter((entry) => !names(on[transport]).includes(entry)), [], "nothing renamed or removed");
        assert.ok(added.every((entry) => /slack/.test(entry)), added.join("\n"));
      });

      it("shows the secrets as [secret] in a plan", async () => {
        const plan = await renderInventory({ stack: "test", config: {}, outputs: {}, resources: on[transport].resources.all });
        assert.ok(!plan.includes(SIGNING_SECRET) && !plan.includes(BOT_TOKEN));
        assert.match(plan, /secretString: "\[secret\]"/);
      });
    });
  }

  describe("POST /slack/interactions on every transport", () => {
    it("restApi: /slack/interactions with POST by proxy integration, invocable by this stage on that route only", () => {
      const stack = on.restApi;
      const interactions = stack.resources.one(T.restResource, `${stack.name}-path-slack-interactions`);
      assert.equal(interactions.inputs.pathPart, "interactions");
      assert.equal(interactions.inputs.parentId, stack.resources.one(T.restResource, `${stack.name}-path-slack`).id);
      const method = stack.resources.one(T.restMethod, `${stack.name}-slack-interactions-post`);
      assert.deepEqual([method.inputs.httpMethod, method.inputs.resourceId, method.inputs.authorization], ["POST", interactions.id, "NONE"]);
      const integration = stack.resources.one(T.restIntegration, `${stack.name}-slack-interactions-post-integration`);
      assert.deepEqual([integration.inputs.type, integration.inputs.uri], ["AWS_PROXY", stack.decision.state.invokeArn]);
      const permission = stack.resources.one(T.permission, `${stack.name}-slack-interactions-invoke`);
      assert.equal(permission.inputs.sourceArn, `${stack.resources.one(T.restApi).state.executionArn}/approvals/POST/slack/interactions`);
    });

    it("httpApi: POST /slack/interactions to the same integration, invocable by this API on that route only", () => {
      const stack = on.httpApi;
      const routes = stack.resources.ofType(T.httpRoute);
      assert.ok(routes.some((route) => route.inputs.routeKey === "POST /slack/interactions"));
      assert.equal(new Set(routes.map((route) => route.inputs.target)).size, 1);
      const permission = stack.resources.one(T.permission, `${stack.name}-slack-interactions-invoke`);
      assert.equal(permission.inputs.sourceArn, `${stack.resources.one(T.httpApi).state.executionArn}/*/POST/slack/interactions`);
    });

    it("functionUrl: every path reaches the function already; nothing more is made", () => {
      const endpoint = (stack: Deployed) => [...stack.resources.ofType(T.functionUrl), ...stack.resources.ofType(T.permission)].map((resource) => shortName(stack, resource)).sort();
      assert.deepEqual(endpoint(on.functionUrl), endpoint(off.functionUrl));
    });
  });

  describe("stack config", () => {
    const valid: RawStackConfig = { approverEmails: '["a@example.com"]' };
    const problemsOf = (raw: RawStackConfig) => {
      try {
        parseStackConfig(raw);
        return [];
      } catch (error) {
        if (error instanceof StackConfigError) return error.problems;
        throw error;
      }
    };

    it("Slack is on with both secrets, off with neither; one alone is one clear problem", () => {
      assert.deepEqual(problemsOf({ ...valid, slackSigningSecret: "(secret)", slackBotToken: "(secret)" }), []);
      assert.deepEqual(problemsOf(valid), []);
      assert.deepEqual(problemsOf({ ...valid, slackSigningSecret: "(secret)" }), [
        "human-approval:slackBotToken is not set: Slack needs both slackSigningSecret and slackBotToken, set with pulumi config set --secret human-approval:slackBotToken <value> (or unset the other to leave Slack off).",
      ]);
      assert.deepEqual(problemsOf({ ...valid, slackBotToken: "(secret)" }).length, 1);
      assert.match(problemsOf({ ...valid, slackBotToken: "(secret)" })[0], /^human-approval:slackSigningSecret is not set/);
    });

    it("reads both only as Pulumi secrets, never with get", async () => {
      const { loadStackConfig }: typeof import("../../stacks/loadStackConfig") = require("../../stacks/loadStackConfig");
      const secrets: Record<string, string> = { slackSigningSecret: SIGNING_SECRET, slackBotToken: BOT_TOKEN };
      const config = {
        get: (key: string) => {
          if (key in secrets) throw new Error("a secret was read in clear");
          return key === "approverEmails" ? '["a@example.com"]' : undefined;
        },
        getSecret: (key: string) => (key in secrets ? pulumi.secret(secrets[key]) : undefined),
      } as unknown as InstanceType<typeof pulumi.Config>;
      const loaded = loadStackConfig(config);
      assert.ok(pulumi.Output.isInstance(loaded.slack?.signingSecret) && pulumi.Output.isInstance(loaded.slack?.botToken));
      assert.equal(await valueOf(loaded.slack!.botToken), BOT_TOKEN);
    });
  });
});
