import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import type { PublicApprovalRequest, Vote } from "../../functions/shared/approvalRequest";
import type { Answer, EffectiveState } from "../../functions/shared/lifecycle";
import { CONTENT_SECURITY_POLICY, escapeHtml, expiresSoon, needsText, renderPage } from "../../functions/decision/pages";
import { labelledPublisher, labelledSubject, stackLabelFromEnvironment, type OutgoingEmail } from "../../functions/shared/email";
import { jsonBodyOf, statusCodeOf, type Outcome } from "../../functions/decision/outcome";

const now = new Date("2026-11-22T10:00:00Z");
const hostile = `<script>alert("x")</script>&'`;
const ANN = "ann@example.com";
const request: PublicApprovalRequest = {
  id: "req-BBBBBBBBBBBBBBBBBBBB",
  executionArn: "arn:aws:states:eu-west-1:1:execution:sm:run",
  executionName: hostile,
  stateMachineName: hostile,
  title: hostile,
  description: hostile,
  inputView: { fields: [{ key: hostile, value: { text: hostile } }] },
  requestedBy: hostile,
  inputDigest: "sha256:00",
  approvers: [ANN, "bob@example.com"],
  requiredApprovals: 1,
  allowSelfApproval: false,
  createdAt: "2026-11-22T09:00:00Z",
  expiresAt: "2026-11-23T09:00:00Z",
  status: "PENDING",
  version: 1,
  votes: [],
  notified: [],
};
const vote: Vote = { approver: ANN, decision: "approved", decidedAt: "2026-11-22T09:30:00Z", comment: hostile };
const approved: PublicApprovalRequest = {
  ...request,
  status: "APPROVED",
  votes: [vote],
  settlement: {
    output: { decision: "approved", decidedBy: ANN, decidedAt: vote.decidedAt, comment: hostile, approvals: [vote], requestRef: request.id, inputDigest: "sha256:00" },
    settledAt: vote.decidedAt,
    leaseUntil: vote.decidedAt,
  },
  deliveredAt: vote.decidedAt,
};
/** The page's text as a reader sees it: tags (and <wbr>) gone, entities left as they are. */
const textOf = (html: string) => html.replace(/<style>[\s\S]*?<\/style>/, "").replace(/<[^>]+>/g, "");
const BOB = "bob@example.com";
const outcome = (state: EffectiveState, answer: Answer = { type: "show" }, shown: PublicApprovalRequest = request, extra: Partial<Extract<Outcome, { kind: "request" }>> = {}): Outcome => ({ kind: "request", request: shown, approver: ANN, state, answer, ...extra });

