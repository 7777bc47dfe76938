import { strict as assert } from "node:assert";
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import { approvalsTablePolicy, linkKeyPolicy, ROUTED_TOPIC_TAG, topicPolicy } from "../../components/policies";
import type { Transport } from "../../functions/decision/httpEvent";
import {
  approverSubscriptionsFiltered,
  currentLambdaRuntimes,
  HUMAN_APPROVAL_POLICIES,
  linkKeyDenied,
  logRetentionSet,
  noAllowNotActionOrNotResource,
  noApiGatewayDataTracing,
  noAwsManagedPolicies,
  noPublicLambdaInvoke,
  noWildcardActions,
  publicUrlOnlyOnDecisionFunction,
  tableDeletionProtection,
  tableTtlAndRecovery,
  tableWriteDeny,
  topicInlinePolicyRestrictive,
  topicsCoveredByRestrictivePolicy,
} from "../../policy/rules";
import { declaredUnder, settled, useMocks, valueOf } from "../support/pulumiMocks";

const TRUSTED = { deployer: "arn:aws:iam::123456789012:role/deployer", accountRoot: "arn:aws:iam::123456789012:root" };

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

/** Runs one stack policy; returns what it reported, each with the URN it was reported on. */
async function stackReports(policy: StackValidationPolicy, resources: Array<Pick<PolicyResource, "type" | "props" | "urn">>): Promise<Array<{ message: string; urn?: string }>> {
  const found: Array<{ message: string; urn?: string }> = [];
  await policy.validateStack({ resources: resources as PolicyResource[] } as never, (message: string, urn?: string) => found.push({ message, urn }));
  return found;
}

async function stackViolations(policy: StackValidationPolicy, resources: Array<Pick<PolicyResource, "type" | "props" | "urn">>): Promise<string[]> {
  return (await stackReports(policy, resources)).map(({ message }) => message);
}

