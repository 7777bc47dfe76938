/**
 * A DynamoDB write that is applied while its reply is lost (the client then retries, and the retry fails its
 * own condition). Through the local stand-in, which forwards DynamoDB calls to dynalite, each write of the
 * decision path is applied and its reply dropped in turn, on every transport: the write id recognises the
 * write as this invocation's own, so the decision is delivered at once, the voter is told the truth, and the
 * outcome notice goes out exactly once.
 */
import { strict as assert } from "node:assert";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Transport } from "../../functions/decision/httpEvent";
import { requestRefFor, type ApprovalOutput, type ApprovalRequest } from "../../functions/shared/approvalRequest";
import type { Fault } from "../../local/awsStandIn";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";

async function voteJson(url: string, decision: "approve" | "reject") {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision, comment: "" }) });
  return { statusCode: response.status, body: (await response.json()) as { status?: string; error?: string; decision?: string; message?: string } };
}

/** The writes of the decision path, with quorum 2: Alice's vote, Bob's settling claim, the record of the delivery. */
const WRITES = [
  { name: "the first approval (not settling)", voter: ALICE, faults: ["applyThenDropReply"] },
  { name: "the settling claim (PENDING to SETTLING)", voter: BOB, faults: ["applyThenDropReply"] },
  { name: "the record of the delivery (SETTLING to APPROVED)", voter: BOB, faults: ["none", "applyThenDropReply"] },
] as const;

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`a DynamoDB write applied with its reply lost, over ${transport}`, function () {
    this.timeout(60_000);
    let local: LocalApprovals;
    let documents: DynamoDBDocumentClient;
    before(async () => {
      local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 3600, approverEmails: [ALICE, BOB], requiredApprovals: 2 });
      documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
    });
    afterEach(() => local.standIn.faults.clear());
    after(async () => {
      documents?.destroy();
      await local?.close();
    });

    for (const write of WRITES) {
      it(`${write.name}: delivered at once, the voter told the truth, one notice`, async () => {
        const execution = local.startExecution({ title: `Lost reply: ${write.name}` });
        const links = Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl]));
        const requestRef = requestRefFor(execution.executionArn);
        const first = write.voter === ALICE ? undefined : await voteJson(links[ALICE], "approve");
        if (first) assert.equal(first.statusCode, 200);

        local.standIn.injectFaults("PutItem", ...(write.faults as readonly Fault[]));
        const told = await voteJson(links[write.voter], "approve");
        for (const [operation, queue] of local.standIn.faults) assert.equal(queue.length, 0, `the fault injected into ${operation} was met`);
        assert.doesNotMatch(told.body.message ?? "", /already recorded/i, "a first press is never told 'already recorded'");
        if (write.voter === ALICE) {
          assert.equal(told.statusCode, 200);
          assert.equal(told.body.status, "pending", "one approval of two: recorded, still pending");
          assert.match(told.body.message ?? "", /Your vote is recorded/);
          assert.equal((await voteJson(links[BOB], "approve")).body.status, "approved");
        } else {
          assert.equal(told.statusCode, 200, JSON.stringify(told.body));
          assert.equal(told.body.status, "approved", "the voter is told approved");
          assert.equal(told.body.decision, "approved");
        }

        const item = (await documents.send(new GetCommand({ TableName: local.tableName, Key: { id: requestRef }, ConsistentRead: true }))).Item as ApprovalRequest;
        assert.equal(item.status, "APPROVED");
        assert.deepEqual(item.votes.map((vote) => vote.approver), [ALICE, BOB], "each vote recorded once");
        const received = local.standIn.historyOf(execution.executionArn).filter((event) => event.type === "TaskSucceeded").map((event) => JSON.parse((event.taskSucceededEventDetails as { output: string }).output) as ApprovalOutput);
        assert.equal(received.length, 1, "the workflow received the decision exactly once");
        assert.deepEqual(item.settlement?.output, received[0], "the table says what the workflow received");
        const outcome = await execution.outcome;
        assert.equal(outcome.status, "SUCCEEDED");
        assert.equal((outcome.output as { approval: ApprovalOutput }).approval.decision, "approved");
        const notices = execution.allEmails().filter((email) => email.subject.startsWith("Approved:"));
        assert.equal(notices.length, 1, "the outcome notice went out once");
        assert.deepEqual([...notices[0].recipients].sort(), [ALICE, BOB]);
      });
    }
  });
}
