import { strict as assert } from "node:assert";
import { askedApprovers } from "../../functions/requestApproval/requestApproval";
import { summariseInput } from "../../functions/requestApproval/summary";
import { normaliseAddress } from "../../functions/shared/address";
import { PutCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { InvalidApprovalRequest } from "../../functions/requestApproval/payload";
import { linkKey, requestRefFor, type ApprovalRequest } from "../../functions/shared/approvalRequest";
import { ALL_TRANSPORTS, formPost, jsonPost, type HttpCall } from "../support/events";
import { executionArnOf, headingOf, jsonOf, leadOf, linkPathIn, startHarness, uniqueExecutionName, type Harness, type RequestedApproval } from "../support/harness";

/** A page with its address markup (<span class="addr">, <wbr>) removed: the tags a reader does not see. */
const withoutAddressMarkup = (html: string) => html.replace(/<(?!\/?(dt|dd|strong)>)[^>]+>/g, "");

/**
 * Issue 9 on every transport: a link per approver, votes with a quorum and a veto, one vote per
 * approver, separation of duties, per-request approvers, and exactly one SendTaskSuccess however
 * the votes race.
 */
const ANN = "ann@example.com";
const BOB = "bob@example.com";
const CAT = "cat@example.com";
const STACK = { approverEmails: [ANN, BOB, CAT], requiredApprovals: 2, allowSelfApproval: false };

/** Every Step Functions operation the decision function could call. */
const STEP_FUNCTIONS_OPERATIONS = ["SendTaskSuccess", "GetExecutionHistory", "DescribeExecution", "StopExecution"];

describe("approvers, votes and quorum (dynalite + AWS stand-in)", function () {
  this.timeout(60_000);
  let harness: Harness;
  before(async () => (harness = await startHarness(STACK)));
  after(async () => harness.close());
  afterEach(() => harness.configure(STACK));

  const stepFunctionsCalls = () => STEP_FUNCTIONS_OPERATIONS.reduce((sum, operation) => sum + harness.calls(operation), 0);
  const vote = (transport: (typeof ALL_TRANSPORTS)[number], approval: RequestedApproval, approver: string, decision: "approve" | "reject", comment = "") =>
    harness.call(transport, jsonPost(approval.links[approver], { decision, comment }));
  const votesOf = (item: ApprovalRequest) => item.votes.map((cast) => [cast.approver, cast.decision]);

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("gives three approvers three different links, each in its own email, and each page names its approver", async () => {
        const approval = await harness.requestApproval({ title: "Three approvers" });
        assert.deepEqual(approval.emails.map((email) => email.recipients), [[ANN], [BOB], [CAT]]);
        assert.deepEqual(Object.keys(approval.links).sort(), [ANN, BOB, CAT]);
        assert.equal(new Set(Object.values(approval.links)).size, 3);
        for (const email of approval.emails) {
          const own = approval.links[email.recipients[0]];
          assert.equal(linkPathIn(email), own);
          for (const other of Object.values(approval.links).filter((path) => path !== own)) assert.ok(!email.message.includes(other), "an email carries only its approver's link");
        }
        for (const approver of [ANN, BOB, CAT]) {
          const page = await harness.call(transport, { method: "GET", path: approval.links[approver] });
          assert.equal(page.statusCode, 200);
          assert.ok(withoutAddressMarkup(page.body).includes(`<dt>This link is for</dt><dd>${approver}</dd>`), approver);
          assert.match(page.body, /<form method="post">/);
          const json = await harness.call(transport, { method: "GET", path: approval.links[approver], headers: { Accept: "application/json" } });
          assert.equal(jsonOf(json).approver, approver);
          assert.deepEqual(jsonOf(json).approvers, [ANN, BOB, CAT]);
          assert.equal(jsonOf(json).requiredApprovals, 2);
        }
      });

      it("settles 2 of 3 on the second approval: decidedBy and both votes reach the workflow, once", async () => {
        const approval = await harness.requestApproval({ title: "Quorum" });
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        const first = await vote(transport, approval, ANN, "approve", "looks fine");
        assert.equal(first.statusCode, 200);
        assert.equal(jsonOf(first).status, "pending");
        assert.match(jsonOf(first).message, /1 of 2 approvals so far/);
        assert.equal(sendTaskSuccess(), 0, "one approval of two settles nothing");
        assert.equal(approval.receivedOutput(), undefined);

        const emailsBefore = harness.standIn.emails.length;
        const second = await vote(transport, approval, BOB, "approve", "ship it");
        assert.equal(second.statusCode, 200);
        assert.equal(jsonOf(second).status, "approved");
        assert.equal(jsonOf(second).decidedBy, BOB);
        assert.equal(sendTaskSuccess(), 1);
        const output = await approval.received;
        assert.equal(output.decision, "approved");
        assert.equal(output.decidedBy, BOB);
        assert.equal(output.comment, "ship it");
        assert.equal(output.requestRef, approval.requestRef);
        assert.deepEqual(output.approvals.map((cast) => [cast.approver, cast.decision, cast.comment]), [[ANN, "approved", "looks fine"], [BOB, "approved", "ship it"]]);
        const item = await harness.stored(approval.requestRef);
        assert.equal(item.status, "APPROVED");
        assert.deepEqual(item.settlement?.output, output);

        // Every asked approver hears the outcome, in one notice without a link.
        const notices = harness.standIn.emails.slice(emailsBefore);
        assert.equal(notices.length, 1);
        assert.deepEqual([...notices[0].recipients].sort(), [ANN, BOB, CAT]);
        assert.match(notices[0].message, new RegExp(`Approved by ${BOB}`));
        assert.equal(linkPathIn(notices[0]), undefined);

        // The third approver's link now shows the outcome; a vote on it is 409 and changes nothing.
        const late = await vote(transport, approval, CAT, "reject");
        assert.equal(late.statusCode, 409);
        assert.equal(jsonOf(late).error, "already_decided");
        const view = await harness.call(transport, { method: "GET", path: approval.links[CAT] });
        assert.equal(headingOf(view), "Approved");
        assert.ok(!view.body.includes("<form"));
        assert.equal(sendTaskSuccess(), 1);
        assert.deepEqual(votesOf(await harness.stored(approval.requestRef)), [[ANN, "approved"], [BOB, "approved"]]);
      });

      it("lets a rejection veto at once, even after an approval or as the very first vote", async () => {
        const afterApproval = await harness.requestApproval({ title: "Veto" });
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        await vote(transport, afterApproval, ANN, "approve");
        const veto = await vote(transport, afterApproval, CAT, "reject", "not on a Friday");
        assert.equal(veto.statusCode, 200);
        assert.equal(jsonOf(veto).status, "rejected");
        const output = await afterApproval.received;
        assert.equal(output.decision, "rejected");
        assert.equal(output.decidedBy, CAT);
        assert.equal(output.comment, "not on a Friday");
        assert.deepEqual(output.approvals.map((cast) => [cast.approver, cast.decision]), [[ANN, "approved"], [CAT, "rejected"]]);

        const firstVote = await harness.requestApproval({ title: "Veto first" });
        const rejected = await vote(transport, firstVote, BOB, "reject");
        assert.equal(jsonOf(rejected).status, "rejected");
        assert.deepEqual((await firstVote.received).approvals.map((cast) => cast.approver), [BOB]);
        assert.equal(sendTaskSuccess(), 2);
        assert.equal((await harness.stored(firstVote.requestRef)).status, "REJECTED");
      });

      it("keeps one vote per approver: the same choice again is 200 'already recorded', another is 409, neither calls Step Functions", async () => {
        const approval = await harness.requestApproval({ title: "Repeat" });
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        await vote(transport, approval, ANN, "approve", "first");
        const same = await harness.call(transport, formPost(approval.links[ANN], { decision: "approve", comment: "second" }));
        assert.equal(same.statusCode, 200);
        assert.match(leadOf(same), /already recorded/);
        const other = await vote(transport, approval, ANN, "reject");
        assert.equal(other.statusCode, 409);
        assert.equal(jsonOf(other).error, "already_voted");
        assert.equal(sendTaskSuccess(), 0, "a repeated vote never counts towards the quorum");
        const pending = await harness.stored(approval.requestRef);
        assert.equal(pending.status, "PENDING");
        assert.deepEqual(pending.votes.map((cast) => [cast.approver, cast.decision, cast.comment]), [[ANN, "approved", "first"]]);

        // After the request settles, the settling approver's repeats are still calm or 409, and still change nothing.
        await vote(transport, approval, BOB, "approve");
        assert.equal(sendTaskSuccess(), 1);
        const settled = await harness.stored(approval.requestRef);
        const repeat = await vote(transport, approval, BOB, "approve");
        assert.equal(repeat.statusCode, 200);
        assert.match(jsonOf(repeat).message, /already recorded/);
        assert.equal((await vote(transport, approval, BOB, "reject")).statusCode, 409);
        assert.equal(sendTaskSuccess(), 1);
        assert.equal(approval.deliveries(), 1);
        assert.deepEqual(await harness.stored(approval.requestRef), settled);
      });

      it("gives the requester (any letter case) no link and no vote, and refuses a request too few others can settle, before any email", async () => {
        const approval = await harness.requestApproval({ title: "Mine", requestedBy: "Ann@Example.COM" });
        assert.deepEqual(Object.keys(approval.links).sort(), [BOB, CAT]);
        const notice = approval.emails.find((email) => email.recipients[0] === ANN);
        assert.ok(notice, "the requester hears that others decide");
        assert.equal(linkPathIn(notice), undefined);
        assert.match(notice.message, /You cannot approve your own request/);
        const item = await harness.stored(approval.requestRef);
        assert.equal(item.requestedBy, ANN);
        assert.deepEqual(item.approvers, [BOB, CAT]);

        // Even a link for the requester (the request function never makes one) cannot vote on her own request.
        const forged = "R".repeat(30) + transport.slice(0, 2).replace(/[^A-Za-z]/g, "x");
        await DynamoDBDocumentClient.from(harness.db.client).send(new PutCommand({ TableName: harness.env.TABLE_NAME, Item: { id: linkKey(forged), requestRef: approval.requestRef, approver: ANN, ttl: item.ttl } }));
        const refused = await harness.call(transport, jsonPost(`/requests/${forged}`, { decision: "approve" }));
        assert.equal(refused.statusCode, 403);
        assert.equal(jsonOf(refused).error, "self_approval", "the requester is told why: it is their own request");
        assert.deepEqual(await harness.stored(approval.requestRef), item, "nothing recorded");

        // Three approvals needed, but the requester is one of the three: refused before any email or link.
        harness.configure({ requiredApprovals: 3 });
        const published = harness.counter("Publish");
        const macs = harness.counter("GenerateMac");
        const executionName = uniqueExecutionName("too-few");
        await assert.rejects(harness.requestApproval({ title: "Mine", requestedBy: "ANN@example.com" }, { executionName }), (error: Error) => error instanceof InvalidApprovalRequest && /needs 3 approvals, but only 2 approvers can vote/.test(error.message) && error.message.includes(ANN));
        assert.equal(published(), 0);
        assert.equal(macs(), 0);
        await assert.rejects(harness.stored(requestRefFor(executionArnOf(executionName))), /No request item/);
      });

      it("asks only the approvers the input names, and refuses an unknown address before any email", async () => {
        const narrowed = await harness.requestApproval({ title: "Two of three", approvers: ["Bob@Example.com", CAT] });
        assert.deepEqual(Object.keys(narrowed.links).sort(), [BOB, CAT]);
        assert.deepEqual(narrowed.emails.map((email) => email.recipients[0]).sort(), [BOB, CAT]);

        const published = harness.counter("Publish");
        const executionName = uniqueExecutionName("unknown-approver");
        await assert.rejects(
          harness.requestApproval({ title: "Who?", approvers: [BOB, "mallory@example.com"] }, { executionName }),
          (error: Error) => error instanceof InvalidApprovalRequest && /mallory@example\.com, which is not an approver/.test(error.message),
        );
        await assert.rejects(harness.requestApproval({ title: "Too few", approvers: [BOB] }), (error: Error) => error instanceof InvalidApprovalRequest && /needs 2 approvals, but only 1 approver can vote/.test(error.message));
        assert.equal(published(), 0, "no email went out");
        await assert.rejects(harness.stored(requestRefFor(executionArnOf(executionName))), /No request item/);
      });

      it("sends exactly one SendTaskSuccess however votes and repeated clicks race (20 rounds)", async () => {
        for (let round = 0; round < 20; round++) {
          const approval = await harness.requestApproval({ title: `Race ${round}` });
          const sendTaskSuccess = harness.counter("SendTaskSuccess");
          // Every approver clicks twice at once (JSON and form); in odd rounds one of them rejects.
          const choiceOf = (approver: string) => (round % 2 === 1 && approver === CAT ? "reject" : "approve");
          const clicks: HttpCall[] = [ANN, BOB, CAT].flatMap((approver) => [jsonPost(approval.links[approver], { decision: choiceOf(approver) }), formPost(approval.links[approver], { decision: choiceOf(approver) })]);
          const responses = await Promise.all(clicks.map((click) => harness.call(transport, click)));
          for (const response of responses) assert.ok([200, 409].includes(response.statusCode), `round ${round}: status ${response.statusCode}`);
          assert.equal(sendTaskSuccess(), 1, `round ${round}`);
          assert.equal(approval.deliveries(), 1);
          const output = await approval.received;
          const item = await harness.stored(approval.requestRef);
          // The table, the votes and what the workflow received agree, whichever votes won the race.
          assert.equal(item.status, output.decision === "approved" ? "APPROVED" : "REJECTED");
          assert.deepEqual(item.settlement?.output, output);
          assert.deepEqual(output.approvals.map((cast) => [cast.approver, cast.decision]), votesOf(item));
          assert.equal(new Set(item.votes.map((cast) => cast.approver)).size, item.votes.length, "one vote per approver");
          assert.equal(output.decidedBy, item.votes.at(-1)!.approver, "no vote is recorded after the settling one");
          if (output.decision === "approved") assert.deepEqual(item.votes.map((cast) => cast.decision), ["approved", "approved"]);
          else assert.deepEqual(item.votes.filter((cast) => cast.decision === "rejected").map((cast) => cast.approver), [CAT]);
        }
      });

      it("answers 403 to the link of an approver removed from the stack, and records nothing", async () => {
        const approval = await harness.requestApproval({ title: "Removed" });
        const before = await harness.stored(approval.requestRef);
        const calls = stepFunctionsCalls();
        harness.configure({ approverEmails: [ANN, CAT] });
        for (const call of [jsonPost(approval.links[BOB], { decision: "approve" }), formPost(approval.links[BOB], { decision: "reject" }), { method: "GET", path: approval.links[BOB] }]) {
          const response = await harness.call(transport, call);
          assert.equal(response.statusCode, 403, call.method);
          if (call.headers?.Accept === "application/json") assert.equal(jsonOf(response).error, "not_an_approver");
          else assert.equal(headingOf(response), "This link no longer works");
        }
        assert.deepEqual(await harness.stored(approval.requestRef), before);
        assert.equal(stepFunctionsCalls(), calls);
        // The remaining approvers still decide.
        await vote(transport, approval, ANN, "approve");
        await vote(transport, approval, CAT, "approve");
        assert.equal((await approval.received).decidedBy, CAT);
      });

      it("never changes the item or calls Step Functions on GET or HEAD, and shows the votes so far", async () => {
        const approval = await harness.requestApproval({ title: "Look only" });
        await vote(transport, approval, ANN, "approve", "fine by me");
        const before = await harness.stored(approval.requestRef);
        const calls = stepFunctionsCalls();
        for (const approver of [ANN, BOB, CAT]) {
          for (const call of [
            { method: "GET", path: approval.links[approver] },
            { method: "GET", path: approval.links[approver], query: { choice: "approve" } },
            { method: "HEAD", path: approval.links[approver], query: { choice: "reject" } },
            { method: "GET", path: approval.links[approver], headers: { Accept: "application/json" } },
          ]) {
            const response = await harness.call(transport, call);
            assert.equal(response.statusCode, 200, `${approver} ${call.method}`);
          }
        }
        const page = await harness.call(transport, { method: "GET", path: approval.links[BOB] });
        assert.match(page.body, /Votes: 1 of 2 approvals/);
        assert.ok(withoutAddressMarkup(page.body).includes(`<strong>${ANN}</strong> approved`));
        const own = await harness.call(transport, { method: "GET", path: approval.links[ANN] });
        assert.equal(headingOf(own), "Vote recorded", "an approver sees their own vote, and no form");
        assert.ok(!own.body.includes("<form"));
        assert.deepEqual(await harness.stored(approval.requestRef), before);
        assert.equal(stepFunctionsCalls(), calls);
      });
    });
  }
});

