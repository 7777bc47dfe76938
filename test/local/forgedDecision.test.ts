import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { strict as assert } from "node:assert";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { requestRefFor } from "../../functions/shared/approvalRequest";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";

/**
 * SendTaskSuccess cannot be scoped to a state machine and the task token is readable with read-only
 * access, so a principal allowed SendTaskSuccess anywhere can answer the waiting task. The workflow's
 * "Verify decision" refuses any output the approvers' votes did not settle.
 */
describe("a decision forged with the task token", function () {
  this.timeout(30_000);
  const ANN = "ann@example.com";
  const BOB = "bob@example.com";
  let local: LocalApprovals;
  before(async () => (local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 3600, approverEmails: [ANN, BOB], requiredApprovals: 2 })));
  after(async () => local?.close());

  const client = <T>(make: (config: object) => T) => make({ region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });

  it("never runs the Approved path: the execution fails at Decision not verified, and no page or record claims it", async () => {
    const execution = local.startExecution({ title: "Deploy prod" });
    const links = Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl]));
    // The insider reads the token from the table (read-only access) and answers the task as "approved".
    const dynamo = client((config) => new DynamoDBClient({ ...config, endpoint: local.dynamoDbEndpoint }));
    const sfn = client((config) => new SFNClient({ ...config, endpoint: process.env.AWS_ENDPOINT_URL_SFN }));
    try {
      const item = await dynamo.send(new GetItemCommand({ TableName: local.tableName, Key: { id: { S: requestRefFor(execution.executionArn) } } }));
      const taskToken = item.Item!.taskToken.S!;
      const forged = { decision: "approved", decidedBy: "ceo@example.com", decidedAt: new Date().toISOString(), comment: "", approvals: [], requestRef: requestRefFor(execution.executionArn), inputDigest: "sha256:0" };
      await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(forged) }));
    } finally {
      dynamo.destroy();
      sfn.destroy();
    }
    const outcome = await execution.outcome;
    assert.equal(outcome.status, "FAILED");
    assert.equal(outcome.path.at(-1), STATE_NAMES.notVerified);
    assert.ok(!outcome.path.includes(STATE_NAMES.approved));
    assert.match(outcome.error?.cause ?? "", /no approvers' votes settled/);

    // An approver who comes later is told the truth: nothing they can decide, no approval claimed.
    const vote = await fetch(links[ANN], { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision: "reject" }) });
    const body = (await vote.json()) as Record<string, unknown>;
    assert.ok([409, 410].includes(vote.status), `status ${vote.status}`);
    assert.equal(body.decision, undefined, "no decision is shown that the approvers did not make");
  });
});
