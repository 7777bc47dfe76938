/**
 * Exactly-once, truthful delivery under the faults a real network has, injected through the local
 * AWS stand-in while the whole flow runs (state machine, both handlers with their real SDK clients,
 * the chosen transport). In every case three witnesses must agree:
 * - what the approver is told (HTTP status, JSON `status`/`error`, the HTML page's heading);
 * - what the table records (the request item);
 * - what the execution received (its history's TaskSucceeded events and the execution's output).
 */
import { strict as assert } from "node:assert";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import type { Transport } from "../../functions/decision/httpEvent";
import { requestRefFor, type ApprovalOutput, type ApprovalRequest, type Vote } from "../../functions/shared/approvalRequest";
import type { AwsStandIn } from "../../local/awsStandIn";
import { startLocalApprovals, type ApprovalEmail, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";
/** Every attempt the decision function's Step Functions client makes (the first included). */
/** The decision function's attempts per Step Functions call, written out: a change to its budget fails here. */
const ATTEMPTS = 2;

type Format = "json" | "html";
const FORMATS: Format[] = ["json", "html"];

/** What the approver is told, in the format they asked for. */
interface Told {
  statusCode: number;
  /** JSON answers only. */
  json?: { status?: string; error?: string; decision?: string; decidedBy?: string; decidedAt?: string };
  /** HTML answers only. */
  heading?: string;
}

const headingOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

async function told(response: Response, format: Format): Promise<Told> {
  const text = await response.text();
  if (format === "json") {
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    return { statusCode: response.status, json: JSON.parse(text) };
  }
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  return { statusCode: response.status, heading: headingOf(text) };
}

/** Presses a button (HTML form) or sends the JSON a script would send. */
async function vote(url: string, decision: "approve" | "reject", format: Format, comment = ""): Promise<Told> {
  const response =
    format === "json"
      ? await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision, comment }) })
      : await fetch(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html" }, body: new URLSearchParams({ decision, comment }).toString() });
  return told(response, format);
}

async function view(url: string, format: Format): Promise<Told> {
  return told(await fetch(url, { headers: { Accept: format === "json" ? "application/json" : "text/html" } }), format);
}

/** The answer each format must give for one effective state / answer. */
interface Expected {
  statusCode: number;
  status: string;
  error?: string;
  heading: string;
}

function assertTold(actual: Told, expected: Expected, what: string) {
  assert.equal(actual.statusCode, expected.statusCode, `${what}: HTTP status`);
  if (actual.json) {
    assert.equal(actual.json.status, expected.status, `${what}: JSON status`);
    assert.equal(actual.json.error, expected.error, `${what}: JSON error`);
  } else {
    assert.equal(actual.heading, expected.heading, `${what}: page heading`);
  }
}

const APPROVED: Expected = { statusCode: 200, status: "approved", heading: "Approved" };
const DELIVERY_PENDING: Expected = { statusCode: 503, status: "settling", error: "delivery_pending", heading: "Vote recorded; the workflow was not told yet" };
const EXPIRED_ANSWER: Expected = { statusCode: 410, status: "expired", error: "expired", heading: "This request has expired" };

/** The decisions the waiting task received, from the execution's history (what a console shows). */
function received(standIn: AwsStandIn, executionArn: string): ApprovalOutput[] {
  return standIn
    .historyOf(executionArn)
    .filter((event) => event.type === "TaskSucceeded")
    .map((event) => JSON.parse((event.taskSucceededEventDetails as { output: string }).output) as ApprovalOutput);
}

const hasEnded = (standIn: AwsStandIn, executionArn: string) => standIn.historyOf(executionArn).some((event) => /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(event.type));

interface Started {
  execution: LocalExecution;
  requestRef: string;
  links: Record<string, string>;
}

async function start(local: LocalApprovals, title: string): Promise<Started> {
  const execution = local.startExecution({ title, details: { change: title } });
  const emails: ApprovalEmail[] = await execution.emails;
  const links = Object.fromEntries(emails.map((email) => [email.approver, email.reviewUrl]));
  assert.deepEqual(Object.keys(links).sort(), [ALICE, BOB], "one email per approver");
  return { execution, requestRef: requestRefFor(execution.executionArn), links };
}

/** What the execution finally did with the decision: it took the Approved path with exactly `output`. */
async function assertExecutionApprovedWith(started: Started, output: ApprovalOutput) {
  const outcome = await started.execution.outcome;
  assert.equal(outcome.status, "SUCCEEDED");
  assert.equal(outcome.path.at(-1), STATE_NAMES.approved);
  assert.deepEqual((outcome.output as { approval: ApprovalOutput }).approval, output, "the execution's $.approval is the recorded output");
}

