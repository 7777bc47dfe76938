import { strict as assert } from "node:assert";
import { readStackFile } from "../../stacks/stackFiles";
import { settled, useMocks, valueOf, declared } from "../support/pulumiMocks";

/** Runs index.ts, the real program, with the dev stack's own config file. */
describe("the program (index.ts) with Pulumi.dev.yaml", function () {
  this.timeout(60_000);
  let program: typeof import("../../index");

  before(async () => {
    useMocks("dev", readStackFile("dev"));
    program = require("../../index"); // after useMocks: the program runs as it loads
    await valueOf(program.stateMachineArn);
    await settled();
  });

  it("exports the five stack outputs of the contract", async () => {
    assert.equal(program.transport, "functionUrl");
    assert.match(await valueOf(program.callbackUrl), /^https:\/\/.+\.lambda-url\.eu-west-1\.on\.aws$/);
    assert.match(await valueOf(program.stateMachineArn), /^arn:aws:states:eu-west-1:\d{12}:stateMachine:/);
    assert.match(await valueOf(program.topicArn), /^arn:aws:sns:eu-west-1:\d{12}:/);
    assert.match(await valueOf(program.approvalsTable), /^human-approval-requests/);
  });

  it("builds everything under one HumanApprovalWorkflow component, with the stack's settings", () => {
    const components = declared.filter((resource) => resource.type === "human-approval:index:HumanApprovalWorkflow" && resource.name === "human-approval");
    assert.equal(components.length, 1);
    const logGroups = declared.filter((resource) => resource.type === "aws:cloudwatch/logGroup:LogGroup" && resource.name.startsWith("human-approval-"));
    assert.deepEqual(logGroups.map((group) => [group.inputs.name, group.inputs.retentionInDays]).sort(), [
      ["/aws/lambda/human-approval-dev-decision", 7],
      ["/aws/lambda/human-approval-dev-request-approval", 7],
      ["/aws/vendedlogs/states/human-approval-dev", 7],
    ]);
  });
});
