/**
 * The sweeper completes every unfinished delivery without anyone opening a link: a delivery that failed for
 * now, a deliverer that died after its claim, an execution stopped while its decision was on its way. It runs
 * here as the deployed schedule runs it (the request function's `{"kind":"sweep"}` entry), once, on demand.
 */
import { strict as assert } from "node:assert";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { requestRefFor, type ApprovalOutput, type ApprovalRequest, type Vote } from "../../functions/shared/approvalRequest";
import { startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";
/** The decision function's attempts per Step Functions call, written out: a change to its budget fails here. */
const ATTEMPTS = 2;

describe("the sweeper completes unfinished deliveries", function () {
  this.timeout(60_000);
  let local: LocalApprovals;
  let documents: DynamoDBDocumentClient;
  let sfn: SFNClient;
  before(async () => {
    local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 3600, approverEmails: [ALICE, BOB], requiredApprovals: 1 });
    const credentials = { accessKeyId: "local", secretAccessKey: "local" };
    documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials }), { marshallOptions: { removeUndefinedValues: true } });
    sfn = new SFNClient({ endpoint: local.stackOutputs.endpoints.sfn, region: "eu-west-1", credentials });
  });
  afterEach(() => local.standIn.faults.clear());
  after(async () => {
    documents?.destroy();
    sfn?.destroy();
    await local?.close();
  });

  const item = async (requestRef: string) => (await documents.send(new GetCommand({ TableName: local.tableName, Key: { id: requestRef }, ConsistentRead: true }))).Item as ApprovalRequest;
  const received = (execution: LocalExecution) =>
    local.standIn.historyOf(execution.executionArn).filter((event) => event.type === "TaskSucceeded").map((event) => JSON.parse((event.taskSucceededEventDetails as { output: string }).output) as ApprovalOutput);
  const notices = (execution: LocalExecution, word: string) => execution.allEmails().filter((email) => email.subject.startsWith(`${word}:`));

  async function started(title: string) {
    const execution = local.startExecution({ title });
    const links = Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl]));
    return { execution, links, requestRef: requestRefFor(execution.executionArn) };
  }

  /** What a decision function leaves when it dies right after its claim: SETTLING, the lease over, nothing sent. */
  async function crashedAfterClaim(requestRef: string, decision: Vote["decision"], leaseUntil = new Date(Date.now() - 1).toISOString()) {
    const request = await item(requestRef);
    const cast: Vote = { approver: ALICE, decision, decidedAt: new Date().toISOString(), comment: "before the crash" };
    // The workflow's output, written out field by field (not built by the code under test).
    const output: ApprovalOutput = { decision, decidedBy: ALICE, decidedAt: cast.decidedAt, comment: "before the crash", approvals: [cast], requestRef, inputDigest: request.inputDigest };
    await documents.send(new PutCommand({ TableName: local.tableName, Item: { ...request, votes: [cast], status: "SETTLING", settlement: { output, settledAt: cast.decidedAt, leaseUntil }, version: request.version + 1 } }));
    return output;
  }

  it("a delivery that failed for now (throttled, history too) is delivered by the next sweep, once, with its notice", async () => {
    const { execution, links, requestRef } = await started("Throttled, then swept");
    local.standIn.injectFaults("SendTaskSuccess", ...Array<"throttle">(ATTEMPTS).fill("throttle"));
    local.standIn.injectFaults("GetExecutionHistory", ...Array<"throttle">(ATTEMPTS).fill("throttle"));
    const response = await fetch(links[ALICE], { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision: "approve", comment: "go" }) });
    assert.equal(response.status, 503, "the voter is told the decision is on its way, not yet delivered");
    assert.equal((await item(requestRef)).status, "SETTLING");
    assert.equal(received(execution).length, 0);

    const sweep = await local.sweep();
    assert.ok(sweep.resumed >= 1);
    const stored = await item(requestRef);
    assert.equal(stored.status, "APPROVED");
    assert.deepEqual(received(execution), [stored.settlement!.output], "the workflow received the recorded output exactly once");
    assert.equal(stored.settlement!.output.comment, "go");
    assert.equal((await execution.outcome).status, "SUCCEEDED");
    assert.equal(notices(execution, "Approved").length, 1, "one outcome notice");

    // A second sweep finds nothing to do: nothing is sent twice.
    const sends = local.standIn.callCount("SendTaskSuccess");
    await local.sweep();
    assert.equal(local.standIn.callCount("SendTaskSuccess"), sends);
    assert.equal(notices(execution, "Approved").length, 1);
  });

  it("a deliverer that died after its claim: the sweep delivers the recorded rejection", async () => {
    const { execution, requestRef } = await started("Crashed, then swept");
    const output = await crashedAfterClaim(requestRef, "rejected");
    await local.sweep();
    const stored = await item(requestRef);
    assert.equal(stored.status, "REJECTED");
    assert.deepEqual(received(execution), [output]);
    assert.deepEqual(stored.settlement!.output, output);
    assert.equal((await execution.outcome).status, "SUCCEEDED");
    assert.equal(notices(execution, "Rejected").length, 1);
  });

  it("a claim whose lease still runs is left to its deliverer", async () => {
    const { execution, requestRef } = await started("Busy deliverer");
    await crashedAfterClaim(requestRef, "approved", new Date(Date.now() + 3_600_000).toISOString());
    const before = await item(requestRef);
    const sends = local.standIn.callCount("SendTaskSuccess");
    await local.sweep();
    assert.equal(local.standIn.callCount("SendTaskSuccess"), sends, "no second deliverer");
    assert.deepEqual(await item(requestRef), before, "the item is untouched");
    assert.equal(received(execution).length, 0);
    // Leave nothing settling for the other tests' sweeps.
    await documents.send(new PutCommand({ TableName: local.tableName, Item: { ...before, status: "CLOSED", version: before.version + 1 } }));
  });

  it("a settling request whose execution was stopped is reconciled: WITHDRAWN, never told approved", async () => {
    const { execution, requestRef } = await started("Stopped while settling");
    await crashedAfterClaim(requestRef, "approved");
    await sfn.send(new StopExecutionCommand({ executionArn: execution.executionArn, cause: "stopped from the console" }));
    await execution.outcome;
    await local.sweep();
    const stored = await item(requestRef);
    assert.equal(stored.status, "WITHDRAWN");
    assert.equal(received(execution).length, 0, "the workflow received no decision");
    assert.equal(notices(execution, "Approved").length, 0);
    assert.equal(notices(execution, "Withdrawn").length, 1, "the approvers hear it was withdrawn, once");
  });
});
