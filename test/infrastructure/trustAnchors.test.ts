/**
 * The approvals table and the topic's subscriptions are closed like the link key: the program's own
 * documents (under Pulumi mocks) are evaluated by an independent IAM simulator against the principals
 * of the security model.
 */
import { strict as assert } from "node:assert";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import { TABLE_GUARD_ACTIONS, TABLE_WRITE_ACTIONS, TOPIC_MANAGEMENT_ACTIONS } from "../../components/policies";
import { ACCOUNT, DEPLOYER_ROLE, declaredUnder, settled, useMocks, valueOf } from "../support/pulumiMocks";
import { simulate } from "../support/leastPrivilege";

const T = {
  table: "aws:dynamodb/table:Table",
  tablePolicy: "aws:dynamodb/resourcePolicy:ResourcePolicy",
  topic: "aws:sns/topic:Topic",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
};
const approverEmails = ["ann@example.com", "bob@example.com"];
const settings = { transport: "functionUrl" as const, approverEmails, approvalTimeoutMinutes: 60, logRetentionDays: 14, auditRetentionDays: 30 };
const everything = (actions: string[]) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: actions, Resource: "*" }] });
/** PowerUserAccess or AmazonDynamoDBFullAccess + AmazonSNSFullAccess, as far as this table and topic go. */
const powerUser = everything(["dynamodb:*", "sns:*"]);
const administrator = everything(["*"]);
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/operators/break-glass`;
const INSIDER = `arn:aws:iam::${ACCOUNT}:role/developer`;

interface Stack {
  table: string;
  topic: string;
  tablePolicy: unknown;
  topicPolicy: unknown;
  roles: { request: string; decision: string };
  rolePolicies: { request: unknown[]; decision: unknown[] };
}

async function deploy(name: string, extra: { deployerArn?: string; breakGlassRoleArn?: string } = {}): Promise<Stack> {
  const workflow = new HumanApprovalWorkflow(name, { ...settings, ...extra });
  await valueOf(workflow.stateMachineArn);
  await settled();
  const resources = declaredUnder(`${name}-`);
  const table = resources.one(T.table).state.arn;
  const topic = resources.one(T.topic).state.arn;
  const tablePolicy = resources.one(T.tablePolicy);
  assert.equal(tablePolicy.inputs.resourceArn, table);
  assert.equal(tablePolicy.inputs.confirmRemoveSelfResourceAccess, undefined, "AWS must refuse a policy that would lock out whoever applies it");
  const role = (suffix: string) => resources.one(T.role, `${name}-${suffix}-role`).state.arn;
  const policies = (prefix: string) => resources.ofType(T.rolePolicy).filter((policy) => policy.name.startsWith(`${name}-${prefix}`)).map((policy) => JSON.parse(policy.inputs.policy));
  return {
    table,
    topic,
    tablePolicy: JSON.parse(tablePolicy.inputs.policy),
    topicPolicy: JSON.parse(resources.one(T.topicPolicy).inputs.policy),
    roles: { request: role("request-approval"), decision: role("decision") },
    rolePolicies: { request: policies("request-approval"), decision: policies("decision") },
  };
}

describe("Trust anchors: who may write the table and subscribe (IAM simulation)", function () {
  this.timeout(60_000);
  let stack: Stack;
  let configured: Stack;
  before(async () => {
    useMocks("test");
    stack = await deploy("anchors");
    configured = await deploy("anchors-configured", { deployerArn: `arn:aws:iam::${ACCOUNT}:role/platform/pulumi`, breakGlassRoleArn: BREAK_GLASS });
  });

  const onTable = (s: Stack, principal: string, action: string, identityPolicies: unknown[]) => simulate({ principal, action, resource: s.table, identityPolicies, resourcePolicy: s.tablePolicy });
  const subscribe = (s: Stack, principal: string, endpoint: string, identityPolicies: unknown[] = [administrator]) =>
    simulate({ principal, action: "sns:Subscribe", resource: s.topic, identityPolicies, resourcePolicy: s.topicPolicy, context: { "sns:Protocol": "email", "sns:Endpoint": endpoint } });
  const onTopic = (s: Stack, principal: string, action: string, identityPolicies: unknown[]) => simulate({ principal, action, resource: s.topic, identityPolicies, resourcePolicy: s.topicPolicy });

  it("a principal with dynamodb:* and sns:* on * cannot change a single item of the table, in any way", async () => {
    for (const action of TABLE_WRITE_ACTIONS) assert.equal(await onTable(stack, INSIDER, action, [powerUser]), "ExplicitlyDenied", action);
    // Reading stays as the account's read-only policies allow (the table holds no secret).
    assert.equal(await onTable(stack, INSIDER, "dynamodb:GetItem", [powerUser]), "Allowed");
  });

  it("nor lift the deny first: replace or delete the policy, delete or change the table, add a replica", async () => {
    for (const action of TABLE_GUARD_ACTIONS) assert.equal(await onTable(stack, INSIDER, action, [powerUser]), "ExplicitlyDenied", action);
  });

  it("an account administrator other than the deployer is held to the same denies", async () => {
    assert.equal(await onTable(stack, INSIDER, "dynamodb:PutItem", [administrator]), "ExplicitlyDenied");
    assert.equal(await subscribe(stack, INSIDER, "ann@example.com", [administrator]), "ExplicitlyDenied");
  });

  it("the function roles, with their own identity policies, still store and decide requests", async () => {
    for (const action of ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"]) assert.equal(await onTable(stack, stack.roles.request, action, stack.rolePolicies.request), "Allowed", action);
    for (const action of ["dynamodb:PutItem", "dynamodb:GetItem"]) assert.equal(await onTable(stack, stack.roles.decision, action, stack.rolePolicies.decision), "Allowed", action);
    assert.equal(await onTopic(stack, stack.roles.request, "sns:Publish", stack.rolePolicies.request), "Allowed");
  });

  it("the deployer manages the table and its policy, but writes no item", async () => {
    for (const action of TABLE_GUARD_ACTIONS) assert.equal(await onTable(stack, DEPLOYER_ROLE, action, [administrator]), "Allowed", action);
    assert.equal(await onTable(stack, DEPLOYER_ROLE, "dynamodb:PutItem", [administrator]), "ExplicitlyDenied");
  });

  it("the account's root user can still remove the table's policy and change the topic (the way back in)", async () => {
    assert.equal(await onTable(stack, ROOT, "dynamodb:DeleteResourcePolicy", [administrator]), "Allowed");
    assert.equal(await onTopic(stack, ROOT, "sns:SetTopicAttributes", [administrator]), "Allowed");
  });

  it("an approver with sns:* cannot subscribe any address, their own included, nor change the topic's policy", async () => {
    for (const endpoint of ["ann@example.com", "mallory@example.com"]) assert.equal(await subscribe(stack, INSIDER, endpoint, [powerUser]), "ExplicitlyDenied", endpoint);
    for (const action of TOPIC_MANAGEMENT_ACTIONS) assert.equal(await onTopic(stack, INSIDER, action, [powerUser]), "ExplicitlyDenied", action);
  });

  it("the deployer subscribes the approvers' addresses (pulumi up), and nothing else", async () => {
    assert.equal(await subscribe(stack, DEPLOYER_ROLE, "ann@example.com"), "Allowed");
    assert.equal(await subscribe(stack, DEPLOYER_ROLE, "mallory@example.com"), "ExplicitlyDenied");
    for (const action of TOPIC_MANAGEMENT_ACTIONS) assert.equal(await onTopic(stack, DEPLOYER_ROLE, action, [administrator]), "Allowed", action);
  });

  it("a configured deployer replaces the one running pulumi up; the break-glass role may write and subscribe, not manage", async () => {
    const pulumiRole = `arn:aws:iam::${ACCOUNT}:role/platform/pulumi`;
    assert.equal(await subscribe(configured, pulumiRole, "bob@example.com"), "Allowed");
    assert.equal(await subscribe(configured, DEPLOYER_ROLE, "bob@example.com"), "ExplicitlyDenied");
    assert.equal(await onTable(configured, pulumiRole, "dynamodb:PutResourcePolicy", [administrator]), "Allowed");
    assert.equal(await onTable(configured, BREAK_GLASS, "dynamodb:UpdateItem", [administrator]), "Allowed");
    assert.equal(await subscribe(configured, BREAK_GLASS, "bob@example.com"), "Allowed");
    assert.equal(await onTable(configured, BREAK_GLASS, "dynamodb:DeleteResourcePolicy", [administrator]), "ExplicitlyDenied");
    // Without the option, nobody but the functions writes.
    assert.equal(await onTable(stack, BREAK_GLASS, "dynamodb:UpdateItem", [administrator]), "ExplicitlyDenied");
  });
});
