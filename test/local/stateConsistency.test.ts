/**
 * One function (lifecycle.ts `effectiveState`) says what a request is; the review page's heading,
 * its status badge, the JSON answer and the HTTP status must all say the same, in every state a
 * request can be in, and a request that can no longer be decided must never show a decision that
 * did not reach the workflow. Also: any JSON value is a valid execution input, end to end.
 * Runs the whole local flow on each transport.
 */
import { strict as assert } from "node:assert";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import type { Transport } from "../../functions/decision/httpEvent";
import { requestRefFor, type ApprovalOutput, type ApprovalRequest, type RequestStatus, type Vote } from "../../functions/shared/approvalRequest";
import { effectiveState, type EffectiveState } from "../../functions/shared/lifecycle";
import { startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";

const HEADINGS: Record<EffectiveState, string> = {
  pending: "Approval needed",
  settling: "Decision being delivered",
  approved: "Approved",
  rejected: "Rejected",
  expired: "This request has expired",
  withdrawn: "This request was withdrawn",
  closed: "This request can no longer be decided",
};
const CLOSED: ReadonlySet<EffectiveState> = new Set(["expired", "withdrawn", "closed"]);
const DECIDED: ReadonlySet<EffectiveState> = new Set(["approved", "rejected"]);
const ERRORS: Partial<Record<EffectiveState, string>> = { expired: "expired", withdrawn: "withdrawn", closed: "no_longer_waiting" };

/** One link, seen every way a person or a script can see it. */
interface Seen {
  html: { statusCode: number; heading?: string; badges: string[]; lead?: string; page: string; hasForm: boolean };
  json: { statusCode: number; body: Record<string, any> };
  headStatusCode: number;
}

async function see(url: string): Promise<Seen> {
  const htmlResponse = await fetch(url, { headers: { Accept: "text/html" } });
  const page = await htmlResponse.text();
  const jsonResponse = await fetch(url, { headers: { Accept: "application/json" } });
  const head = await fetch(url, { method: "HEAD" });
  await head.arrayBuffer();
  return {
    html: {
      statusCode: htmlResponse.status,
      heading: /<h1>([^<]*)<\/h1>/.exec(page)?.[1],
      // The page's state as it marks it for tools (<main data-state>); people read it from the banner or heading.
      badges: [...page.matchAll(/<main data-state="([^"]*)">/g)].map((match) => match[1]),
      lead: /<p class="lead">([^<]*)<\/p>/.exec(page)?.[1],
      page,
      hasForm: page.includes("<form"),
    },
    json: { statusCode: jsonResponse.status, body: (await jsonResponse.json()) as Record<string, any> },
    headStatusCode: head.status,
  };
}

/** The decisions the waiting task received (its history's TaskSucceeded events). */
/** The output two approvals settle (DESIGN's contract, written out, not built by the code under test): the last vote decides. */
function outputSettledBy(request: ApprovalRequest, votes: Vote[]): ApprovalOutput {
  const settling = votes[votes.length - 1];
  return {
    decision: settling.decision,
    decidedBy: settling.approver,
    decidedAt: settling.decidedAt,
    comment: settling.comment,
    approvals: votes.map((vote) => ({ approver: vote.approver, decision: vote.decision, decidedAt: vote.decidedAt, comment: vote.comment })),
    requestRef: request.id,
    inputDigest: request.inputDigest,
  };
}

function receivedBy(local: LocalApprovals, executionArn: string): ApprovalOutput[] {
  return local.standIn
    .historyOf(executionArn)
    .filter((event) => event.type === "TaskSucceeded")
    .map((event) => JSON.parse((event.taskSucceededEventDetails as { output: string }).output) as ApprovalOutput);
}

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`request states over ${transport}`, function () {
    this.timeout(60_000);
    let local: LocalApprovals;
    let client: DynamoDBClient;
    let documents: DynamoDBDocumentClient;

    before(async () => {
      local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 3600, approverEmails: [ALICE, BOB], requiredApprovals: 2 });
      client = new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
      documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    });
    after(async () => {
      client?.destroy();
      await local?.close();
    });

    const stored = async (execution: LocalExecution) => {
      const item = (await documents.send(new GetCommand({ TableName: local.tableName, Key: { id: requestRefFor(execution.executionArn) }, ConsistentRead: true }))).Item;
      assert.ok(item, "the request is in the table");
      return item as ApprovalRequest;
    };
    const store = (request: ApprovalRequest) => documents.send(new PutCommand({ TableName: local.tableName, Item: request }));

    async function started(input: unknown = { title: "Deploy", details: { build: 42 } }) {
      const execution = local.startExecution(input);
      const emails = await execution.emails;
      const links = Object.fromEntries(emails.map((email) => [email.approver, email.reviewUrl]));
      assert.deepEqual(Object.keys(links).sort(), [ALICE, BOB]);
      return { execution, links };
    }

    const post = (url: string, decision: "approve" | "reject", asJson = false) =>
      asJson
        ? fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision }) })
        : fetch(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html" }, body: new URLSearchParams({ decision }).toString() });

    /**
     * Page, badge, JSON and status agree with each other and with `effectiveState` of the stored item;
     * and a decision is shown only when the workflow received it. Returns the state they all agree on.
     */
    async function assertConsistent(execution: LocalExecution, url: string, expected: EffectiveState): Promise<Seen> {
      const seen = await see(url);
      const item = await stored(execution);
      const state = effectiveState(item, new Date());
      assert.equal(state, expected, "the stored record's effective state");
      assert.equal(seen.json.body.status, state, "JSON status");
      assert.deepEqual(seen.html.badges, [state], "the page's one state marker");
      if (state !== "pending") assert.doesNotMatch(seen.html.badges.join(" "), /pending/i, "no pending badge on a request that is not pending");
      const ownVote = item.votes.some((vote) => vote.approver === seen.json.body.approver);
      // The review page's heading is the request's title; every other page's is what happened.
      assert.equal(seen.html.heading, state === "pending" ? (ownVote ? "Vote recorded" : item.title) : HEADINGS[state], "page heading");

      const statusCode = CLOSED.has(state) ? 410 : 200;
      assert.equal(seen.html.statusCode, statusCode, "HTML status");
      assert.equal(seen.json.statusCode, statusCode, "JSON status code");
      assert.equal(seen.headStatusCode, statusCode, "HEAD status");
      assert.equal(seen.json.body.error, ERRORS[state], "JSON error");
      assert.equal(seen.html.hasForm, state === "pending" && !ownVote, "buttons only while this approver can still vote");

      const received = receivedBy(local, execution.executionArn);
      if (DECIDED.has(state)) {
        assert.equal(received.length, 1, "a decided request: the workflow received exactly one decision");
        assert.equal(seen.json.body.decision, received[0].decision);
        assert.equal(seen.json.body.decidedBy, received[0].decidedBy);
        assert.equal(seen.json.body.decidedAt, received[0].decidedAt);
        assert.match(seen.html.lead ?? "", /the workflow received this decision/);
      } else {
        assert.equal(received.length, 0, "the workflow received no decision");
        for (const field of ["decision", "decidedBy", "decidedAt"]) assert.equal(seen.json.body[field], undefined, `no ${field} in JSON while the workflow has none`);
        assert.doesNotMatch(seen.html.lead ?? "", /(Approved|Rejected) by|received this decision/, "the page claims no decision");
        assert.doesNotMatch(seen.html.page, /<h1>(Approved|Rejected)<\/h1>/);
      }
      return seen;
    }

    it("pending: nobody voted yet", async () => {
      const { execution, links } = await started();
      for (const approver of [ALICE, BOB]) await assertConsistent(execution, links[approver], "pending");
    });

    it("one vote of two: still pending; the voter sees their vote, the other approver sees it too", async () => {
      const { execution, links } = await started();
      const voted = await post(links[ALICE], "approve");
      assert.equal(voted.status, 200);
      assert.match(await voted.text(), /<h1>Vote recorded<\/h1>/);
      const alice = await assertConsistent(execution, links[ALICE], "pending");
      assert.match(alice.html.lead ?? "", /You approved this request/);
      const bob = await assertConsistent(execution, links[BOB], "pending");
      assert.equal(bob.json.body.votes.length, 1);
      assert.match(bob.html.page.replace(/<(?!\/?strong)[^>]+>/g, ""), /<strong>alice@example\.com<\/strong> approved/);
    });

    it("settled approved: both approvals, every link says approved, the workflow took the Approved path", async () => {
      const { execution, links } = await started();
      assert.equal((await post(links[ALICE], "approve")).status, 200);
      const settled = await post(links[BOB], "approve", true);
      assert.equal(settled.status, 200);
      assert.equal(((await settled.json()) as { status: string }).status, "approved");
      for (const approver of [ALICE, BOB]) await assertConsistent(execution, links[approver], "approved");
      assert.equal((await execution.outcome).path.at(-1), STATE_NAMES.approved);
    });

    it("rejected: the first rejection settles it", async () => {
      const { execution, links } = await started();
      const rejected = await post(links[BOB], "reject");
      assert.equal(rejected.status, 200);
      assert.match(await rejected.text(), /<h1>Rejected<\/h1>/);
      for (const approver of [ALICE, BOB]) await assertConsistent(execution, links[approver], "rejected");
      assert.equal((await execution.outcome).path.at(-1), STATE_NAMES.rejected);
      assert.equal((await post(links[ALICE], "approve")).status, 409, "a later vote changes nothing");
    });

    it("expired: a PENDING item past its expiry is expired everywhere, and a vote decides nothing", async () => {
      const { execution, links } = await started();
      const item = await stored(execution);
      await store({ ...item, expiresAt: new Date(Date.now() - 1_000).toISOString(), version: item.version + 1 });
      assert.equal((await stored(execution)).status, "PENDING", "nothing wrote the expiry: only the clock says it");

      for (const approver of [ALICE, BOB]) {
        const seen = await assertConsistent(execution, links[approver], "expired");
        assert.doesNotMatch(seen.html.page, /data-state="pending"|Approval needed/);
        assert.doesNotMatch(JSON.stringify(seen.json.body), /"status":"pending"/);
      }
      const sendsBefore = local.standIn.callCount("SendTaskSuccess");
      const voted = await post(links[ALICE], "approve", true);
      assert.equal(voted.status, 410);
      assert.deepEqual([((await voted.clone().json()) as { status: string }).status, ((await voted.json()) as { error: string }).error], ["expired", "expired"]);
      assert.equal(local.standIn.callCount("SendTaskSuccess"), sendsBefore, "no Step Functions call");
      assert.equal((await stored(execution)).votes.length, 0, "the vote was not recorded");
      await assertConsistent(execution, links[BOB], "expired");
    });

    it("withdrawn: the execution was stopped; a vote is answered 410 and nothing claims a decision", async () => {
      const { execution, links } = await started();
      const sfn = new SFNClient({ endpoint: process.env.AWS_ENDPOINT_URL_SFN, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
      try {
        await sfn.send(new StopExecutionCommand({ executionArn: execution.executionArn, error: "Cancelled", cause: "The release was called off." }));
      } finally {
        sfn.destroy();
      }
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "FAILED");
      // The stop reaches the request function (EventBridge's status change); its notice proves it was recorded.
      const notice = await local.standIn.nextEmail((email) => email.message.includes(execution.executionName) && email.subject.startsWith("Withdrawn"));
      assert.deepEqual([...notice.recipients].sort(), [ALICE, BOB].sort());

      for (const approver of [ALICE, BOB]) {
        const refused = await post(links[approver], "approve", true);
        assert.equal(refused.status, 410);
        const body = (await refused.json()) as Record<string, unknown>;
        assert.equal(body.status, "withdrawn");
        assert.equal(body.error, "withdrawn");
        assert.equal(body.decision, undefined);
      }
      const item = await stored(execution);
      assert.equal(item.status, "WITHDRAWN");
      assert.equal(item.closedReason, "The release was called off.");
      assert.deepEqual(item.votes, [], "no vote is recorded on a withdrawn request");
      for (const approver of [ALICE, BOB]) await assertConsistent(execution, links[approver], "withdrawn");
    });

    it("a closed request never shows a decision that did not reach the workflow", async () => {
      // The votes settled each of these (the item keeps the output it would have sent), but the
      // workflow received nothing: it expired, was stopped, or ended otherwise first.
      const cases: Array<{ status: RequestStatus; state: EffectiveState }> = [
        { status: "EXPIRED", state: "expired" },
        { status: "WITHDRAWN", state: "withdrawn" },
        { status: "CLOSED", state: "closed" },
      ];
      for (const { status, state } of cases) {
        const { execution, links } = await started({ title: `Closed as ${status}` });
        const item = await stored(execution);
        const votes: Vote[] = [ALICE, BOB].map((approver) => ({ approver, decision: "approved", decidedAt: new Date().toISOString(), comment: "" }));
        const output = outputSettledBy(item, votes);
        const sendsBefore = local.standIn.callCount("SendTaskSuccess");
        await store({ ...item, votes, status, settlement: { output, settledAt: votes[1].decidedAt, leaseUntil: new Date(Date.now() - 1).toISOString() }, closedReason: `Test: ${state}.`, version: item.version + 1 });
        for (const approver of [ALICE, BOB]) await assertConsistent(execution, links[approver], state);
        assert.equal(local.standIn.callCount("SendTaskSuccess"), sendsBefore, `a ${state} request is never delivered again`);
      }
    });

    it("settling (a delivery under way): no decision shown until the workflow confirms it", async () => {
      const { execution, links } = await started();
      const item = await stored(execution);
      const votes: Vote[] = [ALICE, BOB].map((approver) => ({ approver, decision: "approved", decidedAt: new Date().toISOString(), comment: "" }));
      const output = outputSettledBy(item, votes);
      await store({ ...item, votes, status: "SETTLING", settlement: { output, settledAt: votes[1].decidedAt, leaseUntil: new Date(Date.now() + 3_600_000).toISOString() }, version: item.version + 1 });
      for (const approver of [ALICE, BOB]) await assertConsistent(execution, links[approver], "settling");
    });

    describe("any JSON value as the execution input", () => {
      const inputs: Array<{ name: string; input: unknown; knownBug?: string }> = [
        { name: "an array", input: ["a"] },
        { name: "a string", input: "text" },
        { name: "a number", input: 42 },
        { name: "an empty object", input: {} },
      ];
      it("null: Step Functions refuses it at the first state, before anyone is emailed", async () => {
        const execution = local.startExecution(null);
        const outcome = await execution.outcome;
        assert.equal(outcome.status, "FAILED");
        assert.deepEqual(outcome.path, [STATE_NAMES.inspectInput]);
        assert.match(outcome.error?.cause ?? "", /does not point to a value/);
        assert.deepEqual(await execution.emails, []);
      });
      for (const { name, input, knownBug } of inputs) {
        (knownBug ? it.skip : it)(`${name}: emailed, shown, approved, and the execution succeeds with the decision${knownBug ? ` [skipped, known bug: ${knownBug}]` : ""}`, async () => {
          const { execution, links } = await started(input);
          const page = await fetch(links[ALICE]);
          assert.equal(page.status, 200);
          const isObject = typeof input === "object" && input !== null && !Array.isArray(input);
          if (!isObject) {
            // Wrapped as {input}: shown as the field "input", with its value as readable rows, never as JSON.
            const html = await page.text();
            const value = String(Array.isArray(input) ? input[0] : input);
            assert.ok(html.includes("<dt>input</dt>") && html.includes(`>${value}</`), `the approver sees the input: ${value}`);
          }
          for (const approver of [ALICE, BOB]) assert.equal((await post(links[approver], "approve")).status, 200);

          const outcome = await execution.outcome;
          assert.equal(outcome.status, "SUCCEEDED", JSON.stringify(outcome.error));
          assert.equal(outcome.path.at(-1), STATE_NAMES.approved);
          const output = outcome.output as { input?: unknown; approval: ApprovalOutput };
          assert.equal(output.approval.decision, "approved");
          assert.deepEqual(receivedBy(local, execution.executionArn), [output.approval]);
          assert.deepEqual(output, isObject ? { ...input, approval: output.approval } : { input, approval: output.approval }, "non-objects are wrapped as {input, approval}");
          await assertConsistent(execution, links[BOB], "approved");
        });
      }
    });
  });
}