describe("pages", () => {
  it("escapes every dynamic value", () => {
    for (const html of [renderPage(outcome("approved", { type: "voteRecorded" }, approved), now), renderPage(outcome("pending", { type: "show" }, { ...request, votes: [{ ...vote, approver: hostile }] }), now)]) {
      assert.ok(!html.includes("<script"), "no script element may appear");
      assert.ok(!html.includes(hostile));
      assert.ok(html.includes(escapeHtml(hostile)));
    }
  });

  it("escapes the five HTML-significant characters", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
  });

  it("shows the review form posting back to the same URL with both buttons, naming whose link it is, and no script", () => {
    const html = renderPage(outcome("pending"), now);
    assert.match(html, /<form method="post">/);
    assert.ok(!/action=/.test(html), "the form must not name another URL");
    assert.match(html, /name="decision" value="approve"/);
    assert.match(html, /name="decision" value="reject"/);
    assert.match(html, /<textarea id="comment" name="comment" maxlength="1000" rows="2">/);
    assert.match(html, /<label for="comment">/);
    assert.match(html, /in 23 hours/);
    assert.ok(textOf(html).includes(`This link is for${ANN}`));
    assert.match(textOf(html), /You vote as ann@example\.com\. This link is yours alone: do not forward it\./);
    assert.match(html, /No votes yet/);
    assert.ok(!/<script/i.test(html));
  });

  it("makes the request's title the review page's heading, and the tab title say which request and what state", () => {
    const shown = { ...request, title: "Deploy 2026.11", description: "Staging is green." };
    const review = renderPage(outcome("pending", { type: "show" }, shown), now);
    assert.match(review, /<h1>Deploy 2026\.11<\/h1>/);
    assert.match(review, /<title>Approval needed: Deploy 2026\.11 · Human approval<\/title>/);
    assert.match(review, /<strong>Expires in 23 hours<\/strong> <span class="muted">\(2026-11-23 09:00 UTC\)<\/span>/, "another day: with its date");
    const order = ['class="kicker"', "Requested by", "<h1>", "Staging is green.", "Votes: ", "Expires in", "You vote as", 'name="decision"', "<h2>Details</h2>", "Fingerprint <code>"].map((part) => review.indexOf(part));
    assert.ok(order.every((index) => index >= 0), JSON.stringify(order));
    assert.deepEqual([...order].sort((a, b) => a - b), order, "who asks, what is asked, the votes, the expiry, who votes, the buttons; then the details and the fingerprint");
    const approvedPage = renderPage(outcome("approved", { type: "show" }, { ...approved, title: "Deploy 2026.11" }), now);
    assert.match(approvedPage, /<title>Approved: Deploy 2026\.11 · Human approval<\/title>/);
    assert.match(renderPage(outcome("expired", { type: "show" }, shown), now), /<title>This request has expired: Deploy 2026\.11 · Human approval<\/title>/);
    assert.match(renderPage({ kind: "notFound" }, now), /<title>Request not found · Human approval<\/title>/);
  });

  it("opens every result page with an unmistakable cue for its outcome", () => {
    const cue = (page: string) => /<div class="banner (t-\w+)"><span class="mark" aria-hidden="true">([^<]+)<\/span>/.exec(page)?.slice(1);
    assert.deepEqual(cue(renderPage(outcome("approved", { type: "show" }, approved), now)), ["t-ok", "✓"]);
    assert.deepEqual(cue(renderPage(outcome("rejected", { type: "show" }, { ...approved, status: "REJECTED" }), now)), ["t-no", "✗"]);
    assert.deepEqual(cue(renderPage(outcome("expired"), now)), ["t-late", "◷"]);
    assert.deepEqual(cue(renderPage(outcome("withdrawn"), now)), ["t-off", "⊘"]);
    assert.equal(cue(renderPage(outcome("pending"), now)), undefined, "the review page leads with the request, not a banner");
  });

  it("says on every error page what happened and what to do, and links back to the review page after a post", () => {
    const pages: Array<[Outcome, RegExp]> = [
      [{ kind: "invalid", statusCode: 400, message: "The decision must be \"approve\" or \"reject\"." }, /Go back to the review page/],
      [{ kind: "invalid", statusCode: 403, message: "Decisions are accepted only from the review page itself." }, /Open the review page and press a button there/],
      [{ kind: "invalid", statusCode: 413, message: "The request body is too large." }, /Shorten the comment/],
      [{ kind: "invalid", statusCode: 415, message: "Send the decision as a form." }, /Go back to the review page/],
      [outcome("pending", { type: "conflictingVote", previous: "approved" }), /A vote cannot be changed; your first vote stands/],
      [outcome("approved", { type: "notOpen" }, approved), /your vote and your comment were not recorded/],
      [outcome("expired", { type: "notOpen" }), /your vote and your comment were not recorded/],
      [outcome("pending", { type: "selfApproval" }), /Your vote and your comment were not recorded/],
    ];
    for (const [shown, whatToDo] of pages) {
      const page = renderPage(shown, now);
      assert.match(page, whatToDo, JSON.stringify(shown).slice(0, 80));
      assert.match(page, /Nothing was decided|not recorded/);
      assert.ok(page.includes(`<a href="">Open the review page again</a>`), `a link back (a GET of the same URL): ${JSON.stringify(shown).slice(0, 80)}`);
    }
    assert.match(renderPage({ kind: "notFound" }, now), /Open the link from your email again, in one piece/);
    assert.match(renderPage({ kind: "removedApprover" }, now), /ask the owner of the workflow/);
    assert.match(renderPage({ kind: "unavailable" }, now), /try again in a minute/);
  });

  it("marks a preselected choice without deciding it or focusing a button", () => {
    const html = renderPage(outcome("pending", { type: "show" }, request, { preselected: "reject" }), now);
    assert.match(html, /value="reject" class="reject chosen">/);
    assert.match(html, /Press Reject to confirm/);
    assert.ok(!html.includes("autofocus"), "a scanner or a stray Enter must never land on a button");
  });

  it("shows the votes so far and the approver's own vote instead of a form", () => {
    const voted = { ...request, requiredApprovals: 2, votes: [{ ...vote, comment: "fine" }] };
    const html = renderPage(outcome("pending", { type: "show" }, voted), now);
    assert.match(html, /<h1>Vote recorded<\/h1>/);
    assert.match(html, /Votes: 1 of 2 approvals/);
    assert.ok(textOf(html).includes(`${ANN} approved at 09:30 UTC: fine`), "today's votes by their time alone");
    assert.match(textOf(html), /Needs 1 more approval; the first rejection rejects\./);
    assert.ok(!html.includes("<form"));
  });

  it("shows no form on any page but an open request's review page", () => {
    const others: Outcome[] = [
      outcome("approved", { type: "show" }, approved),
      outcome("settling"),
      outcome("expired"),
      outcome("withdrawn"),
      outcome("closed"),
      outcome("pending", { type: "voteRecorded" }),
      outcome("pending", { type: "selfApproval" }),
      outcome("pending", { type: "notAsked" }),
      outcome("pending", { type: "conflictingVote", previous: "approved" }),
      { kind: "notFound" },
      { kind: "removedApprover" },
      { kind: "invalid", statusCode: 400, message: "Bad." },
      { kind: "unavailable" },
    ];
    for (const shown of others) assert.ok(!renderPage(shown, now).includes("<form"), JSON.stringify(shown).slice(0, 80));
  });

  it("never shows a decision the workflow did not receive", () => {
    const settledButExpired = { ...approved, status: "EXPIRED" as const, deliveredAt: undefined, closedReason: "The workflow stopped waiting (timed out) before the decision reached it." };
    const html = renderPage(outcome("expired", { type: "show" }, settledButExpired), now);
    assert.match(html, /<h1>This request has expired<\/h1>/);
    assert.doesNotMatch(html, /class="banner t-ok"/, "no approved cue either");
    assert.ok(!/Approved by/.test(html));
    const json = jsonBodyOf(outcome("expired", { type: "show" }, settledButExpired), "m");
    assert.equal(json.status, "expired");
    assert.equal(json.decision, undefined);
    assert.equal(json.decidedBy, undefined);
  });

  it("allows exactly the page's own inline style in the Content-Security-Policy", () => {
    const html = renderPage({ kind: "notFound" }, now);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    const hash = createHash("sha256").update(style, "utf8").digest("base64");
    assert.ok(CONTENT_SECURITY_POLICY.includes(`'sha256-${hash}'`));
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
    assert.match(CONTENT_SECURITY_POLICY, /form-action 'self'/);
    assert.ok(!CONTENT_SECURITY_POLICY.includes("unsafe"));
  });

  it("maps each outcome to the status code of the HTTP contract", () => {
    const cases: Array<[Outcome, number]> = [
      [outcome("pending"), 200],
      [outcome("pending", { type: "voteRecorded" }), 200],
      [outcome("pending", { type: "alreadyRecorded" }), 200],
      [outcome("approved", { type: "show" }, approved), 200],
      [outcome("approved", { type: "voteRecorded" }, approved), 200],
      [outcome("rejected", { type: "alreadyRecorded" }), 200],
      [outcome("approved", { type: "notOpen" }, approved), 409],
      [outcome("pending", { type: "conflictingVote", previous: "rejected" }), 409],
      [outcome("pending", { type: "selfApproval" }), 403],
      [outcome("pending", { type: "notAsked" }), 403],
      [outcome("settling", { type: "deliveryPending" }), 503],
      [outcome("settling"), 200],
      [outcome("expired"), 410],
      [outcome("expired", { type: "notOpen" }), 410],
      [outcome("withdrawn", { type: "voteRecorded" }), 410],
      [outcome("closed"), 410],
      [{ kind: "notFound" }, 404],
      [{ kind: "removedApprover" }, 403],
      [{ kind: "methodNotAllowed" }, 405],
      [{ kind: "invalid", statusCode: 415, message: "x" }, 415],
      [{ kind: "unavailable" }, 503],
    ];
    for (const [shown, status] of cases) assert.equal(statusCodeOf(shown), status, JSON.stringify(shown).slice(0, 120));
  });

  describe("the order, the words and the colours of a decision", () => {
    const bobApproved: PublicApprovalRequest = {
      ...approved,
      votes: [{ ...vote, approver: BOB, comment: "" }],
      settlement: { ...approved.settlement!, output: { ...approved.settlement!.output, decidedBy: BOB, decidedAt: "2026-11-22T09:46:00Z" } },
    };
    const late = outcome("approved", { type: "notOpen" }, bobApproved, { attempted: { decision: "rejected", comment: "Not before the backup." } });

    it("a late vote is headed by what happened to it, shows its comment back, and is neutral, never a success", () => {
      const html = renderPage(late, now);
      assert.match(html, /<h1>Your rejection was not recorded: bob@example\.com approved at 09:46 UTC<\/h1>/);
      assert.match(html, /<title>Your rejection was not recorded: bob@example\.com approved at 09:46 UTC: /);
      assert.match(html, /<blockquote class="yours"><p>Not before the backup\.<\/p><\/blockquote>/);
      assert.match(html, /<div class="banner t-off">/);
      assert.doesNotMatch(html, /class="banner t-(ok|no)"/);
      // The same approver's own second press, the other way: the same neutral cue, naming their first vote.
      const again = renderPage(outcome("approved", { type: "conflictingVote", previous: "approved" }, approved, { attempted: { decision: "rejected", comment: "" } }), now);
      assert.match(again, /<h1>Your rejection was not recorded: you already approved this request at 2026-11-22 09:30 UTC<\/h1>/);
      assert.match(again, /<div class="banner t-off">/);
      // Expired and withdrawn say so too.
      assert.match(renderPage(outcome("expired", { type: "notOpen" }, request, { attempted: { decision: "approved", comment: "" } }), now), /<h1>Your approval was not recorded: the request expired at 2026-11-23 09:00 UTC<\/h1>/);
      assert.match(renderPage(outcome("withdrawn", { type: "notOpen" }, request, { attempted: { decision: "approved", comment: "" } }), now), /<h1>Your approval was not recorded: the request was withdrawn<\/h1>/);
    });

    it("green and red mean a decision: your own recorded vote, or the outcome you look at; nothing else", () => {
      const cue = (page: string) => /<div class="banner (t-\w+)">/.exec(page)?.[1];
      const ownReject = { ...request, requiredApprovals: 2, votes: [{ ...vote, decision: "rejected" as const }] };
      assert.equal(cue(renderPage(outcome("pending", { type: "voteRecorded" }, { ...request, requiredApprovals: 2, votes: [vote] }), now)), "t-ok");
      assert.equal(cue(renderPage(outcome("pending", { type: "voteRecorded" }, ownReject), now)), "t-no");
      assert.equal(cue(renderPage(outcome("approved", { type: "show" }, approved), now)), "t-ok");
      for (const refused of [late, outcome("pending", { type: "selfApproval" }), outcome("pending", { type: "notAsked" }), outcome("pending", { type: "conflictingVote", previous: "approved" })]) {
        assert.equal(cue(renderPage(refused, now)), "t-off", JSON.stringify(refused.kind === "request" && refused.answer));
      }
      for (const problem of [{ kind: "notFound" }, { kind: "invalid", statusCode: 400, message: "x" }, { kind: "failed" }] as Outcome[]) assert.equal(cue(renderPage(problem, now)), "t-off");
    });

    it("no status pill; red expiry only when truly close; one approver is told their vote decides", () => {
      assert.doesNotMatch(renderPage(outcome("pending"), now), /Status: /);
      const hour = { createdAt: "2026-11-22T09:00:00Z", expiresAt: "2026-11-22T10:00:00Z" };
      assert.equal(expiresSoon(hour, new Date("2026-11-22T09:01:00Z")), false, "59 minutes of a one-hour request");
      assert.equal(expiresSoon(hour, new Date("2026-11-22T09:55:00Z")), true, "5 minutes of a one-hour request");
      const day = { createdAt: "2026-11-22T00:00:00Z", expiresAt: "2026-11-23T00:00:00Z" };
      assert.equal(expiresSoon(day, new Date("2026-11-22T23:40:00Z")), false, "20 minutes of a day");
      assert.equal(expiresSoon(day, new Date("2026-11-22T23:50:00Z")), true, "10 minutes of a day");
      const oneHourPage = renderPage(outcome("pending", { type: "show" }, { ...request, ...hour }), new Date("2026-11-22T09:01:00Z"));
      assert.match(oneHourPage, /<p class="expiry"><strong>Expires in 59 minutes/);
      const single = { ...request, approvers: [ANN] };
      assert.equal(needsText(single), "One approver: their vote decides.");
      assert.doesNotMatch(renderPage(outcome("pending", { type: "show" }, single), now), /approver needed|1 approval of 1/);
      assert.equal(needsText({ ...request, approvers: [ANN, BOB, "cy@example.com"] }), "Needs 1 approval, from any of the 3 approvers; the first rejection rejects.");
      assert.equal(needsText({ ...request, approvers: [ANN, BOB, "cy@example.com"], requiredApprovals: 2 }), "Needs 2 approvals of the 3 approvers; the first rejection rejects.");
    });

    it("email addresses wrap only after their @", () => {
      const html = renderPage(outcome("pending", { type: "show" }, { ...request, requestedBy: "dee@example.com" }), now);
      assert.ok(html.includes(`<span class="addr"><span>dee@</span><wbr><span>example.com</span></span>`));
      assert.ok(html.includes(`<span class="addr"><span>ann@</span><wbr><span>example.com</span></span>`));
    });

    it("with sign-in, who signed in and who verified them stand beside the buttons, and nothing says 'do not forward'", () => {
      const html = renderPage(outcome("pending", { type: "show" }, request, { signedIn: { email: ANN, issuer: "https://login.example.com" } }), now);
      const text = textOf(html);
      assert.ok(text.includes(`Signed in as ${ANN}, verified by https://login.example.com.`), text);
      assert.ok(text.indexOf("Signed in as") < text.indexOf("Approve") && text.indexOf("Signed in as") > text.indexOf("Comment"), "inside the form, just above the buttons");
      assert.doesNotMatch(text, /forward/);
      assert.equal(text.split("Signed in as").length, 2, "said once");
    });

    it("names the stack on every page, in the tab title and in every email subject", () => {
      for (const shown of [outcome("pending"), late, { kind: "notFound" } as Outcome, { kind: "invalid", statusCode: 400, message: "x" } as Outcome]) {
        const html = renderPage(shown, now, { stackLabel: "prod" });
        assert.match(html, /<p class="context">Stack <strong class="stack">prod<\/strong>/);
        assert.match(html, /<title>[^<]* · prod · Human approval<\/title>/);
      }
      assert.doesNotMatch(renderPage(outcome("pending"), now), /class="context"/, "no label, no line");
      assert.equal(labelledSubject("Approval needed: Deploy", "prod"), "[prod] Approval needed: Deploy");
      assert.equal(stackLabelFromEnvironment({ STACK_LABEL: " prod\n " }), "prod");
      assert.equal(stackLabelFromEnvironment({}), undefined);
      const sent: OutgoingEmail[] = [];
      void labelledPublisher(async (email) => void sent.push(email), "dev")({ subject: "Approved: Deploy", message: "m", recipients: [ANN] });
      assert.equal(sent[0].subject, "[dev] Approved: Deploy");
    });
  });
});
