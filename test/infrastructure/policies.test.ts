import { strict as assert } from "node:assert";
import { decisionPolicy, requestApprovalPolicy, stateMachinePolicy } from "../../components/policies";
import { assertLeastPrivilege } from "../support/leastPrivilege";

const arns = {
  table: "arn:aws:dynamodb:eu-west-1:1:table/requests",
  topic: "arn:aws:sns:eu-west-1:1:requests",
  logGroup: "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x",
  requestFunction: "arn:aws:lambda:eu-west-1:1:function:request",
};

describe("IAM policies", () => {
  it("request-approval: store in this table, publish to this topic, write its own logs", () => {
    const policy = requestApprovalPolicy(arns);
    assertLeastPrivilege(policy);
    assert.deepEqual(policy.Statement.map((s) => [s.Action, s.Resource]), [
      [["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], arns.table],
      [["sns:Publish"], arns.topic],
      [["logs:CreateLogStream", "logs:PutLogEvents"], `${arns.logGroup}:*`],
    ]);
  });

  it("decision: read and update this table, SendTaskSuccess (which has no resource-level permissions), its own logs", () => {
    const policy = decisionPolicy(arns);
    assertLeastPrivilege(policy);
    assert.deepEqual(policy.Statement.map((s) => [s.Action, s.Resource]), [
      [["dynamodb:GetItem", "dynamodb:UpdateItem"], arns.table],
      [["states:SendTaskSuccess"], "*"],
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
});
