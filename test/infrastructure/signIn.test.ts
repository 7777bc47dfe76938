import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import { DECISION_ROUTES } from "../../components/transports/decisionEndpoint";
import type { Transport } from "../../functions/decision/httpEvent";
import { renderInventory } from "../../scripts/planInventory";
import { assertLeastPrivilege } from "../support/leastPrivilege";
import { declaredUnder, settled, useMocks, valueOf, type DeclaredResource } from "../support/pulumiMocks";
import { RESOURCE_TYPES } from "../support/resourceTypes";

/** Issue 10's infrastructure under Pulumi mocks: the client secret in Secrets Manager, the IAM to read it, the routes per transport. */
const T = RESOURCE_TYPES;
const CLIENT_SECRET = "client-secret-that-must-never-show-0123";
const ISSUER = "https://login.example.com/realms/ops";
const TRANSPORTS: Transport[] = ["restApi", "httpApi", "functionUrl"];
const base = { approverEmails: ["ops@example.com"], approvalTimeoutMinutes: 60, logRetentionDays: 14, auditRetentionDays: 30 };

interface Deployed {
  name: string;
  resources: ReturnType<typeof declaredUnder>;
  decision: DeclaredResource;
  request: DeclaredResource;
  callbackUrl: string;
}

async function deploy(transport: Transport, signIn: boolean): Promise<Deployed> {
  const name = `signin-${transport}-${signIn ? "on" : "off"}`;
  const workflow = new HumanApprovalWorkflow(name, { transport, ...base, ...(signIn ? { signIn: { issuer: ISSUER, clientId: "approvals", clientSecret: pulumi.secret(CLIENT_SECRET) } } : {}) });
  const callbackUrl = await valueOf(workflow.callbackUrl);
  await valueOf(workflow.stateMachineArn);
  await settled();
  const resources = declaredUnder(`${name}-`);
  return { name, resources, decision: resources.one(T.function, `${name}-decision`), request: resources.one(T.function, `${name}-request-approval`), callbackUrl };
}

const policyOf = (stack: Deployed, role: string) => JSON.parse(stack.resources.one(T.rolePolicy, `${stack.name}-${role}-policy`).inputs.policy);

