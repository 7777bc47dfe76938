import { strict as assert } from "node:assert";
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import type { Transport } from "../../functions/decision/httpEvent";
import {
  currentLambdaRuntimes,
  HUMAN_APPROVAL_POLICIES,
  logRetentionSet,
  noApiGatewayDataTracing,
  noWildcardActions,
  publicUrlOnlyOnDecisionFunction,
  tableTtlAndRecovery,
} from "../../policy/rules";
import { declaredUnder, settled, useMocks, valueOf } from "../support/pulumiMocks";

/** Runs one resource policy on one resource; returns the violations it reported. */
async function violations(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): Promise<string[]> {
  const found: string[] = [];
  const validations = ([] as NonNullable<ResourceValidationPolicy["validateResource"]>[]).concat(policy.validateResource!).flat();
  for (const validate of validations) {
    // The rules read only type and props; the rest of the engine's argument bag is not needed here.
    const args = { type, props, urn: `urn:pulumi:test::human-approval::${type}::r`, name: "r" } as unknown as ResourceValidationArgs;
    await validate(args, (message: string) => found.push(message));
  }
  return found;
}

async function stackViolations(policy: StackValidationPolicy, resources: Array<Pick<PolicyResource, "type" | "props" | "urn">>): Promise<string[]> {
  const found: string[] = [];
  await policy.validateStack({ resources: resources as PolicyResource[] } as never, (message: string) => found.push(message));
  return found;
}

const rolePolicy = (statement: Record<string, unknown>) => ({ policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", ...statement }] }) });

describe("policy pack rules", () => {
  describe("no-iam-wildcard-actions", () => {
    const type = "aws:iam/rolePolicy:RolePolicy";
    it("passes named actions on named resources, and SendTaskSuccess on *", async () => {
      assert.deepEqual(await violations(noWildcardActions, type, rolePolicy({ Action: ["dynamodb:GetItem"], Resource: "arn:aws:dynamodb:eu-west-1:1:table/t" })), []);
      assert.deepEqual(await violations(noWildcardActions, type, rolePolicy({ Action: "states:SendTaskSuccess", Resource: "*" })), []);
    });
    it("fails a wildcard action and a scoped action on *", async () => {
      assert.match((await violations(noWildcardActions, type, rolePolicy({ Action: "logs:*", Resource: "arn:aws:logs:eu-west-1:1:log-group:x" })))[0], /"logs:\*" is a wildcard/);
      assert.match((await violations(noWildcardActions, type, rolePolicy({ Action: ["dynamodb:GetItem"], Resource: ["*"] })))[0], /"dynamodb:GetItem" is allowed on Resource "\*"/);
    });
    it("ignores other resource types", async () => {
      assert.deepEqual(await violations(noWildcardActions, "aws:s3/bucket:Bucket", { policy: "not json" }), []);
    });
  });

  describe("log-retention-set", () => {
    const type = "aws:cloudwatch/logGroup:LogGroup";
    it("passes a retention", async () => assert.deepEqual(await violations(logRetentionSet, type, { retentionInDays: 14 }), []));
    it("fails a missing or zero retention", async () => {
      assert.equal((await violations(logRetentionSet, type, {})).length, 1);
      assert.equal((await violations(logRetentionSet, type, { retentionInDays: 0 })).length, 1);
    });
  });

  describe("no-api-gateway-data-tracing", () => {
    const type = "aws:apigateway/methodSettings:MethodSettings";
    it("passes tracing off", async () => assert.deepEqual(await violations(noApiGatewayDataTracing, type, { settings: { dataTraceEnabled: false } }), []));
    it("fails tracing on", async () => assert.equal((await violations(noApiGatewayDataTracing, type, { settings: { dataTraceEnabled: true, loggingLevel: "INFO" } })).length, 1));
  });

  describe("current-lambda-runtimes", () => {
    const type = "aws:lambda/function:Function";
    it("passes nodejs24.x", async () => assert.deepEqual(await violations(currentLambdaRuntimes, type, { runtime: "nodejs24.x" }), []));
    it("fails an old runtime", async () => assert.match((await violations(currentLambdaRuntimes, type, { runtime: "nodejs18.x" }))[0], /"nodejs18.x" is not current/));
  });

  describe("dynamodb-ttl-and-pitr", () => {
    const type = "aws:dynamodb/table:Table";
    it("passes TTL and PITR on", async () => assert.deepEqual(await violations(tableTtlAndRecovery, type, { ttl: { enabled: true, attributeName: "ttl" }, pointInTimeRecovery: { enabled: true } }), []));
    it("fails each one off", async () => {
      assert.deepEqual((await violations(tableTtlAndRecovery, type, { pointInTimeRecovery: { enabled: true } })).length, 1);
      assert.deepEqual((await violations(tableTtlAndRecovery, type, { ttl: { enabled: true, attributeName: "ttl" }, pointInTimeRecovery: { enabled: false } })).length, 1);
    });
  });

  describe("public-function-url-only-on-decision-function", () => {
    const fn = (name: string, role: string) => ({ type: "aws:lambda/function:Function", urn: `urn:${name}`, props: { name, tags: { "human-approval:role": role } } });
    const url = (functionName: string, authorizationType = "NONE") => ({ type: "aws:lambda/functionUrl:FunctionUrl", urn: "urn:url", props: { functionName, authorizationType } });
    it("passes a public URL on the decision function, and an IAM-auth URL anywhere", async () => {
      assert.deepEqual(await stackViolations(publicUrlOnlyOnDecisionFunction, [fn("d", "decision"), fn("r", "request-approval"), url("d")]), []);
      assert.deepEqual(await stackViolations(publicUrlOnlyOnDecisionFunction, [fn("r", "request-approval"), url("r", "AWS_IAM")]), []);
    });
    it("fails a public URL on any other function", async () => {
      assert.match((await stackViolations(publicUrlOnlyOnDecisionFunction, [fn("d", "decision"), fn("r", "request-approval"), url("r")]))[0], /fronts "r", which is not the decision function/);
    });
  });
});

describe("the program satisfies its own policy pack (Pulumi mocks)", function () {
  this.timeout(60_000);
  for (const transport of ["restApi", "httpApi", "functionUrl"] as Transport[]) {
    it(`with transport ${transport}`, async () => {
      useMocks("policy");
      const name = `policy-${transport}`;
      const workflow = new HumanApprovalWorkflow(name, { transport, approverEmails: ["a@example.com"], approvalTimeoutMinutes: 60, logRetentionDays: 14, auditRetentionDays: 30 });
      await valueOf(workflow.stateMachineArn);
      await settled();
      const resources = declaredUnder(`${name}-`).all;
      assert.ok(resources.length > 15);
      const found: string[] = [];
      for (const policy of HUMAN_APPROVAL_POLICIES) {
        if ("validateResource" in policy) for (const resource of resources) found.push(...(await violations(policy, resource.type, resource.inputs)));
        if ("validateStack" in policy) found.push(...(await stackViolations(policy, resources.map((r) => ({ type: r.type, urn: r.name, props: r.state })))));
      }
      assert.deepEqual(found, []);
    });
  }
});
