/**
 * DynamoDB's default read is eventually consistent: a GetItem may answer from a replica that has not seen
 * the latest write. The optimistic lock (read a version, write on that version) and the verify step (read
 * the recorded output) are right only on consistent reads, and ask for them (`ConsistentRead: true`).
 * dynalite always reads consistently, so the flag would make no difference there: here the stand-in sits in
 * front of dynalite and answers every GetItem that is not consistent from an older snapshot of the table.
 * Without the flag these tests fail (a vote that can never be recorded; a genuine decision refused).
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { strict as assert } from "node:assert";
import { APPROVALS_TABLE_KEY, type ApprovalOutput } from "../../functions/shared/approvalRequest";
import { jsonPost } from "../support/events";
import { jsonOf, startHarness, type Harness } from "../support/harness";

const ANN = "ann@example.com";
const BOB = "bob@example.com";

describe("reads that must be consistent, against a replica that lags (stale-read stand-in)", function () {
  this.timeout(60_000);
  let harness: Harness;
  before(async () => {
    harness = await startHarness({ approverEmails: [ANN, BOB], requiredApprovals: 2 });
    harness.routeDynamoDbThroughStandIn();
  });
  after(async () => harness?.close());
  afterEach(() => harness.standIn.serveStaleReads(undefined));

  const snapshot = () => harness.standIn.snapshotTable(harness.tableName, APPROVALS_TABLE_KEY);
  /** A GetItem with or without the flag, through the stand-in (where the functions' reads go). */
  const rawGetItem = async (id: string, consistent: boolean) => {
    const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    try {
      return (await client.send(new GetItemCommand({ TableName: harness.tableName, Key: { id: { S: id } }, ConsistentRead: consistent }))).Item;
    } finally {
      client.destroy();
    }
  };

  it("the stand-in really lags: a read without the flag sees the snapshot, a consistent read sees the table", async () => {
    const approval = await harness.requestApproval({ title: "Lagging replica" });
    harness.standIn.serveStaleReads(await snapshot());
    assert.equal((await harness.call("functionUrl", jsonPost(approval.links[ANN], { decision: "approve" }))).statusCode, 200);
    const consistent = await rawGetItem(approval.requestRef, true);
    const stale = await rawGetItem(approval.requestRef, false);
    assert.ok(Number(consistent?.version?.N) > Number(stale?.version?.N), `the stale read is older (version ${stale?.version?.N} < ${consistent?.version?.N})`);
  });

  it("the optimistic lock: the second approver's vote reads the first one's and settles the request (once)", async () => {
    const approval = await harness.requestApproval({ title: "Two approvers, one replica behind" });
    // From here on the replica never sees a write: every read without the flag returns the request without votes.
    harness.standIn.serveStaleReads(await snapshot());
    const sendTaskSuccess = harness.counter("SendTaskSuccess");

    assert.equal((await harness.call("functionUrl", jsonPost(approval.links[ANN], { decision: "approve" }))).statusCode, 200);
    const second = await harness.call("functionUrl", jsonPost(approval.links[BOB], { decision: "approve", comment: "me too" }));
    assert.equal(second.statusCode, 200, second.body);
    assert.equal(jsonOf(second).decision, "approved");

    const received: ApprovalOutput = await approval.received;
    assert.deepEqual(received.approvals.map((vote) => vote.approver), [ANN, BOB], "both votes, the first one included");
    assert.equal(received.decidedBy, BOB);
    assert.equal(sendTaskSuccess(), 1);
    const stored = await harness.stored(approval.requestRef);
    assert.equal(stored.status, "APPROVED");
    assert.deepEqual(stored.settlement?.output, received);
  });

  it("the lost reply's read-back: a vote whose write was applied but not answered is recognised by its write id", async () => {
    const approval = await harness.requestApproval({ title: "A lost reply, a replica behind" });
    harness.standIn.serveStaleReads(await snapshot());
    // The vote's conditional write is applied, its reply lost; the retry then fails its own condition.
    harness.standIn.injectFaults("PutItem", "applyThenDropReply");
    const vote = await harness.call("functionUrl", jsonPost(approval.links[ANN], { decision: "approve" }));
    assert.equal(vote.statusCode, 200, vote.body);
    assert.equal(harness.standIn.faults.get("PutItem")?.length, 0, "the fault was used");
    const stored = await harness.stored(approval.requestRef);
    assert.deepEqual(stored.votes.map((recorded) => recorded.approver), [ANN], "recorded once");
  });

  it("the verify step: a genuine decision passes although the replica still shows the request before anyone voted", async () => {
    const input = { title: "Verified against a lagging replica", details: { release: 7 } };
    const approval = await harness.requestApproval(input);
    const beforeTheVotes = await snapshot();
    for (const approver of [ANN, BOB]) assert.equal((await harness.call("functionUrl", jsonPost(approval.links[approver], { decision: "approve" }))).statusCode, 200);
    const received = await approval.received;

    // The workflow's next state runs while the replica still lags behind every vote.
    harness.standIn.serveStaleReads(beforeTheVotes);
    const staleBefore = harness.standIn.staleReadsServed;
    const verified = await harness.invokeRequestFunction({ kind: "verify", execution: { id: approval.executionArn, name: approval.executionName }, approval: received, executionInput: input });
    assert.deepEqual(verified, { requestRef: approval.requestRef, verified: true });
    assert.equal(harness.standIn.staleReadsServed, staleBefore, "every read of the verify step asked for a consistent read");
  });
});
