/**
 * A request to 50 approvers while every AWS call the request function makes is throttled now and then: the
 * function handles a few approvers at a time (never all at once), and each approver's link is stored and
 * emailed exactly once.
 */
import { strict as assert } from "node:assert";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { requestRefFor, type ApprovalRequest } from "../../functions/shared/approvalRequest";
import type { Fault } from "../../local/awsStandIn";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";

const APPROVERS = Array.from({ length: 50 }, (_, index) => `approver${String(index + 1).padStart(2, "0")}@example.com`);
/** Every third call of an operation is throttled once (the function's client retries it). */
const everyThirdThrottled = (calls: number): Fault[] => Array.from({ length: calls }, (_, index) => (index % 3 === 2 ? "throttle" : "none"));

describe("a request to 50 approvers under throttling", function () {
  this.timeout(90_000);
  let local: LocalApprovals;
  before(async () => {
    local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 3600, approverEmails: APPROVERS, requiredApprovals: 1 });
  });
  after(async () => {
    if (local) local.standIn.latencyMs = 0;
    await local?.close();
  });

  it("stores and emails each approver exactly once, a few approvers at a time", async () => {
    for (const operation of ["GenerateMac", "Publish", "PutItem", "UpdateItem"]) local.standIn.injectFaults(operation, ...everyThirdThrottled(APPROVERS.length));
    local.standIn.latencyMs = 10; // calls under way overlap, as over a network
    const execution = local.startExecution({ title: "Fifty approvers" });
    const emails = await execution.emails;

    const perApprover = new Map<string, number>();
    for (const email of execution.allEmails()) for (const recipient of email.recipients) perApprover.set(recipient, (perApprover.get(recipient) ?? 0) + 1);
    assert.deepEqual([...perApprover.keys()].sort(), APPROVERS, "every approver was emailed");
    assert.ok([...perApprover.values()].every((count) => count === 1), "no approver was emailed twice");
    assert.equal(new Set(emails.map((email) => email.reviewUrl)).size, APPROVERS.length, "each approver has their own link");
    assert.ok(local.standIn.faults.get("Publish")!.length < APPROVERS.length, "throttling was met");

    // The request function handles at most five approvers at once (written out: a change to its bound fails here).
    const APPROVER_FAN_OUT = 5;
    for (const operation of ["GenerateMac", "Publish"]) {
      const peak = local.standIn.peakInFlight.get(operation) ?? 0;
      assert.ok(peak <= APPROVER_FAN_OUT, `${operation}: at most ${APPROVER_FAN_OUT} at once (saw ${peak})`);
      assert.ok(peak > 1, `${operation}: approvers are handled in parallel (saw ${peak})`);
    }

    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
    try {
      const stored = (await documents.send(new GetCommand({ TableName: local.tableName, Key: { id: requestRefFor(execution.executionArn) }, ConsistentRead: true }))).Item as ApprovalRequest;
      assert.deepEqual([...stored.notified].sort(), APPROVERS, "each approver recorded as emailed, once");
    } finally {
      documents.destroy();
    }
    // The last approver's link works: it was stored.
    const last = emails.find((email) => email.approver === APPROVERS.at(-1))!;
    const page = await fetch(last.reviewUrl, { headers: { Accept: "application/json" } });
    assert.equal(page.status, 200);
    assert.equal(((await page.json()) as { approver: string }).approver, APPROVERS.at(-1));
  });
});