const rolePolicy = (statement: Record<string, unknown>) => ({ policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", ...statement }] }) });
const statement = (fields: Record<string, unknown>) => ({ Effect: "Allow", ...fields });
const document = (...statements: Array<Record<string, unknown>>) => ({ policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) });
/** An aws.iam.Role with one inline policy named "inline". */
const roleWithInline = (...statements: Array<Record<string, unknown>>) => ({ assumeRolePolicy: "{}", inlinePolicies: [{ name: "inline", policy: document(...statements).policy }] });

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
    it("reads a role's inline policies too: named actions pass, \"*\" and \"*:*\" fail", async () => {
      assert.deepEqual(await violations(noWildcardActions, "aws:iam/role:Role", roleWithInline(statement({ Action: ["sns:Publish"], Resource: "arn:aws:sns:eu-west-1:1:t" }))), []);
      assert.deepEqual(await violations(noWildcardActions, "aws:iam/role:Role", { assumeRolePolicy: "{}" }), []);
      const anything = await violations(noWildcardActions, "aws:iam/role:Role", roleWithInline(statement({ Action: "*", Resource: "arn:aws:sns:eu-west-1:1:t" })));
      assert.deepEqual(anything, ['The action "*" is a wildcard: name each action. (inline policy "inline")']);
      assert.match((await violations(noWildcardActions, "aws:iam/role:Role", roleWithInline(statement({ Action: "*:*", Resource: "*" }))))[0], /"\*:\*" is a wildcard.*inline policy "inline"/);
    });
    it("fails wildcards written with ? and partial-ARN wildcards that cover every resource", async () => {
      assert.match((await violations(noWildcardActions, type, rolePolicy({ Action: "kms:GenerateMa?", Resource: "arn:aws:kms:eu-west-1:1:key/k" })))[0], /"kms:GenerateMa\?" is a wildcard/);
      for (const resource of ["arn:aws:*:*:*:*", "arn:*", "arn:aws:dynamodb:*:1:table/t", "arn:aws:dynamodb:eu-west-1:*:table/t", "arn:aws:kms:eu-west-1:1:*", "arn:aws:sn?:eu-west-1:1:t", "*?"]) {
        assert.match((await violations(noWildcardActions, type, rolePolicy({ Action: ["dynamodb:GetItem"], Resource: resource })))[0] ?? "", /is allowed on Resource "\*"/, resource);
      }
      // A wildcard inside this stack's own resource names is scoped: its log streams, its executions.
      for (const resource of ["arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x:*", "arn:aws:states:eu-west-1:1:execution:machine:*"]) {
        assert.deepEqual(await violations(noWildcardActions, type, rolePolicy({ Action: ["logs:PutLogEvents"], Resource: resource })), [], resource);
      }
    });
    it("fails a wildcard in an aws.iam.Policy", async () => {
      assert.equal((await violations(noWildcardActions, "aws:iam/policy:Policy", rolePolicy({ Action: "*", Resource: "arn:aws:sns:eu-west-1:1:t" }))).length, 1);
    });
  });

  describe("no-iam-allow-not-action", () => {
    const named = statement({ Action: ["dynamodb:GetItem"], Resource: "arn:aws:dynamodb:eu-west-1:1:table/t" });
    const notAction = statement({ NotAction: ["iam:*"], Resource: "arn:aws:dynamodb:eu-west-1:1:table/t" });
    const notResource = statement({ Action: ["dynamodb:GetItem"], NotResource: "arn:aws:dynamodb:eu-west-1:1:table/other" });
    it("passes named actions and resources, and NotAction in a Deny", async () => {
      for (const type of ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"]) assert.deepEqual(await violations(noAllowNotActionOrNotResource, type, document(named)), []);
      assert.deepEqual(await violations(noAllowNotActionOrNotResource, "aws:iam/role:Role", roleWithInline(named)), []);
      assert.deepEqual(await violations(noAllowNotActionOrNotResource, "aws:iam/rolePolicy:RolePolicy", document({ Effect: "Deny", NotAction: ["sns:Publish"], Resource: "*" })), []);
    });
    it("fails NotAction and NotResource in an Allow: role policies, policies, and a role's inline policies", async () => {
      for (const type of ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"]) {
        assert.match((await violations(noAllowNotActionOrNotResource, type, document(notAction)))[0], /uses NotAction, which allows every other action/);
        assert.match((await violations(noAllowNotActionOrNotResource, type, document(notResource)))[0], /uses NotResource, which allows every other resource/);
      }
      const inline = await violations(noAllowNotActionOrNotResource, "aws:iam/role:Role", roleWithInline({ ...notAction, Sid: "Broad" }));
      assert.deepEqual(inline, ['The Allow statement "Broad" uses NotAction, which allows every other action: list the allowed actions. (inline policy "inline")']);
      assert.equal((await violations(noAllowNotActionOrNotResource, "aws:iam/role:Role", roleWithInline(notResource))).length, 1);
    });
  });

  describe("no-aws-managed-policies", () => {
    const ownPolicy = "arn:aws:iam::123456789012:policy/human-approval-decision";
    it("passes the stack's own policies, and a role without managed policies", async () => {
      assert.deepEqual(await violations(noAwsManagedPolicies, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", { role: "r", policyArn: ownPolicy }), []);
      assert.deepEqual(await violations(noAwsManagedPolicies, "aws:iam/policyAttachment:PolicyAttachment", { roles: ["r"], policyArn: ownPolicy }), []);
      assert.deepEqual(await violations(noAwsManagedPolicies, "aws:iam/role:Role", { assumeRolePolicy: "{}" }), []);
      assert.deepEqual(await violations(noAwsManagedPolicies, "aws:iam/role:Role", { managedPolicyArns: [ownPolicy] }), []);
    });
    it("fails AdministratorAccess and any AWS managed policy, in any partition, however attached", async () => {
      const admin = "arn:aws:iam::aws:policy/AdministratorAccess";
      assert.match((await violations(noAwsManagedPolicies, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", { role: "r", policyArn: admin }))[0], /"arn:aws:iam::aws:policy\/AdministratorAccess" is attached/);
      const basic = "arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
      assert.equal((await violations(noAwsManagedPolicies, "aws:iam/policyAttachment:PolicyAttachment", { roles: ["r"], policyArn: basic })).length, 1);
      assert.equal((await violations(noAwsManagedPolicies, "aws:iam/role:Role", { managedPolicyArns: [ownPolicy, "arn:aws:iam::aws:policy/ReadOnlyAccess"] })).length, 1);
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

  describe("no-public-lambda-invoke", () => {
    const type = "aws:lambda/permission:Permission";
    const permission = (fields: Record<string, unknown>) => ({ action: "lambda:InvokeFunction", function: "decision", ...fields });
    const apiSource = "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/*/requests/*";
    it("passes the public Function URL's two permissions, API Gateway with its source, and a named account", async () => {
      const good = [
        permission({ action: "lambda:InvokeFunctionUrl", principal: "*", functionUrlAuthType: "NONE" }),
        permission({ principal: "*", invokedViaFunctionUrl: true }),
        permission({ principal: "apigateway.amazonaws.com", sourceArn: apiSource }),
        permission({ principal: "123456789012" }),
        permission({ principal: "events.amazonaws.com", sourceArn: "arn:aws:events:eu-west-1:123456789012:rule/r" }),
      ];
      for (const props of good) assert.deepEqual(await violations(noPublicLambdaInvoke, type, props), [], JSON.stringify(props));
    });
    it("fails a public InvokeFunction not limited to the Function URL", async () => {
      assert.match((await violations(noPublicLambdaInvoke, type, permission({ principal: "*" })))[0], /set invokedViaFunctionUrl to true/);
      assert.equal((await violations(noPublicLambdaInvoke, type, permission({ principal: "*", invokedViaFunctionUrl: false }))).length, 1);
    });
    it("fails principal \"*\" on InvokeFunctionUrl for an IAM-auth or any URL, and on any other action", async () => {
      assert.match((await violations(noPublicLambdaInvoke, type, permission({ action: "lambda:InvokeFunctionUrl", principal: "*", functionUrlAuthType: "AWS_IAM" })))[0], /"AWS_IAM" lets principals of every AWS account call the URL/);
      assert.match((await violations(noPublicLambdaInvoke, type, permission({ action: "lambda:InvokeFunctionUrl", principal: "*" })))[0], /functionUrlAuthType unset/);
      assert.match((await violations(noPublicLambdaInvoke, type, permission({ action: "lambda:GetFunction", principal: "*" })))[0], /Principal "\*" may perform "lambda:GetFunction"/);
    });
    it("fails API Gateway (or another service) without a source", async () => {
      assert.match((await violations(noPublicLambdaInvoke, type, permission({ principal: "apigateway.amazonaws.com" })))[0], /set sourceArn to this stack's API/);
      assert.equal((await violations(noPublicLambdaInvoke, type, permission({ principal: "apigateway.amazonaws.com", sourceAccount: "123456789012" }))).length, 1);
      assert.match((await violations(noPublicLambdaInvoke, type, permission({ principal: "s3.amazonaws.com" })))[0], /"s3.amazonaws.com" may invoke the function on behalf of any account/);
    });
  });

  describe("sns-topics-covered-by-restrictive-policy", () => {
    const topicArn = "arn:aws:sns:eu-west-1:123456789012:requests";
    const roles = ["arn:aws:iam::123456789012:role/request", "arn:aws:iam::123456789012:role/decision"];
    const goodDocument = topicPolicy({ topic: topicArn, publisherRoles: roles, approverEmails: ["A@example.com"], trusted: TRUSTED });
    /** AWS's default topic policy: every principal of the account (AWS:SourceOwner) may subscribe, receive, publish. */
    const awsDefaultStatement = {
      Sid: "__default_statement_ID",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
      Resource: topicArn,
      Condition: { StringEquals: { "AWS:SourceOwner": "123456789012" } },
    };
    const topic = (arn?: string, props: Record<string, unknown> = {}) => ({ type: "aws:sns/topic:Topic", urn: `urn:topic:${arn ?? "unknown"}`, props: { ...(arn ? { arn } : {}), ...props } });
    const topicPolicyResource = (arn: string | undefined, policy: unknown) => ({
      type: "aws:sns/topicPolicy:TopicPolicy",
      urn: `urn:topic-policy:${arn ?? "unknown"}`,
      props: { ...(arn ? { arn } : {}), ...(policy === undefined ? {} : { policy: typeof policy === "string" ? policy : JSON.stringify(policy) }) },
    });
    const withStatements = (...extra: Array<Record<string, unknown>>) => ({ ...goodDocument, Statement: [...goodDocument.Statement, ...extra] });
    const without = (...sids: string[]) => ({ ...goodDocument, Statement: goodDocument.Statement.filter((s) => !sids.includes(s.Sid)) });

    it("passes a topic covered by topicPolicy()'s document", async () => {
      assert.deepEqual(await stackReports(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, goodDocument)]), []);
    });
    it("passes an Allow to every principal narrowed to a source ARN or principal ARN", async () => {
      const fromRule = { Sid: "EventsPublish", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn };
      const narrowed = { Sid: "Narrowed", Effect: "Allow", Principal: "*", Action: "sns:Publish", Resource: topicArn, Condition: { ArnLike: { "aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/x" } } };
      const onlyRead = { Sid: "Describe", Effect: "Allow", Principal: { AWS: "*" }, Action: "sns:GetTopicAttributes", Resource: topicArn };
      assert.deepEqual(await stackViolations(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, withStatements(fromRule, narrowed, onlyRead))]), []);
    });
    it("skips the match while an ARN is unknown (preview)", async () => {
      assert.deepEqual(await stackViolations(topicsCoveredByRestrictivePolicy, [topic(undefined)]), []);
      assert.deepEqual(await stackViolations(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(undefined, undefined)]), []);
      // What the engine does with an unknown value: it throws when the rule reads it.
      const unknownArn = { type: "aws:sns/topic:Topic", urn: "urn:topic:unknown", props: new Proxy({}, { get: () => { throw new (class UnknownValueError extends Error {})("unknown"); } }) };
      assert.deepEqual(await stackViolations(topicsCoveredByRestrictivePolicy, [unknownArn]), []);
    });
    it("fails a topic with no TopicPolicy, on the topic's URN", async () => {
      const otherArn = `${topicArn}-other`;
      const found = await stackReports(topicsCoveredByRestrictivePolicy, [topic(topicArn), topic(otherArn), topicPolicyResource(topicArn, goodDocument)]);
      assert.equal(found.length, 1);
      assert.match(found[0].message, /"arn:aws:sns:eu-west-1:123456789012:requests-other" has no aws.sns.TopicPolicy/);
      assert.equal(found[0].urn, `urn:topic:${otherArn}`);
    });
    it("fails AWS's default policy: open to the account, no denies, on the topic's URN", async () => {
      const found = await stackReports(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, { Version: "2008-10-17", Statement: [awsDefaultStatement] })]);
      assert.deepEqual(found.map(({ urn }) => urn), Array(4).fill(`urn:topic:${topicArn}`));
      assert.match(found[0].message, /too open: its Allow statement "__default_statement_ID" gives every principal sns:Subscribe, sns:ListSubscriptionsByTopic, sns:Publish/);
      assert.match(found[1].message, /no Deny of sns:Publish/);
      assert.match(found[2].message, /no Deny of sns:Subscribe for other addresses/);
      assert.match(found[3].message, /no Deny of sns:Subscribe by other protocols/);
    });
    it("fails an Allow of subscribe, receive or sns:* to every principal, even beside the denies", async () => {
      const statements = [
        { Sid: "Open", Effect: "Allow", Principal: "*", Action: "sns:Subscribe", Resource: topicArn },
        { Sid: "Open", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::123456789012:role/x", "*"] }, Action: "sns:Receive", Resource: topicArn },
        { Sid: "Open", Effect: "Allow", Principal: { AWS: "*" }, Action: "sns:*", Resource: topicArn },
        { Sid: "Open", Effect: "Allow", Principal: { AWS: "*" }, Action: "sns:Publish", Resource: topicArn, Condition: { StringEquals: { "AWS:SourceOwner": "123456789012" } } },
        { Sid: "Open", Effect: "Allow", Principal: "*", Action: "sns:Publish", Resource: topicArn, Condition: { ArnLike: { "aws:PrincipalArn": "*" } } },
        { Sid: "Open", Effect: "Allow", Principal: "*", NotAction: "sns:DeleteTopic", Resource: topicArn },
      ];
      for (const open of statements) {
        const found = await stackViolations(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, withStatements(open))]);
        assert.equal(found.length, 1, JSON.stringify(open));
        assert.match(found[0], /Allow statement "Open" gives every principal/);
      }
    });
    it("the approvals topic's policy must also keep every principal but the deployer from subscribing", async () => {
      const routedTopic = topic(topicArn, { tags: { [ROUTED_TOPIC_TAG]: "true" } });
      assert.deepEqual(await stackViolations(topicsCoveredByRestrictivePolicy, [routedTopic, topicPolicyResource(topicArn, goodDocument)]), []);
      const found = await stackViolations(topicsCoveredByRestrictivePolicy, [routedTopic, topicPolicyResource(topicArn, without("OnlyTheDeployerSubscribes"))]);
      assert.equal(found.length, 1);
      assert.match(found[0], /no Deny of sns:Subscribe for every principal but the deployer .*without a filter policy/);
    });
    it("fails a policy without the publish deny, or without the subscribe denies", async () => {
      const noPublishDeny = await stackViolations(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, without("NobodyElsePublishes"))]);
      assert.deepEqual(noPublishDeny.length, 1);
      assert.match(noPublishDeny[0], /no Deny of sns:Publish/);
      // Each subscribe deny on its own: the endpoint deny is what keeps other addresses out, the protocol deny other readers.
      const noEndpointDeny = await stackViolations(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, without("OnlyApproverAddresses"))]);
      assert.deepEqual(noEndpointDeny.length, 1);
      assert.match(noEndpointDeny[0], /no Deny of sns:Subscribe for other addresses \(a negated condition on sns:Endpoint\)/);
      const noProtocolDeny = await stackViolations(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, without("OnlyEmailSubscriptions"))]);
      assert.deepEqual(noProtocolDeny.length, 1);
      assert.match(noProtocolDeny[0], /no Deny of sns:Subscribe by other protocols/);
      // A deny that only hits the listed principals (not negated), or only one principal, guards nothing.
      const inverted = { ...goodDocument.Statement[1], Condition: { ArnEquals: { "aws:PrincipalArn": roles } } };
      const replacingPublishDeny = (deny: Record<string, unknown>) => ({ ...goodDocument, Statement: [...without("NobodyElsePublishes").Statement, deny] });
      for (const weak of [inverted, { ...goodDocument.Statement[1], Principal: { AWS: "arn:aws:iam::123456789012:user/mallory" } }]) {
        const found = await stackViolations(topicsCoveredByRestrictivePolicy, [topic(topicArn), topicPolicyResource(topicArn, replacingPublishDeny(weak))]);
        assert.equal(found.length, 1, JSON.stringify(weak));
        assert.match(found[0], /no Deny of sns:Publish/);
      }
    });
  });

  describe("sns-topic-inline-policy-restrictive", () => {
    const type = "aws:sns/topic:Topic";
    const topicArn = "arn:aws:sns:eu-west-1:123456789012:requests";
    it("passes a topic without its own policy, and one with topicPolicy()'s document", async () => {
      assert.deepEqual(await violations(topicInlinePolicyRestrictive, type, { displayName: "Approval requests" }), []);
      const good = topicPolicy({ topic: topicArn, publisherRoles: ["arn:aws:iam::123456789012:role/request"], approverEmails: ["a@example.com"], trusted: TRUSTED });
      assert.deepEqual(await violations(topicInlinePolicyRestrictive, type, { policy: JSON.stringify(good) }), []);
    });
    it("fails an open policy on the topic itself", async () => {
      const open = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: ["sns:Subscribe", "sns:Publish"], Resource: topicArn }] };
      const found = await violations(topicInlinePolicyRestrictive, type, { policy: JSON.stringify(open) });
      assert.equal(found.length, 4);
      assert.match(found[0], /^The topic's own policy is too open: its Allow statement gives every principal sns:Subscribe, sns:Publish/);
    });
    it("on the approvals topic (tagged for per-approver routing), also the deployer-only subscribe deny", async () => {
      const routed = { tags: { [ROUTED_TOPIC_TAG]: "true" } };
      const good = topicPolicy({ topic: topicArn, publisherRoles: ["arn:aws:iam::123456789012:role/request"], approverEmails: ["a@example.com"], trusted: TRUSTED });
      assert.deepEqual(await violations(topicInlinePolicyRestrictive, type, { ...routed, policy: JSON.stringify(good) }), []);
      const withoutDeployerDeny = { ...good, Statement: good.Statement.filter((statement) => statement.Sid !== "OnlyTheDeployerSubscribes") };
      assert.match((await violations(topicInlinePolicyRestrictive, type, { ...routed, policy: JSON.stringify(withoutDeployerDeny) }))[0], /no Deny of sns:Subscribe for every principal but the deployer/);
      assert.deepEqual(await violations(topicInlinePolicyRestrictive, type, { policy: JSON.stringify(withoutDeployerDeny) }), [], "an unrouted topic (alarms) needs no deployer deny");
    });
  });

  describe("dynamodb-ttl-and-pitr", () => {
    const type = "aws:dynamodb/table:Table";
    it("passes TTL and PITR on", async () => assert.deepEqual(await violations(tableTtlAndRecovery, type, { ttl: { enabled: true, attributeName: "ttl" }, pointInTimeRecovery: { enabled: true } }), []));
    it("fails each one off", async () => {
      assert.deepEqual((await violations(tableTtlAndRecovery, type, { pointInTimeRecovery: { enabled: true } })).length, 1);
      assert.deepEqual((await violations(tableTtlAndRecovery, type, { ttl: { enabled: true, attributeName: "ttl" }, pointInTimeRecovery: { enabled: false } })).length, 1);
    });
  });

  describe("dynamodb-deletion-protection", () => {
    const type = "aws:dynamodb/table:Table";
    it("passes deletion protection on, and a table tagged throwaway without it", async () => {
      assert.deepEqual(await violations(tableDeletionProtection, type, { deletionProtectionEnabled: true }), []);
      assert.deepEqual(await violations(tableDeletionProtection, type, { deletionProtectionEnabled: false, tags: { "human-approval:throwaway": "true" } }), []);
    });
    it("fails it off or unset without the throwaway tag", async () => {
      assert.match((await violations(tableDeletionProtection, type, {}))[0], /Deletion protection is off/);
      assert.equal((await violations(tableDeletionProtection, type, { deletionProtectionEnabled: false })).length, 1);
      assert.equal((await violations(tableDeletionProtection, type, { deletionProtectionEnabled: false, tags: { "human-approval:throwaway": "false" } })).length, 1);
      assert.equal((await violations(tableDeletionProtection, type, { deletionProtectionEnabled: false, tags: { "human-approval:role": "decision" } })).length, 1);
    });
  });

  describe("approver-subscriptions-filtered", () => {
    const topicArn = "arn:aws:sns:eu-west-1:123456789012:requests";
    const approvals = { type: "aws:sns/topic:Topic", urn: "urn:topic", props: { arn: topicArn, tags: { [ROUTED_TOPIC_TAG]: "true" } } };
    const alarms = { type: "aws:sns/topic:Topic", urn: "urn:alarms", props: { arn: `${topicArn}-alarms` } };
    const subscription = (props: Record<string, unknown>) => ({ type: "aws:sns/topicSubscription:TopicSubscription", urn: "urn:subscription", props: { topic: topicArn, protocol: "email", endpoint: "Ann@Example.com", ...props } });
    const filtered = { filterPolicyScope: "MessageAttributes", filterPolicy: JSON.stringify({ approver: ["ann@example.com"] }) };
    it("passes an approver's subscription filtered to their own address, and an unfiltered one on another topic (alarms)", async () => {
      assert.deepEqual(await stackViolations(approverSubscriptionsFiltered, [approvals, alarms, subscription(filtered), subscription({ topic: `${topicArn}-alarms` })]), []);
      assert.deepEqual(await stackViolations(approverSubscriptionsFiltered, [approvals, subscription({ topic: undefined })]), [], "an unknown topic ARN (preview) is decided at update");
    });
    it("fails an approver's subscription without a filter policy, with another approver's, with body scope, or not by email", async () => {
      const bad: Array<[Record<string, unknown>, RegExp]> = [
        [{}, /receives other approvers' links: set filterPolicy to \{"approver":\["ann@example.com"\]\}/],
        [{ ...filtered, filterPolicy: JSON.stringify({ approver: ["ann@example.com", "bob@example.com"] }) }, /receives other approvers' links/],
        [{ ...filtered, filterPolicy: JSON.stringify({ approver: [{ prefix: "" }] }) }, /receives other approvers' links/],
        [{ ...filtered, filterPolicyScope: "MessageBody" }, /filterPolicyScope to "MessageAttributes"/],
        [{ ...filtered, protocol: "https", endpoint: "https://evil.example/hook" }, /uses protocol "https"/],
      ];
      for (const [props, message] of bad) {
        const found = await stackReports(approverSubscriptionsFiltered, [approvals, subscription(props)]);
        assert.equal(found.length, 1, JSON.stringify(props));
        assert.match(found[0].message, message);
        assert.equal(found[0].urn, "urn:subscription");
      }
    });
  });

  describe("link-key-deny", () => {
    const type = "aws:kms/key:Key";
    const policy = linkKeyPolicy({ account: "123456789012", partition: "aws", requestRole: "arn:aws:iam::123456789012:role/request" });
    const key = (document: unknown) => ({ keyUsage: "GENERATE_VERIFY_MAC", customerMasterKeySpec: "HMAC_256", policy: JSON.stringify(document) });
    it("passes linkKeyPolicy(), and keys that make no MACs", async () => {
      assert.deepEqual(await violations(linkKeyDenied, type, key(policy)), []);
      assert.deepEqual(await violations(linkKeyDenied, type, { keyUsage: "ENCRYPT_DECRYPT" }), []);
    });
    it("fails an HMAC key without its Deny, with a Deny that names one principal, or with no negated principal condition", async () => {
      const [administer, deny] = policy.Statement;
      assert.equal((await violations(linkKeyDenied, type, key({ ...policy, Statement: [administer] }))).length, 2);
      assert.equal((await violations(linkKeyDenied, type, { keyUsage: "GENERATE_VERIFY_MAC" })).length, 2, "no policy: the account default");
      assert.match((await violations(linkKeyDenied, type, key({ ...policy, Statement: [administer, { ...deny, Principal: { AWS: "arn:aws:iam::123456789012:user/mallory" } }] })))[0], /no Deny of kms:GenerateMac for every principal but the named ones/);
      assert.equal((await violations(linkKeyDenied, type, key({ ...policy, Statement: [administer, { ...deny, Condition: { ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/request" } } }] }))).length, 2);
      assert.deepEqual(await violations(linkKeyDenied, type, key({ ...policy, Statement: [administer, { ...deny, Action: ["kms:GenerateMac"] }] })), ["The key's policy has no Deny of kms:VerifyMac for every principal but the named ones (a negated condition on aws:PrincipalArn): anyone whose identity policy allows it could make working links."]);
    });
  });

  describe("dynamodb-table-write-deny", () => {
    const tableArn = "arn:aws:dynamodb:eu-west-1:123456789012:table/requests";
    const table = { type: "aws:dynamodb/table:Table", urn: "urn:table", props: { arn: tableArn } };
    const good = approvalsTablePolicy({ table: tableArn, writerRoles: ["arn:aws:iam::123456789012:role/request", "arn:aws:iam::123456789012:role/decision"], trusted: TRUSTED });
    const resourcePolicyOf = (document: unknown, resourceArn: string | undefined = tableArn) => ({ type: "aws:dynamodb/resourcePolicy:ResourcePolicy", urn: "urn:table-policy", props: { ...(resourceArn ? { resourceArn } : {}), policy: JSON.stringify(document) } });
    it("passes a table with approvalsTablePolicy(), and skips unknown ARNs (preview)", async () => {
      assert.deepEqual(await stackViolations(tableWriteDeny, [table, resourcePolicyOf(good)]), []);
      assert.deepEqual(await stackViolations(tableWriteDeny, [table, resourcePolicyOf(good, undefined)]), []);
    });
    it("fails a table without a resource policy, on the table's URN", async () => {
      const found = await stackReports(tableWriteDeny, [table]);
      assert.equal(found.length, 1);
      assert.match(found[0].message, /has no aws.dynamodb.ResourcePolicy: any principal with dynamodb:PutItem could forge a decision/);
      assert.equal(found[0].urn, "urn:table");
      assert.match((await stackViolations(tableWriteDeny, [table, resourcePolicyOf(good, `${tableArn}-other`)]))[0], /has no aws.dynamodb.ResourcePolicy/);
    });
    it("fails a policy that leaves a write, or the policy itself, open to someone", async () => {
      const [writes, guards] = good.Statement;
      const cases: Array<[unknown, RegExp]> = [
        [{ ...good, Statement: [guards] }, /does not deny dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:BatchWriteItem, dynamodb:PartiQLInsert/],
        [{ ...good, Statement: [writes] }, /does not deny dynamodb:PutResourcePolicy, dynamodb:DeleteResourcePolicy/],
        [{ ...good, Statement: [{ ...writes, Action: writes.Action.filter((action) => action !== "dynamodb:PartiQLUpdate") }, guards] }, /does not deny dynamodb:PartiQLUpdate/],
        [{ ...good, Statement: [{ ...writes, Principal: { AWS: "arn:aws:iam::123456789012:role/developer" } }, guards] }, /does not deny dynamodb:PutItem/],
        [{ ...good, Statement: [{ ...writes, Condition: { ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/developer" } } }, guards] }, /does not deny dynamodb:PutItem/],
      ];
      for (const [document, message] of cases) {
        const found = await stackViolations(tableWriteDeny, [table, resourcePolicyOf(document)]);
        assert.equal(found.length, 1, JSON.stringify(document));
        assert.match(found[0], message);
      }
      // A Deny of dynamodb:* for everyone but the functions and the deployer covers all of it.
      assert.deepEqual(await stackViolations(tableWriteDeny, [table, resourcePolicyOf({ ...good, Statement: [{ ...writes, Action: ["dynamodb:*"] }] })]), []);
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
      // The resources the newer rules look at are there, so an empty list below means they passed.
      assert.ok(resources.some((r) => r.type === "aws:sns/topicPolicy:TopicPolicy"));
      assert.ok(resources.some((r) => r.type === "aws:iam/role:Role"));
      assert.ok(resources.some((r) => r.type === "aws:dynamodb/table:Table"));
      assert.ok(resources.some((r) => r.type === "aws:dynamodb/resourcePolicy:ResourcePolicy"));
      assert.ok(resources.some((r) => r.type === "aws:sns/topicSubscription:TopicSubscription"));
      assert.ok(resources.some((r) => r.type === "aws:kms/key:Key"));
      const found: string[] = [];
      for (const policy of HUMAN_APPROVAL_POLICIES) {
        const named = (messages: string[]) => messages.map((message) => `${policy.name}: ${message}`);
        if ("validateResource" in policy) for (const resource of resources) found.push(...named(await violations(policy, resource.type, resource.inputs)));
        if ("validateStack" in policy) found.push(...named(await stackViolations(policy, resources.map((r) => ({ type: r.type, urn: r.name, props: r.state })))));
      }
      assert.deepEqual(found, []);
    });
  }
});
