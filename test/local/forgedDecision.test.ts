import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { strict as assert } from "node:assert";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { requestRefFor } from "../../functions/shared/approvalRequest";
import { inputDigest } from "../../functions/requestApproval/summary";
import { LOCAL_STATE_MACHINE_ARN, LOCAL_STATE_MACHINE_NAME, startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";

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

    // The execution's end reaches the request function, which closes the request and tells the approvers.
    await local.standIn.nextEmail((email) => email.message.includes(`\nExecution:  ${execution.executionName}\n`) && email.message.includes("no longer decides anything"));
    // An approver who comes later is told the truth: nothing they can decide, no approval claimed.
    const vote = await fetch(links[ANN], { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision: "reject" }) });
    const body = (await vote.json()) as Record<string, unknown>;
    assert.equal(vote.status, 410, "closed: the table says CLOSED (forgedDecisionRecorded.test.ts reads it on every transport)");
    assert.equal(body.decision, undefined, "no decision is shown that the approvers did not make");
  });

  describe("what is approved is what runs", () => {
    const approveAll = async (links: string[]) => {
      for (const link of links) {
        const vote = await fetch(link, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision: "approve" }) });
        assert.equal(vote.status, 200, await vote.text());
      }
    };

    it("a request pre-created under the execution's predictable name is refused: the execution fails before anyone is asked", async () => {
      const name = `release-${Date.now()}`;
      const executionArn = `${LOCAL_STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")}:${name}`;
      // Someone allowed to invoke the request function stores a harmless-looking request under that name first.
      await local.invokeRequestFunction({ kind: "request", taskToken: "forged-token", execution: { id: executionArn, name }, stateMachine: { name: LOCAL_STATE_MACHINE_NAME }, input: { title: "Fix a typo in README" } });
      const execution = local.startExecution({ title: "Delete the production database" }, name);
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "FAILED");
      assert.equal(outcome.path.at(-1), STATE_NAMES.refused);
      assert.match(outcome.error?.cause ?? "", /another input is already stored for execution/);
      assert.ok(!outcome.path.includes(STATE_NAMES.approved));
      // Only the forged request's emails went out; none about the execution's real input.
      assert.ok(execution.allEmails().every((email) => !email.message.includes("Delete the production database")));
    });

    it("an approval of another input than the execution's never passes Verify decision", async () => {
      const input = { title: "Delete the production database" };
      const execution = local.startExecution(input);
      const links = (await execution.emails).map((email) => email.reviewUrl);
      // A table writer (the table's resource policy stops this in AWS; the local table has none) swaps what the approvers see.
      const dynamo = client((config) => new DynamoDBClient({ ...config, endpoint: local.dynamoDbEndpoint }));
      try {
        await dynamo.send(new UpdateItemCommand({
          TableName: local.tableName,
          Key: { id: { S: requestRefFor(execution.executionArn) } },
          UpdateExpression: "SET title = :title, inputDigest = :digest",
          ExpressionAttributeValues: { ":title": { S: "Fix a typo in README" }, ":digest": { S: inputDigest({ title: "Fix a typo in README" }) } },
        }));
      } finally {
        dynamo.destroy();
      }
      await approveAll(links);
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "FAILED");
      assert.equal(outcome.path.at(-1), STATE_NAMES.notVerified);
      assert.match(outcome.error?.cause ?? "", /shown another input than the one this execution runs/);
    });

    it("the same execution input, approved, still runs the Approved path", async () => {
      const execution = local.startExecution({ title: "Deploy prod" });
      await approveAll((await execution.emails).map((email) => email.reviewUrl));
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "SUCCEEDED");
      assert.ok(outcome.path.includes(STATE_NAMES.approved));
    });
  });
});