function tableClient(local: LocalApprovals) {
  const client = new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    async get(requestRef: string): Promise<ApprovalRequest> {
      const item = (await documents.send(new GetCommand({ TableName: local.tableName, Key: { id: requestRef }, ConsistentRead: true }))).Item;
      assert.ok(item, `request ${requestRef} is in the table`);
      return item as ApprovalRequest;
    },
    async put(request: ApprovalRequest): Promise<void> {
      await documents.send(new PutCommand({ TableName: local.tableName, Item: request }));
    },
    destroy: () => client.destroy(),
  };
}

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`decision delivery under injected faults over ${transport}`, function () {
    this.timeout(60_000);

    describe("with an hour-long approval timeout", () => {
      let local: LocalApprovals;
      let table: ReturnType<typeof tableClient>;
      before(async () => {
        local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 3600, approverEmails: [ALICE, BOB], requiredApprovals: 1 });
        table = tableClient(local);
      });
      // A test that failed half-way must not leave faults for the next one.
      afterEach(() => local.standIn.faults.clear());
      const assertFaultsConsumed = () => {
        for (const [operation, queue] of local.standIn.faults) assert.equal(queue.length, 0, `every fault injected into ${operation} was met`);
      };
      after(async () => {
        table?.destroy();
        await local?.close();
      });

      for (const format of FORMATS) {
        it(`(a) SendTaskSuccess applied but its reply lost: told approved, table APPROVED, received once (${format})`, async () => {
          const started = await start(local, `Reply lost ${format}`);
          const sendsBefore = local.standIn.callCount("SendTaskSuccess");
          local.standIn.injectFaults("SendTaskSuccess", "applyThenDropReply");

          const answer = await vote(started.links[ALICE], "approve", format, "ship it");
          assertTold(answer, APPROVED, "the vote");
          assertFaultsConsumed();
          if (answer.json) assert.equal(answer.json.decision, "approved");

          const item = await table.get(started.requestRef);
          assert.equal(item.status, "APPROVED");
          const outputs = received(local.standIn, started.execution.executionArn);
          assert.equal(outputs.length, 1, "the workflow took the decision exactly once");
          assert.deepEqual(item.settlement?.output, outputs[0], "the table records what the workflow received");
          assert.equal(outputs[0].decidedBy, ALICE);
          assert.equal(outputs[0].comment, "ship it");
          assert.ok(local.standIn.callCount("SendTaskSuccess") - sendsBefore >= 1);
          await assertExecutionApprovedWith(started, outputs[0]);

          // Every later visit, by either approver, tells the same story.
          assertTold(await view(started.links[BOB], format), APPROVED, "the other approver's link");
        });

        // A hang costs the SDK's full timeout: the page format adds nothing here, so JSON only.
        if (format === "json") it(`(b) a hung connection on every SendTaskSuccess attempt: the SDK gives up, the history is checked, a later visit delivers (${format})`, async () => {
          const started = await start(local, `Hung ${format}`);
          const sendsBefore = local.standIn.callCount("SendTaskSuccess");
          const historyBefore = local.standIn.callCount("GetExecutionHistory");
          local.standIn.injectFaults("SendTaskSuccess", ...Array<"hang">(ATTEMPTS).fill("hang"));

          // Only that an answer arrives (the request timeout fired inside the function's budget), never how fast.
          const answer = await vote(started.links[ALICE], "approve", format);
          assert.equal(local.standIn.callCount("SendTaskSuccess") - sendsBefore, ATTEMPTS, "each attempt hung until its timeout");
          assert.ok(local.standIn.callCount("GetExecutionHistory") > historyBefore, "the execution's history was checked");
          assertTold(answer, DELIVERY_PENDING, "the vote");
          assertFaultsConsumed();

          const pending = await table.get(started.requestRef);
          assert.equal(pending.status, "SETTLING");
          assert.ok(pending.settlement?.output, "the output to send is recorded");
          assert.equal(received(local.standIn, started.execution.executionArn).length, 0, "the workflow received nothing");
          assert.equal(hasEnded(local.standIn, started.execution.executionArn), false, "the execution still waits");

          assertTold(await view(started.links[ALICE], format), APPROVED, "the next visit");
          const item = await table.get(started.requestRef);
          assert.equal(item.status, "APPROVED");
          assert.deepEqual(received(local.standIn, started.execution.executionArn), [pending.settlement!.output]);
          assert.deepEqual(item.settlement?.output, pending.settlement!.output);
          await assertExecutionApprovedWith(started, pending.settlement!.output);
        });

        // A hang costs the SDK's full timeout: the page format adds nothing here, so JSON only.
        if (format === "json") it(`(b') a hang, then a retry applied with its reply lost: the history shows the decision arrived (${format})`, async () => {
          const started = await start(local, `Hung then lost ${format}`);
          local.standIn.injectFaults("SendTaskSuccess", "hang", "applyThenDropReply");

          const answer = await vote(started.links[ALICE], "approve", format);
          assertTold(answer, APPROVED, "the vote");
          assertFaultsConsumed();
          const item = await table.get(started.requestRef);
          assert.equal(item.status, "APPROVED");
          const outputs = received(local.standIn, started.execution.executionArn);
          assert.equal(outputs.length, 1);
          assert.deepEqual(item.settlement?.output, outputs[0]);
          await assertExecutionApprovedWith(started, outputs[0]);
        });

        it(`(c) throttled on every attempt, history throttled too: delivery pending, then a later visit delivers the recorded output (${format})`, async () => {
          const started = await start(local, `Throttled ${format}`);
          local.standIn.injectFaults("SendTaskSuccess", ...Array<"throttle">(ATTEMPTS).fill("throttle"));
          local.standIn.injectFaults("GetExecutionHistory", ...Array<"throttle">(ATTEMPTS).fill("throttle"));

          const answer = await vote(started.links[ALICE], "approve", format, "when ready");
          assertTold(answer, DELIVERY_PENDING, "the vote");
          assertFaultsConsumed();

          const pending = await table.get(started.requestRef);
          assert.equal(pending.status, "SETTLING", "the table says settling, not approved");
          const recorded = pending.settlement!.output;
          assert.equal(recorded.decision, "approved");
          assert.equal(recorded.decidedBy, ALICE);
          assert.equal(recorded.comment, "when ready");
          assert.equal(received(local.standIn, started.execution.executionArn).length, 0, "the workflow received nothing");
          assert.equal(hasEnded(local.standIn, started.execution.executionArn), false, "the execution still waits");
          // The faults are gone: the next visit of the link finishes telling the workflow.
          assertTold(await view(started.links[ALICE], format), APPROVED, "a later visit of the link");

          const item = await table.get(started.requestRef);
          assert.equal(item.status, "APPROVED");
          const outputs = received(local.standIn, started.execution.executionArn);
          assert.deepEqual(outputs, [recorded], "the workflow received exactly the recorded output, once");
          assert.equal(outputs[0].decidedAt, recorded.decidedAt);
          assert.equal(outputs[0].decidedBy, recorded.decidedBy);
          assert.deepEqual(item.settlement?.output, recorded);
          assertTold(await view(started.links[BOB], format), APPROVED, "the other approver's link afterwards");
          await assertExecutionApprovedWith(started, recorded);
        });
      }

      it("(e) a crash between claim and call: the next visit after the lease completes the delivery", async () => {
        const started = await start(local, "Crashed deliverer");
        const request = await table.get(started.requestRef);
        const cast: Vote = { approver: ALICE, decision: "approved", decidedAt: new Date().toISOString(), comment: "before the crash" };
        // The workflow's output, written out field by field (not built by the code under test).
        const output: ApprovalOutput = { decision: "approved", decidedBy: ALICE, decidedAt: cast.decidedAt, comment: "before the crash", approvals: [cast], requestRef: started.requestRef, inputDigest: request.inputDigest };
        const sendsBefore = local.standIn.callCount("SendTaskSuccess");
        // What a decision function leaves when it dies right after its claim: SETTLING, an old lease, nothing sent.
        await table.put({ ...request, votes: [cast], status: "SETTLING", settlement: { output, settledAt: cast.decidedAt, leaseUntil: new Date(Date.now() - 60_000).toISOString() }, version: request.version + 1 });

        for (const format of FORMATS) assertTold(await view(started.links[BOB], format), APPROVED, `the other approver's visit (${format})`);
        assert.equal(local.standIn.callCount("SendTaskSuccess") - sendsBefore, 1, "delivered once, on the first visit");
        const item = await table.get(started.requestRef);
        assert.equal(item.status, "APPROVED");
        assert.deepEqual(item.settlement?.output, output);
        assert.deepEqual(received(local.standIn, started.execution.executionArn), [output]);
        await assertExecutionApprovedWith(started, output);
      });

      it("(e') a claim whose lease still runs is not taken by a visit: no second deliverer", async () => {
        const started = await start(local, "Busy deliverer");
        const request = await table.get(started.requestRef);
        const cast: Vote = { approver: ALICE, decision: "approved", decidedAt: new Date().toISOString(), comment: "" };
        const output: ApprovalOutput = { decision: "approved", decidedBy: ALICE, decidedAt: cast.decidedAt, comment: "", approvals: [cast], requestRef: started.requestRef, inputDigest: request.inputDigest };
        const claimed: ApprovalRequest = { ...request, votes: [cast], status: "SETTLING", settlement: { output, settledAt: cast.decidedAt, leaseUntil: new Date(Date.now() + 3_600_000).toISOString() }, version: request.version + 1 };
        await table.put(claimed);
        const sendsBefore = local.standIn.callCount("SendTaskSuccess");

        const settling: Expected = { statusCode: 200, status: "settling", heading: "Decision being delivered" };
        for (const format of FORMATS) {
          assertTold(await view(started.links[BOB], format), settling, `a visit during the lease (${format})`);
          assertTold(await view(started.links[ALICE], format), settling, `the voter's visit during the lease (${format})`);
        }
        assert.equal(local.standIn.callCount("SendTaskSuccess"), sendsBefore, "nobody but the lease holder calls SendTaskSuccess");
        assert.deepEqual(await table.get(started.requestRef), claimed, "the item is untouched");
        assert.equal(received(local.standIn, started.execution.executionArn).length, 0);

        // Once the lease runs out, the next visit finishes the job.
        await table.put({ ...claimed, settlement: { ...claimed.settlement!, leaseUntil: new Date(Date.now() - 1).toISOString() }, version: claimed.version + 1 });
        assertTold(await view(started.links[BOB], "json"), APPROVED, "a visit after the lease");
        await assertExecutionApprovedWith(started, output);
      });
    });

    describe("when the approval timeout passes", () => {
      let local: LocalApprovals;
      let table: ReturnType<typeof tableClient>;
      before(async () => {
        local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 3600, approverEmails: [ALICE, BOB], requiredApprovals: 1 });
        table = tableClient(local);
      });
      after(async () => {
        table?.destroy();
        await local?.close();
      });

      it("(d) a vote that reaches SendTaskSuccess after the task timed out: told expired, table EXPIRED, the workflow never received it", async () => {
        // The task's timer starts before the request function computes expiresAt, and the expiry notice may
        // fail (the workflow goes on to Expired regardless): so a vote can find a PENDING, unexpired item
        // whose task is already over. Recreate exactly that, once per answer format.
        const runs = await Promise.all(FORMATS.map(async (format) => ({ format, started: await start(local, `Too late ${format}`) })));
        for (const { started } of runs) {
          started.execution.timeOut(); // Step Functions times the task out (no real timer to race)
          const outcome = await started.execution.outcome;
          assert.equal(outcome.status, "SUCCEEDED");
          assert.equal(outcome.path.at(-1), STATE_NAMES.expired);
          const scheduled = local.standIn.historyOf(started.execution.executionArn).find((event) => event.type === "TaskScheduled");
          assert.ok(scheduled, "the task was scheduled");
          assert.ok(local.standIn.historyOf(started.execution.executionArn).some((event) => event.type === "TaskTimedOut"), "Step Functions timed the task out");
          const expired = await table.get(started.requestRef);
          const { closedReason: _reason, ...reopened } = expired;
          await table.put({ ...reopened, status: "PENDING", expiresAt: new Date(Date.now() + 3_600_000).toISOString(), version: expired.version + 1 });
        }

        for (const { format, started } of runs) {
          const sendsBefore = local.standIn.callCount("SendTaskSuccess");
          const answer = await vote(started.links[ALICE], "approve", format);
          assert.equal(local.standIn.callCount("SendTaskSuccess") - sendsBefore, 1, "the vote did try to deliver");
          assertTold(answer, EXPIRED_ANSWER, `the vote (${format})`);
          if (answer.json) assert.equal(answer.json.decision, undefined, "no decision is shown that the workflow did not receive");

          const item = await table.get(started.requestRef);
          assert.equal(item.status, "EXPIRED");
          assert.equal(received(local.standIn, started.execution.executionArn).length, 0, "the workflow never received the decision");
          const outcome = await started.execution.outcome;
          assert.equal((outcome.output as { approval: { decision: string } }).approval.decision, "expired");
          for (const again of FORMATS) assertTold(await view(started.links[BOB], again), EXPIRED_ANSWER, `a later visit (${again})`);
        }
      });
    });
  });
}