describe("askedApprovers: who may vote", () => {
  const stack = { approverEmails: ["ann@example.com", "bob@example.com"], requiredApprovals: 1, allowSelfApproval: false };
  it("refuses a requestedBy with an invisible or non-ASCII character, which could pass for another address", () => {
    // U+FEFF and U+00A0 are what String.prototype.trim() strips silently; the Kelvin sign lower-cases to "k".
    for (const disguised of ["ann\u200b@example.com", "ann@examp\u202ele.com", "аnn@example.com", "\ufeffann@example.com", "ann@example.com\u00a0", "ann@\u212Aexample.com"]) {
      assert.throws(() => askedApprovers({ requestedBy: disguised }, undefined, stack), /Input requestedBy is .*: it must be an email address/);
    }
    assert.deepEqual(askedApprovers({ requestedBy: "ann@example.com" }, "ann@example.com", stack), ["bob@example.com"]);
  });
});

describe("normaliseAddress: the one form addresses are stored and compared in", () => {
  it("keeps printable ASCII addresses, in lower case, without surrounding ASCII blanks", () => {
    assert.equal(normaliseAddress(" Ann@Example.COM\t"), "ann@example.com");
    assert.equal(normaliseAddress("o'brien+ops@mail.example.co.uk"), "o'brien+ops@mail.example.co.uk");
  });
  it("refuses anything else instead of mending it: invisible, look-alike or non-ASCII characters, non-strings, non-addresses", () => {
    for (const bad of ["\ufeffdev@example.com", "\u212Aate@example.com", "kate@example.com\u200b", "kåte@example.com", "dev@example", "a b@example.com", "a@b@example.com", "", 42, undefined, null]) {
      assert.equal(normaliseAddress(bad), undefined, JSON.stringify(bad));
    }
    assert.notEqual("\u212Aate@example.com".toLowerCase(), normaliseAddress("\u212Aate@example.com"), "the Kelvin sign never becomes kate");
  });
  it("the request function stores requestedBy and approvers in that form, and refuses approvers listed in any other", () => {
    const stack = { approverEmails: ["ann@example.com", "kate@example.com"], requiredApprovals: 1, allowSelfApproval: false };
    assert.deepEqual(askedApprovers({ approvers: [" KATE@example.com"] }, undefined, stack), ["kate@example.com"]);
    for (const disguised of ["\u212Aate@example.com", "\ufeffkate@example.com"]) {
      assert.throws(() => askedApprovers({ approvers: [disguised] }, undefined, stack), /Input approvers must be a non-empty list of email addresses \(printable ASCII\)/);
    }
    assert.equal(summariseInput({ requestedBy: " Kate@Example.com " }, "t").requestedBy, "kate@example.com");
    assert.equal(summariseInput({ requestedBy: "\ufeffkate@example.com" }, "t").requestedBy, undefined);
  });
});
