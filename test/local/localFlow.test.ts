import { strict as assert } from "node:assert";
import type { Transport } from "../../functions/decision/httpEvent";
import type { PublishedEmail } from "../../local/awsStandIn";
import { DEFAULT_LOCAL_APPROVER, startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";
import { STATE_NAMES } from "../../components/stateMachineDefinition";

/** End to end over real HTTP: the local mode exactly as `npm start` runs it, once per transport. */
const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html" },
  body: new URLSearchParams(fields).toString(),
});
const jsonVote = (decision: "approve" | "reject", comment = "") => ({
  method: "POST",
  headers: { "Content-Type": "application/json", Accept: "application/json" },
  body: JSON.stringify({ decision, comment }),
});
/** JSON bodies in these tests are checked field by field. */
const json = (response: Response): Promise<any> => response.json();
const viewJson = async (reviewUrl: string) => json(await fetch(reviewUrl, { headers: { Accept: "application/json" } }));
const linksIn = (message: string) => message.match(/http:\/\/127\.0\.0\.1:\d+\S*/g) ?? [];

/** Every path starts by normalising the input: an object is used as it is. */
const INPUT_STATES = [STATE_NAMES.inspectInput, STATE_NAMES.isObject, STATE_NAMES.unwrapInput];

interface ApprovalOutput {
  decision: string;
  decidedBy: string;
  decidedAt: string;
  comment: string;
  approvals: Array<{ approver: string; decision: string; decidedAt: string; comment: string }>;
  requestRef: string;
  inputDigest: string;
}
const approvalOf = (output: unknown) => (output as { approval: ApprovalOutput }).approval;

/** Resolves at the first email of this execution, sent already or still to come, that matches. */
function emailOf(local: LocalApprovals, execution: LocalExecution, matches: (email: PublishedEmail) => boolean): Promise<PublishedEmail> {
  return local.standIn.nextEmail((email) => matches(email) && execution.allEmails().some((own) => own.messageId === email.messageId));
}
const outcomeNotice = (word: "Approved" | "Rejected" | "Expired") => (email: PublishedEmail) => email.subject.startsWith(`${word}:`);

/** What the control API says about an execution: RUNNING, or its outcome. */
async function executionStatus(local: LocalApprovals, execution: LocalExecution): Promise<{ status: string; path?: string[] }> {
  return json(await fetch(`${local.origin}/executions/${execution.executionName}`));
}

