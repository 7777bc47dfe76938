import { strict as assert } from "node:assert";
import { decisionPolicy, linkKeyPolicy, requestApprovalPolicy, stateMachinePolicy, topicPolicy } from "../../components/policies";
import { assertLeastPrivilege } from "../support/leastPrivilege";

const TRUSTED = { deployer: "arn:aws:iam::1:role/deployer", accountRoot: "arn:aws:iam::1:root" };
const arns = {
  table: "arn:aws:dynamodb:eu-west-1:1:table/requests",
  topic: "arn:aws:sns:eu-west-1:1:requests",
  logGroup: "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x",
  requestFunction: "arn:aws:lambda:eu-west-1:1:function:request",
  linkKey: "arn:aws:kms:eu-west-1:1:key/k",
};

describe("IAM policies", () => {
  it("request-approval: store in this table, publish to this topic, make links with this key, write its own logs", () => {
    const policy = requestApprovalPolicy(arns);
    assertLeastPrivilege(policy);
    assert.deepEqual(policy.Statement.map((s) => [s.Action, s.Resource]), [
      [["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], arns.table],
      [["sns:Publish"], arns.topic],
      [["kms:GenerateMac"], arns.linkKey],
      [["logs:CreateLogStream", "logs:PutLogEvents"], `${arns.logGroup}:*`],
    ]);
  });

  it("decision: read and replace items of this table, SendTaskSuccess (which has no resource-level permissions), notices, its own logs", () => {
    const policy = decisionPolicy(arns);
    assertLeastPrivilege(policy);
    assert.deepEqual(policy.Statement.map((s) => [s.Action, s.Resource]), [
      [["dynamodb:GetItem", "dynamodb:PutItem"], arns.table],
      [["states:SendTaskSuccess"], "*"],
      [["sns:Publish"], arns.topic],
      [["logs:CreateLogStream", "logs:PutLogEvents"], `${arns.logGroup}:*`],
    ]);
  });

  it("state machine: invoke the request function only, plus log delivery", () => {
    const policy = stateMachinePolicy({ requestFunction: arns.requestFunction });
    assertLeastPrivilege(policy);
    assert.deepEqual(policy.Statement[0].Resource, [arns.requestFunction]);
    assert.deepEqual(stateMachinePolicy({ requestFunction: arns.requestFunction, approvedFunction: "arn:aws:lambda:eu-west-1:1:function:deploy" }).Statement[0].Resource, [arns.requestFunction, "arn:aws:lambda:eu-west-1:1:function:deploy"]);
  });

  it("the least-privilege check itself catches a wildcard action and an unscoped resource", () => {
    assert.throws(() => assertLeastPrivilege({ Version: "2012-10-17", Statement: [{ Sid: "x", Effect: "Allow", Action: ["logs:*"], Resource: arns.logGroup }] }));
    assert.throws(() => assertLeastPrivilege({ Version: "2012-10-17", Statement: [{ Sid: "x", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: "*" }] }));
  });

  it("topic: the listed roles may publish, nobody else; only the approvers' addresses, by email, may subscribe", () => {
    const roles = ["arn:aws:iam::1:role/request", "arn:aws:iam::1:role/decision"];
    const policy = topicPolicy({ topic: arns.topic, publisherRoles: roles, approverEmails: ["Ann@Example.com"], trusted: TRUSTED });
    const bySid = Object.fromEntries(policy.Statement.map((statement) => [statement.Sid, statement]));
    assert.deepEqual(bySid.StackFunctionsPublish, { Sid: "StackFunctionsPublish", Effect: "Allow", Principal: { AWS: roles }, Action: ["sns:Publish"], Resource: arns.topic });
    assert.equal(bySid.NobodyElsePublishes.Effect, "Deny");
    assert.deepEqual(bySid.NobodyElsePublishes.Condition, { ArnNotEquals: { "aws:PrincipalArn": roles } });
    assert.deepEqual(bySid.OnlyApproverAddresses.Condition, { StringNotEqualsIgnoreCase: { "sns:Endpoint": ["ann@example.com"] } });
    assert.deepEqual(bySid.OnlyEmailSubscriptions.Condition, { StringNotEquals: { "sns:Protocol": "email" } });
    assert.ok(policy.Statement.every((statement) => statement.Effect === "Deny" || statement.Principal !== "*"), "no Allow for everyone");
  });

  it("link key: administered by the account, but no principal except the request role may make a MAC", () => {
    const policy = linkKeyPolicy({ account: "123456789012", partition: "aws", requestRole: "arn:aws:iam::123456789012:role/request" });
    const deny = policy.Statement.find((statement) => statement.Effect === "Deny")!;
    assert.deepEqual(deny.Action, ["kms:GenerateMac", "kms:VerifyMac"]);
    assert.deepEqual(deny.Principal, { AWS: "*" });
    assert.deepEqual(deny.Condition, { ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/request" } });
  });
});
