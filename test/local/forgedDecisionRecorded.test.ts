/**
 * A decision forged with the task token (SendTaskSuccess by someone who read the token), end to end on
 * every transport: the workflow refuses it (Decision not verified), and the table says so: the request is
 * recorded CLOSED, with the reason, and every link answers 410. Twice: before anyone voted (the execution's
 * end reaches the request function), and while the approvers' own decision was settling with a different
 * recorded output (the next visit finds in the history that the workflow got another output than the recorded one).
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { strict as assert } from "node:assert";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import type { Transport } from "../../functions/decision/httpEvent";
import { requestRefFor, type ApprovalRequest } from "../../functions/shared/approvalRequest";
import { startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";

const ANN = "ann@example.com";
const BOB = "bob@example.com";
const CLOSED_REASON = /a decision this stack did not send|no approvers' votes settled/;
const credentials = { region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } };

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`a forged SendTaskSuccess is recorded CLOSED (${transport})`, function () {
    this.timeout(60_000);
    let local: LocalApprovals;
    let dynamo: DynamoDBClient;
    let sfn: SFNClient;
    before(async () => {
      local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 3600, approverEmails: [ANN, BOB], requiredApprovals: 2 });
      dynamo = new DynamoDBClient({ ...credentials, endpoint: local.dynamoDbEndpoint });
      sfn = new SFNClient({ ...credentials, endpoint: process.env.AWS_ENDPOINT_URL_SFN });
    });
    after(async () => {
      dynamo?.destroy();
      sfn?.destroy();
      await local?.close();
    });

    const stored = async (execution: LocalExecution): Promise<ApprovalRequest> => {
      const item = await dynamo.send(new GetItemCommand({ TableName: local.tableName, Key: { id: { S: requestRefFor(execution.executionArn) } }, ConsistentRead: true }));
      assert.ok(item.Item, "the request is in the table");
      return unmarshall(item.Item) as ApprovalRequest;
    };
    /** The insider's move: the token from the table (read-only access), an output of their own. */
    const forge = async (execution: LocalExecution, output: object) => {
      const { taskToken } = await stored(execution);
      await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    };
    const post = (url: string, decision: "approve" | "reject") =>
      fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision }) });
    const linksOf = async (execution: LocalExecution) => Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl]));
    /** The outcome notice: sent after the request function or a visit recorded how the request ended. */
    const outcomeNotice = (execution: LocalExecution) =>
      local.standIn.nextEmail((email) => email.message.includes(`\nExecution:  ${execution.executionName}\n`) && email.message.includes("Your link for this request no longer decides anything."));

    async function assertRefusedByTheWorkflow(execution: LocalExecution) {
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "FAILED");
      assert.equal(outcome.path.at(-1), STATE_NAMES.notVerified);
      assert.ok(!outcome.path.includes(STATE_NAMES.approved));
    }

    it("before any vote: the execution's end closes the request; the table says CLOSED and every link answers 410", async () => {
      const execution = local.startExecution({ title: "Deploy prod" });
      const links = await linksOf(execution);
      const notice = outcomeNotice(execution);
      await forge(execution, { decision: "approved", decidedBy: "ceo@example.com", decidedAt: new Date().toISOString(), comment: "", approvals: [], requestRef: requestRefFor(execution.executionArn), inputDigest: "sha256:0" });
      await assertRefusedByTheWorkflow(execution);
      await notice;

      const request = await stored(execution);
      assert.equal(request.status, "CLOSED");
      assert.match(request.closedReason ?? "", CLOSED_REASON);
      assert.deepEqual(request.votes, [], "nobody voted");
      for (const approver of [ANN, BOB]) {
        const vote = await post(links[approver], "approve");
        assert.equal(vote.status, 410, `${approver}'s vote`);
        assert.equal(((await vote.json()) as { decision?: string }).decision, undefined, "no decision is claimed that the approvers did not make");
      }
      assert.equal((await stored(execution)).status, "CLOSED", "the late votes changed nothing");
      assert.deepEqual((await stored(execution)).votes, []);
    });

    it("while settling with a different recorded output: the next visit finds the forged output in the history and records CLOSED", async () => {
      const execution = local.startExecution({ title: "Rotate keys" });
      const links = await linksOf(execution);
      assert.equal((await post(links[ANN], "approve")).status, 200);
      // Bob's vote settles it, but the workflow cannot be told (throttled, history too): the request stays SETTLING.
      local.standIn.injectFaults("SendTaskSuccess", "throttle", "throttle");
      local.standIn.injectFaults("GetExecutionHistory", "throttle", "throttle");
      assert.equal((await post(links[BOB], "approve")).status, 503);
      const settling = await stored(execution);
      assert.equal(settling.status, "SETTLING");
      const recorded = settling.settlement!.output;
      assert.equal(recorded.decision, "approved");

      // The insider answers first, with another output than the recorded one.
      await forge(execution, { ...recorded, decision: "rejected", decidedBy: "mallory@example.com" });
      await assertRefusedByTheWorkflow(execution);

      const visit = await fetch(links[ANN], { headers: { Accept: "application/json" } });
      assert.equal(visit.status, 410, "the visit tells the truth: closed, not approved");
      const request = await stored(execution);
      assert.equal(request.status, "CLOSED");
      assert.match(request.closedReason ?? "", /a decision this stack did not send/);
      assert.deepEqual(request.settlement?.output, recorded, "the record keeps what the approvers decided, never the forged output");
      assert.equal((await post(links[BOB], "approve")).status, 410, "Bob repeating his vote is told it is closed");
      assert.equal((await stored(execution)).status, "CLOSED");
    });
  });
}