const [ANN, BOB, CY, DEE] = ["ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"];

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`local mode over ${transport}`, function () {
    this.timeout(30_000);

    describe("with one approver and a day-long timeout", () => {
      let local: LocalApprovals;
      const started: LocalExecution[] = [];
      before(async () => (local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400, onExecution: (execution) => started.push(execution) })));
      after(async () => local.close());

      it("approves: the link's page, the Approve button, an approved execution", async () => {
        const execution = local.startExecution({ title: "Ship it", details: { version: "1.2.3" } });
        const { reviewUrl, subject, approver } = await execution.email;
        assert.equal(subject, "Approval needed: Ship it");
        assert.equal(approver, DEFAULT_LOCAL_APPROVER);
        assert.ok(reviewUrl.startsWith(`${local.callbackUrl}/requests/`));
        if (transport === "restApi") assert.match(local.callbackUrl, /\/approvals$/);

        const page = await fetch(reviewUrl);
        assert.equal(page.status, 200);
        const html = await page.text();
        assert.match(html, /Ship it/);
        assert.match(html, /1\.2\.3/);
        assert.ok(html.replace(/<[^>]+>/g, "").includes(DEFAULT_LOCAL_APPROVER), "the page names whose link it is");
        const decided = await fetch(reviewUrl, form({ decision: "approve", comment: "LGTM" }));
        assert.equal(decided.status, 200);
        assert.match(await decided.text(), /<h1>Approved<\/h1>/);

        const outcome = await execution.outcome;
        assert.equal(outcome.status, "SUCCEEDED");
        assert.deepEqual(outcome.path, [...INPUT_STATES, STATE_NAMES.requestApproval, STATE_NAMES.verifyDecision, STATE_NAMES.choice, STATE_NAMES.approved]);
        const approval = approvalOf(outcome.output);
        assert.equal(approval.decision, "approved");
        assert.equal(approval.decidedBy, DEFAULT_LOCAL_APPROVER);
        assert.equal(approval.comment, "LGTM");
        assert.deepEqual(approval.approvals.map(({ approver, decision, comment }) => ({ approver, decision, comment })), [{ approver: DEFAULT_LOCAL_APPROVER, decision: "approved", comment: "LGTM" }]);
        assert.match(approval.requestRef, /^req-/);
        assert.match(approval.inputDigest, /^sha256:[0-9a-f]{64}$/);

        const notice = await emailOf(local, execution, outcomeNotice("Approved"));
        assert.deepEqual(notice.recipients, [DEFAULT_LOCAL_APPROVER]);
        assert.equal(linksIn(notice.message).length, 0, "a notice carries no link");
      });

      it("rejects", async () => {
        const execution = local.startExecution({ title: "Risky change" });
        const { reviewUrl } = await execution.email;
        const decided = await fetch(reviewUrl, form({ decision: "reject", comment: "Not on a Friday" }));
        assert.equal(decided.status, 200);
        assert.match(await decided.text(), /<h1>Rejected<\/h1>/);
        const outcome = await execution.outcome;
        assert.equal(outcome.path.at(-1), STATE_NAMES.rejected);
        const approval = approvalOf(outcome.output);
        assert.equal(approval.decision, "rejected");
        assert.equal(approval.comment, "Not on a Friday");
      });

      it("wraps an input that is not an object, and still asks", async () => {
        const execution = local.startExecution(["not", "an", "object"]);
        const { reviewUrl } = await execution.email;
        assert.equal((await fetch(reviewUrl, form({ decision: "approve" }))).status, 200);
        const outcome = await execution.outcome;
        assert.deepEqual(outcome.path.slice(0, 3), [STATE_NAMES.inspectInput, STATE_NAMES.isObject, STATE_NAMES.wrapInput]);
        assert.deepEqual((outcome.output as { input: unknown }).input, ["not", "an", "object"]);
      });

      it("decides nothing when a mail scanner fetches every link with GET and HEAD first", async () => {
        const execution = local.startExecution({ title: "Scanned" });
        const { message, reviewUrl } = await execution.email;
        const links = linksIn(message);
        assert.equal(links.length, 3, "the review link and the two preselecting links");
        const deliveriesBefore = local.standIn.callCount("SendTaskSuccess");
        const scanner = { "User-Agent": "Mozilla/5.0 (compatible; SafeLinks scanner)" };
        for (const link of links) {
          for (const method of ["GET", "HEAD", "GET"]) assert.equal((await fetch(link, { method, headers: scanner })).status, 200, `${method} ${link}`);
        }
        assert.equal((await executionStatus(local, execution)).status, "RUNNING", "still waiting for a person");
        const view = await viewJson(reviewUrl);
        assert.equal(view.status, "pending");
        assert.deepEqual(view.votes, [], "no vote recorded");
        assert.equal(local.standIn.callCount("SendTaskSuccess"), deliveriesBefore, "the workflow was not called");

        assert.equal((await fetch(`${reviewUrl}?choice=reject`, form({ decision: "reject" }))).status, 200);
        assert.equal((await execution.outcome).path.at(-1), STATE_NAMES.rejected);
      });

      it("answers a double click calmly, a changed mind with 409, and the first click stands, delivered once", async () => {
        const execution = local.startExecution({ title: "Double click" });
        const { reviewUrl } = await execution.email;
        const deliveriesBefore = local.standIn.callCount("SendTaskSuccess");
        const first = await fetch(reviewUrl, form({ decision: "approve" }));
        const again = await fetch(reviewUrl, form({ decision: "approve" }));
        const changed = await fetch(reviewUrl, form({ decision: "reject", comment: "second thoughts" }));
        assert.equal(first.status, 200);
        assert.equal(again.status, 200, "the same choice again is no error for the person who made it");
        assert.match(await again.text(), /already recorded/);
        assert.equal(changed.status, 409);
        const changedPage = await changed.text();
        assert.match(changedPage, /<h1>Your rejection was not recorded: you already approved this request at [^<]*<\/h1>/);
        assert.match(changedPage, /<blockquote class="yours"><p>second thoughts<\/p><\/blockquote>/, "the comment shown back");
        const outcome = await execution.outcome;
        assert.equal(outcome.path.at(-1), STATE_NAMES.approved);
        assert.deepEqual(approvalOf(outcome.output).approvals.map((vote) => vote.decision), ["approved"]);
        assert.equal(local.standIn.callCount("SendTaskSuccess") - deliveriesBefore, 1, "exactly one SendTaskSuccess");
      });

      it("serves the JSON API: start over POST /executions, read status, decide with JSON", async () => {
        const response = await fetch(`${local.origin}/executions`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ title: "From ChatOps" }) });
        assert.equal(response.status, 201);
        const { executionName, reviewUrl } = await json(response);
        const execution = started.find((candidate) => candidate.executionName === executionName);
        assert.ok(execution, "told of the execution started over the control API");
        const status = await viewJson(reviewUrl);
        assert.equal(status.status, "pending");
        assert.equal(status.approver, DEFAULT_LOCAL_APPROVER);
        assert.deepEqual(status.votes, []);
        assert.match(status.requestRef, /^req-/);

        const decided = await fetch(reviewUrl, jsonVote("approve", "via bot"));
        assert.equal(decided.status, 200);
        assert.match(decided.headers.get("content-type") ?? "", /^application\/json/);
        const body = await json(decided);
        assert.equal(body.status, "approved");
        assert.equal(body.decision, "approved");
        assert.equal(body.decidedBy, DEFAULT_LOCAL_APPROVER);
        assert.equal(body.comment, "via bot");
        assert.equal(body.requestRef, status.requestRef);
        assert.deepEqual(body.votes.map(({ approver, decision }: { approver: string; decision: string }) => ({ approver, decision })), [{ approver: DEFAULT_LOCAL_APPROVER, decision: "approved" }]);

        const outcome = await execution.outcome;
        assert.equal(approvalOf(outcome.output).requestRef, status.requestRef, "the workflow and the API name the same request");
        const reported = await executionStatus(local, execution);
        assert.equal(reported.status, "SUCCEEDED");
        assert.equal(reported.path?.at(-1), STATE_NAMES.approved);

        const repeated = await fetch(reviewUrl, jsonVote("reject"));
        assert.equal(repeated.status, 409);
        assert.equal((await json(repeated)).error, "already_voted");
        assert.equal((await fetch(`${local.origin}/executions`, { method: "POST", body: "{oops" })).status, 400);
      });
    });

    describe("with four approvers, two approvals required, and a requester among them", () => {
      let local: LocalApprovals;
      before(async () => (local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400, approverEmails: [ANN, BOB, CY, DEE], requiredApprovals: 2 })));
      after(async () => local.close());

      /** A request by Dee (in mixed case): Ann, Bob and Cy are asked, each with their own link. */
      async function requestByDee(title: string) {
        const execution = local.startExecution({ title, requestedBy: "Dee@Example.COM", details: { change: "CHG-1" } });
        const emails = await execution.emails;
        const linkOf = (approver: string) => emails.find((email) => email.approver === approver)!.reviewUrl;
        return { execution, emails, linkOf };
      }

      it("2 of 3: three links, the first approval waits, the second settles, everyone is told", async () => {
        const deliveriesBefore = local.standIn.callCount("SendTaskSuccess");
        const { execution, emails, linkOf } = await requestByDee("Rotate the database credentials");

        assert.deepEqual(emails.map((email) => email.approver).sort(), [ANN, BOB, CY], "the requester is not asked");
        assert.equal(new Set(emails.map((email) => email.reviewUrl)).size, 3, "three different links");
        for (const email of emails) {
          assert.deepEqual(email.recipients, [email.approver], "each email goes to its approver only");
          const others = emails.filter((other) => other !== email).map((other) => other.reviewUrl);
          assert.ok(!others.some((link) => email.message.includes(link)), `${email.approver}'s email holds only their own link`);
          const page = await fetch(email.reviewUrl);
          assert.equal(page.status, 200);
          assert.ok((await page.text()).replace(/<[^>]+>/g, "").includes(email.approver), "the page names whose link it is");
          const view = await viewJson(email.reviewUrl);
          assert.equal(view.approver, email.approver);
          assert.equal(view.requestedBy, DEE);
          assert.equal(view.requiredApprovals, 2);
        }
        const requesterNotice = await emailOf(local, execution, (email) => email.recipients.includes(DEE));
        assert.deepEqual(requesterNotice.recipients, [DEE]);
        assert.match(requesterNotice.subject, /^Approval requested:/);
        assert.equal(linksIn(requesterNotice.message).length, 0, "the requester gets no link");

        const first = await fetch(linkOf(ANN), form({ decision: "approve", comment: "Looks right" }));
        assert.equal(first.status, 200);
        assert.match(await first.text(), /1 of 2 approvals/);
        const waiting = await viewJson(linkOf(CY));
        assert.equal(waiting.status, "pending", "one approval of two settles nothing");
        assert.deepEqual(waiting.votes.map(({ approver, decision }: { approver: string; decision: string }) => ({ approver, decision })), [{ approver: ANN, decision: "approved" }]);
        assert.equal((await executionStatus(local, execution)).status, "RUNNING");
        assert.equal(local.standIn.callCount("SendTaskSuccess"), deliveriesBefore, "the workflow has not been told anything yet");

        const second = await fetch(linkOf(BOB), form({ decision: "approve", comment: "Ship it" }));
        assert.equal(second.status, 200);
        assert.match(await second.text(), /<h1>Approved<\/h1>/);

        const outcome = await execution.outcome;
        assert.deepEqual(outcome.path, [...INPUT_STATES, STATE_NAMES.requestApproval, STATE_NAMES.verifyDecision, STATE_NAMES.choice, STATE_NAMES.approved]);
        const approval = approvalOf(outcome.output);
        assert.equal(approval.decision, "approved");
        assert.equal(approval.decidedBy, BOB);
        assert.equal(approval.comment, "Ship it");
        assert.deepEqual(approval.approvals.map(({ approver, decision, comment }) => ({ approver, decision, comment })), [
          { approver: ANN, decision: "approved", comment: "Looks right" },
          { approver: BOB, decision: "approved", comment: "Ship it" },
        ]);
        assert.equal(approval.requestRef, waiting.requestRef);
        assert.equal(local.standIn.callCount("SendTaskSuccess") - deliveriesBefore, 1, "exactly one SendTaskSuccess");

        const late = await fetch(linkOf(CY), form({ decision: "approve" }));
        assert.equal(late.status, 409, "after the quorum, a vote changes nothing");
        const settled = await viewJson(linkOf(CY));
        assert.equal(settled.status, "approved");
        assert.equal(settled.decidedBy, BOB);
        assert.equal(settled.votes.length, 2);

        const notice = await emailOf(local, execution, outcomeNotice("Approved"));
        assert.deepEqual([...notice.recipients].sort(), [ANN, BOB, CY, DEE], "every asked approver and the requester are told");
        assert.match(notice.message, new RegExp(`Approved by ${BOB}`));
        assert.equal(linksIn(notice.message).length, 0);
      });

      it("a rejection vetoes at once, whatever the quorum", async () => {
        const { execution, linkOf } = await requestByDee("Drop the staging database");
        const rejected = await fetch(linkOf(CY), jsonVote("reject", "Not without a backup"));
        assert.equal(rejected.status, 200);
        const body = await json(rejected);
        assert.equal(body.status, "rejected");
        assert.equal(body.decidedBy, CY);

        const outcome = await execution.outcome;
        assert.equal(outcome.path.at(-1), STATE_NAMES.rejected);
        const approval = approvalOf(outcome.output);
        assert.equal(approval.decision, "rejected");
        assert.equal(approval.decidedBy, CY);
        assert.equal(approval.comment, "Not without a backup");
        assert.deepEqual(approval.approvals.map(({ approver, decision }) => ({ approver, decision })), [{ approver: CY, decision: "rejected" }]);

        const late = await fetch(linkOf(ANN), form({ decision: "approve" }));
        assert.equal(late.status, 409);
        assert.match(await late.text(), /<h1>Your approval was not recorded: cy@example\.com rejected at \d\d:\d\d UTC<\/h1>/);
        const notice = await emailOf(local, execution, outcomeNotice("Rejected"));
        assert.deepEqual([...notice.recipients].sort(), [ANN, BOB, CY, DEE]);
      });
    });

    it("close() aborts executions still waiting, so nothing outlives the stack", async () => {
      const local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400 });
      const execution = local.startExecution({ title: "Left waiting" });
      await execution.email;
      await local.close();
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "FAILED");
      assert.equal(outcome.error?.name, "ExecutionAbortedError");
    });

    describe("when the approval timeout passes", () => {
      let local: LocalApprovals;
      before(async () => (local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 3600, approverEmails: [ANN, BOB], requiredApprovals: 2 })));
      after(async () => local.close());

      it("takes the expired path through Notify expiry; the links then answer 410 and decide nothing", async () => {
        const execution = local.startExecution({ title: "Nobody looks" });
        const emails = await execution.emails;
        assert.equal(emails.length, 2);
        const bobLink = emails.find((email) => email.approver === BOB)!.reviewUrl;
        execution.timeOut(); // the timeout passes once the emails are out, never before (no real timer to race)
        const outcome = await execution.outcome;
        assert.equal(outcome.status, "SUCCEEDED");
        assert.deepEqual(outcome.path, [...INPUT_STATES, STATE_NAMES.requestApproval, STATE_NAMES.notifyExpiry, STATE_NAMES.expired]);
        assert.equal(approvalOf(outcome.output).decision, "expired");

        const view = await fetch(bobLink);
        assert.equal(view.status, 410);
        assert.match(await view.text(), /has expired/);
        const deliveriesBefore = local.standIn.callCount("SendTaskSuccess");
        assert.equal((await fetch(bobLink, form({ decision: "approve" }))).status, 410);
        assert.equal((await viewJson(bobLink)).status, "expired");
        assert.equal(local.standIn.callCount("SendTaskSuccess"), deliveriesBefore);

        const notice = await emailOf(local, execution, outcomeNotice("Expired"));
        assert.deepEqual([...notice.recipients].sort(), [ANN, BOB]);
      });
    });
  });
}