describe("sign-in infrastructure (Pulumi mocks)", function () {
  this.timeout(120_000);
  const on = {} as Record<Transport, Deployed>;
  const off = {} as Record<Transport, Deployed>;
  before(async () => {
    useMocks("test");
    for (const transport of TRANSPORTS) {
      on[transport] = await deploy(transport, true);
      off[transport] = await deploy(transport, false);
    }
  });

  for (const transport of TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("stores the client secret in one Secrets Manager secret, as a Pulumi secret", () => {
        const stack = on[transport];
        const secret = stack.resources.one(T.secret);
        const version = stack.resources.one(T.secretVersion);
        assert.equal(version.inputs.secretId, secret.id);
        assert.match(secret.inputs.description, /read by the decision function only/);
        // The mocks hand a secret input over in Pulumi's wire form: marked secret.
        assert.equal(typeof version.inputs.secretString, "object");
        assert.equal(version.inputs.secretString.value, CLIENT_SECRET);
        assert.equal(version.inputs.secretString["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
      });

      it("gives the decision function the issuer, the client id and the secret's ARN, never the secret", () => {
        const stack = on[transport];
        const environment = stack.decision.inputs.environment.variables;
        assert.equal(environment.SIGN_IN_ISSUER, ISSUER);
        assert.equal(environment.SIGN_IN_CLIENT_ID, "approvals");
        assert.equal(environment.SIGN_IN_SECRET_ARN, stack.resources.one(T.secret).state.arn);
        assert.match(environment.SIGN_IN_SECRET_ARN, /^arn:aws:secretsmanager:/);
        for (const fn of [stack.decision, stack.request]) assert.ok(!JSON.stringify(fn.inputs).includes(CLIENT_SECRET), `${fn.name} holds the secret`);
        assert.ok(!Object.keys(stack.request.inputs.environment.variables).some((name) => name.startsWith("SIGN_IN_")), "the request function knows nothing of sign-in");
      });

      it("lets the decision role read that one secret, and nothing else of Secrets Manager; the request role not at all", () => {
        const stack = on[transport];
        const decisionPolicy = policyOf(stack, "decision");
        assertLeastPrivilege(decisionPolicy);
        const statement = decisionPolicy.Statement.find((entry: { Sid: string }) => entry.Sid === "ReadSignInClientSecret");
        assert.deepEqual(statement, { Sid: "ReadSignInClientSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: stack.resources.one(T.secret).state.arn });
        const everyPolicy = stack.resources.ofType(T.rolePolicy).map((policy) => JSON.parse(policy.inputs.policy));
        const secretStatements = everyPolicy.flatMap((policy) => policy.Statement).filter((entry: { Action: string[] }) => entry.Action.some((action) => action.startsWith("secretsmanager:")));
        assert.equal(secretStatements.length, 1, "only the decision role reads it");
      });

      it("without sign-in: no secret, no SIGN_IN_ settings, no Secrets Manager permission", () => {
        const stack = off[transport];
        assert.equal(stack.resources.ofType(T.secret).length + stack.resources.ofType(T.secretVersion).length, 0);
        assert.ok(!Object.keys(stack.decision.inputs.environment.variables).some((name) => name.startsWith("SIGN_IN_")));
        assert.ok(!JSON.stringify(policyOf(stack, "decision")).includes("secretsmanager"));
      });

      it("shows the secret as [secret] in a plan", async () => {
        const stack = on[transport];
        const plan = await renderInventory({ stack: "test", config: {}, outputs: {}, resources: stack.resources.all });
        assert.ok(!plan.includes(CLIENT_SECRET), "the plan holds the secret in clear");
        assert.match(plan, /secretString: "\[secret\]"/);
      });
    });
  }

  describe("routes: one list, every transport", () => {
    it("lists the review link and the sign-in callback", () => {
      assert.deepEqual(DECISION_ROUTES.map((route) => [route.path, [...route.methods]]), [["/requests/{id}", ["GET", "HEAD", "POST"]], ["/auth/callback", ["GET"]]]);
    });

    it("restApi: /auth/callback with GET by proxy integration, invocable by this stage on that route only; every route's resources named after it", () => {
      const { resources, decision, name, callbackUrl } = on.restApi;
      const paths = resources.ofType(T.restResource).map((resource) => [resource.name.slice(name.length + 1), resource.inputs.pathPart]).sort();
      assert.deepEqual(paths, [["path-auth", "auth"], ["path-auth-callback", "callback"], ["path-requests", "requests"], ["path-requests-id", "{id}"]]);
      const callback = resources.one(T.restResource, `${name}-path-auth-callback`);
      assert.equal(callback.inputs.parentId, resources.one(T.restResource, `${name}-path-auth`).id);
      const method = resources.one(T.restMethod, `${name}-sign-in-callback-get`);
      assert.deepEqual([method.inputs.httpMethod, method.inputs.resourceId, method.inputs.authorization, method.inputs.requestParameters], ["GET", callback.id, "NONE", undefined]);
      const integration = resources.one(T.restIntegration, `${name}-sign-in-callback-get-integration`);
      assert.deepEqual([integration.inputs.type, integration.inputs.uri], ["AWS_PROXY", decision.state.invokeArn]);
      assert.deepEqual(resources.ofType(T.restMethod).map((entry) => entry.name.slice(name.length + 1)).sort(), ["request-get", "request-head", "request-post", "sign-in-callback-get"]);
      const executionArn = resources.one(T.restApi).state.executionArn;
      const permissions = Object.fromEntries(resources.ofType(T.permission).map((permission) => [permission.name.slice(name.length + 1), permission.inputs.sourceArn]));
      assert.equal(permissions["request-invoke"], `${executionArn}/approvals/*/requests/*`);
      assert.equal(permissions["sign-in-callback-invoke"], `${executionArn}/approvals/GET/auth/callback`);
      assert.match(callbackUrl, /\/approvals$/, "the redirect URI is <callbackUrl>/auth/callback, the stage included");
    });

    it("httpApi: GET /auth/callback to the same integration, invocable by this API on that route only", () => {
      const { resources, name } = on.httpApi;
      const routes = resources.ofType(T.httpRoute);
      assert.deepEqual(routes.map((route) => route.inputs.routeKey).sort(), ["GET /auth/callback", "GET /requests/{id}", "HEAD /requests/{id}", "POST /requests/{id}"]);
      assert.equal(new Set(routes.map((route) => route.inputs.target)).size, 1);
      assert.deepEqual(routes.map((route) => route.name.slice(name.length + 1)).sort(), ["request-get", "request-head", "request-post", "sign-in-callback-get"]);
      const executionArn = resources.one(T.httpApi).state.executionArn;
      const permissions = Object.fromEntries(resources.ofType(T.permission).map((permission) => [permission.name.slice(name.length + 1), permission.inputs.sourceArn]));
      assert.equal(permissions["request-invoke"], `${executionArn}/*/*/requests/*`);
      assert.equal(permissions["sign-in-callback-invoke"], `${executionArn}/*/GET/auth/callback`);
    });

    it("functionUrl: every path reaches the function already; nothing more is made", () => {
      assert.equal(on.functionUrl.resources.ofType(T.functionUrl).length, 1);
      assert.deepEqual(on.functionUrl.resources.ofType(T.permission).map((p) => p.name).sort(), off.functionUrl.resources.ofType(T.permission).map((p) => p.name.replace("-off-", "-on-")).sort());
    });

    it("the same routes with sign-in on or off: turning it on changes the function, its role and the secret, never the endpoint", () => {
      for (const transport of TRANSPORTS) {
        const endpointTypes = [T.restResource, T.restMethod, T.restIntegration, T.httpRoute, T.permission];
        const shape = (stack: Deployed) => endpointTypes.flatMap((type) => stack.resources.ofType(type).map((resource) => `${type} ${resource.name.slice(stack.name.length)}`)).sort();
        assert.deepEqual(shape(on[transport]), shape(off[transport]), transport);
      }
    });
  });

  describe("the program (index.ts) with sign-in configured, as npm run plan plans it", () => {
    it("reads the client secret only as a secret (set with --secret in the stack file), and the plan shows [secret]", () => {
      const stacks = mkdtempSync(path.join(tmpdir(), "stacks-"));
      const plans = mkdtempSync(path.join(tmpdir(), "plans-"));
      try {
        writeFileSync(path.join(stacks, "Pulumi.signin.yaml"), [
          "config:",
          "  aws:region: eu-west-1",
          "  human-approval:transport: restApi",
          "  human-approval:approverEmails:",
          "    - ops@example.com",
          `  human-approval:signInIssuer: ${ISSUER}`,
          "  human-approval:signInClientId: approvals",
          "  human-approval:signInClientSecret:",
          "    secure: v1:c2FsdHNhbHQ=:Y2lwaGVydGV4dC1vZi10aGUtc2VjcmV0",
          "",
        ].join("\n"));
        execFileSync(process.execPath, ["-r", "tsx/cjs", "scripts/plan.ts", "--stacks-dir", stacks, "--plans-dir", plans, "signin"], { cwd: path.resolve(__dirname, "../.."), encoding: "utf8", env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } });
        const plan = readFileSync(path.join(plans, "signin.yaml"), "utf8");
        assert.ok(!plan.includes("Y2lwaGVydGV4dC1vZi10aGUtc2VjcmV0"), "not even the ciphertext");
        assert.match(plan, /type: aws:secretsmanager\/secret:Secret/);
        assert.match(plan, /secretString: "\[secret\]"/);
        assert.match(plan, /SIGN_IN_SECRET_ARN: arn:aws:secretsmanager:/);
        assert.match(plan, /SIGN_IN_ISSUER: https:\/\/login\.example\.com\/realms\/ops/);
        assert.match(plan, /routeKey: GET \/auth\/callback|pathPart: callback/);
      } finally {
        rmSync(stacks, { recursive: true, force: true });
        rmSync(plans, { recursive: true, force: true });
      }
    });
  });
});
