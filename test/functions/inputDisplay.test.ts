/**
 * An approver never approves what they could not see: every field of the input reaches the review
 * page and the email, with a fingerprint of exactly that input, and nothing the requester or an
 * approver wrote can pass for the page's or the email's own text.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { renderPage } from "../../functions/decision/pages";
import type { Outcome } from "../../functions/decision/outcome";
import { newApprovalRequest } from "../../functions/requestApproval/requestApproval";
import { canonicalJson } from "../../functions/shared/canonicalJson";
import { inputDigest } from "../../functions/requestApproval/summary";
import { toPublicView, type ApprovalRequest, type Vote } from "../../functions/shared/approvalRequest";
import { composeApprovalEmail, composeOutcomeNotice, composeRequesterNotice, inputLines } from "../../functions/shared/email";
import { buildInputView, fairCap, INPUT_VIEW_LIMITS, omittedFrom } from "../../functions/shared/inputView";
import { fingerprintOf, visible } from "../../functions/shared/text";

const ANN = "ann@example.com";
const BOB = "bob@example.com";
const now = new Date("2026-11-22T10:00:00Z");
const CALLBACK = "https://abc.lambda-url.eu-west-1.on.aws";
const LINK_ID = "L".repeat(32);
const settings = { callbackUrl: CALLBACK, approvalTimeoutSeconds: 86_400, auditRetentionDays: 90, subjectTemplate: "Approval needed: {title}", approverEmails: [ANN, BOB], requiredApprovals: 1, allowSelfApproval: false };

function requestFor(input: unknown): ApprovalRequest {
  return newApprovalRequest({ kind: "request", taskToken: "token", execution: { id: "arn:aws:states:eu-west-1:1:execution:sm:run-1", name: "run-1" }, stateMachine: { name: "deploy" }, input }, settings, now);
}
const reviewPage = (request: ApprovalRequest, extra: Partial<Extract<Outcome, { kind: "request" }>> = {}) =>
  renderPage({ kind: "request", request: toPublicView(request), approver: ANN, state: "pending", answer: { type: "show" }, ...extra }, now);
const emailFor = (request: ApprovalRequest) => composeApprovalEmail(request, ANN, LINK_ID, CALLBACK, settings.subjectTemplate, now).message;
/** The page's text as a person reads it: tags dropped, entities decoded. */
const textOf = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, " ");

describe("what the approver is shown", () => {
  describe("every field of the input", () => {
    it("shows the other fields when the title is not text (title 42, environment prod)", () => {
      const request = requestFor({ title: 42, environment: "prod" });
      for (const shown of [textOf(reviewPage(request)), emailFor(request)]) {
        assert.match(shown, /title:? 42/);
        assert.match(shown, /environment:? prod/);
      }
    });

    it("shows every field beside a usable title (target prod-db, action drop-table)", () => {
      const request = requestFor({ title: "Bump docs", target: "prod-db", action: "drop-table" });
      const page = reviewPage(request);
      assert.match(page, /<h1>Bump docs<\/h1>/);
      assert.ok(page.includes("<dt>target</dt><dd><span class=\"text\">prod-db</span></dd>"));
      assert.ok(page.includes("<dt>action</dt><dd><span class=\"text\">drop-table</span></dd>"));
      const email = emailFor(request);
      assert.match(email, /^ {2}\| target: prod-db$/m);
      assert.match(email, /^ {2}\| action: drop-table$/m);
    });

    it("shows nested values as nested key/value rows, and lists as items: on the page and in the email, never as JSON", () => {
      const request = requestFor({ title: "Deploy", details: { service: "checkout", regions: ["eu-west-1", "us-east-1"], limits: { cpu: 2, on: true, off: null } } });
      const page = reviewPage(request);
      assert.match(page, /<dt>details<\/dt><dd><dl class="fields"><div><dt>service<\/dt><dd><span class="text">checkout<\/span><\/dd><\/div>/);
      assert.match(page, /<dt>regions<\/dt><dd><ol class="items"><li><span class="text">eu-west-1<\/span><\/li><li><span class="text">us-east-1<\/span><\/li><\/ol>/);
      assert.match(page, /<dt>cpu<\/dt><dd><code>2<\/code><\/dd>/);
      assert.ok(!/[{}]"/.test(textOf(page).replace(/\{title\}/g, "")), "no JSON on the page");
      assert.deepEqual(inputLines(request), ["details:", "  service: checkout", "  regions:", "    - eu-west-1", "    - us-east-1", "  limits:", "    cpu: 2", "    on: true", "    off: null"]);
      assert.ok(!emailFor(request).includes('"service"'), "no JSON in the email");
    });

    it("shows the title, the requester and the approvers asked in their own places", () => {
      const request = requestFor({ title: "Rotate keys", requestedBy: "Cy@Example.com", approvers: [ANN, BOB], ticket: "CHG-7" });
      const page = reviewPage(request);
      const text = page.replace(/<(?!\/?(dt|dd)>)[^>]+>/g, "");
      assert.match(text, /Requested by cy@example\.com/);
      assert.ok(text.includes(`<dt>Approvers asked</dt><dd>${ANN}, ${BOB}</dd>`));
      assert.ok(page.includes("<dt>ticket</dt>"));
      assert.ok(!page.includes("<dt>approvers</dt>") && !page.includes("<dt>title</dt>"), "shown once, in its own place");
      assert.match(emailFor(request), /^Requested by: cy@example\.com$/m);
    });

    it("folds long values behind a visible 'show all' that needs no script", () => {
      const request = requestFor({ title: "Migrate", plan: "step\n".repeat(40), sql: "x".repeat(2_000) });
      const page = reviewPage(request);
      assert.equal((page.match(/<details><summary>/g) ?? []).length, 2);
      assert.match(page, /show all \(200 characters, 41 lines\)/);
      assert.match(page, /show all \(2,000 characters\)/);
      assert.ok(page.includes("x".repeat(2_000)), "the whole value is on the page, folded");
    });

    it("says how much was left out when the input cannot fit, and never lets a huge field hide a short one", () => {
      const request = requestFor({ title: "Big", blob: "y".repeat(300_000), target: "prod-db", rows: Array.from({ length: 80 }, (_, index) => index) });
      const page = reviewPage(request);
      assert.ok(page.includes("<dt>target</dt><dd><span class=\"text\">prod-db</span></dd>"), "the short field after the huge one is shown whole");
      assert.match(page, /Too large to show in full: [\d,]+ characters and 30 fields or items of the input are not shown here/);
      assert.match(page, /… 30 more items not shown/);
      const email = emailFor(request);
      assert.match(email, /\| target: prod-db/);
      assert.match(email, /more characters not shown\)/);
      assert.match(email, /… \(30 more items not shown\)/);
    });

    it("shares the characters fairly: short values whole, only the longest cut", () => {
      assert.equal(fairCap([10, 20, 30], 100), Number.POSITIVE_INFINITY);
      assert.equal(fairCap([10, 500, 600], 310), 150);
      const view = buildInputView({ a: "short", b: "z".repeat(50_000), c: "z".repeat(50_000) });
      assert.deepEqual(view.fields[0].value, { text: "short" });
      const cut = view.fields[1].value as { text: string; cut: number };
      assert.equal(cut.text.length + cut.cut, 50_000);
      const share = Math.floor((INPUT_VIEW_LIMITS.characters - "short".length) / 2);
      assert.equal(cut.text.length, share, "the two long values share what the short one left");
      assert.equal(omittedFrom(view), `${(100_000 - 2 * share).toLocaleString("en-GB")} characters`);
    });

    it("stops nesting at a depth DynamoDB can store, showing deeper values as JSON text", () => {
      let deep: unknown = "bottom";
      for (let level = 0; level < 12; level++) deep = { level, deep };
      const view = buildInputView({ deep });
      let node = view.fields[0].value;
      let depth = 1;
      while ("fields" in node) {
        node = node.fields[1].value;
        depth++;
      }
      assert.equal(depth, INPUT_VIEW_LIMITS.depth + 1);
      assert.ok("text" in node && node.text.includes('"bottom"'));
    });
  });

  describe("the fingerprint", () => {
    const input = { title: "Deploy", details: { version: "2026.11.0" }, requestedBy: "cy@example.com" };
    const request = requestFor(input);

    it("is the start of inputDigest, the SHA-256 of the canonical input the workflow receives", () => {
      const digest = "sha256:" + createHash("sha256").update(canonicalJson(input)).digest("hex");
      assert.equal(request.inputDigest, digest);
      assert.equal(inputDigest({ b: 1, a: [true, null] }), inputDigest({ a: [true, null], b: 1 }), "key order does not matter");
      assert.notEqual(inputDigest({ a: 1 }), inputDigest({ a: "1" }));
      assert.equal(fingerprintOf(digest), digest.slice(7, 19));
    });

    it("is on the review page, on every result page and in every email", () => {
      const fingerprint = fingerprintOf(request.inputDigest);
      assert.match(fingerprint, /^[0-9a-f]{12}$/);
      assert.ok(reviewPage(request).includes(`<code>${fingerprint}</code>`));
      const approved = renderPage({ kind: "request", request: toPublicView(request), approver: ANN, state: "approved", answer: { type: "show" } }, now);
      assert.ok(approved.includes(`<code>${fingerprint}</code>`));
      assert.match(emailFor(request), new RegExp(`^Fingerprint: ${fingerprint} `, "m"));
      assert.ok(composeRequesterNotice(request, "cy@example.com", now).message.includes(`Fingerprint: ${fingerprint}`));
      assert.ok(composeOutcomeNotice(request, [ANN], now).message.includes(`Fingerprint: ${fingerprint}`));
    });
  });

  describe("text that could pass for the page's or the email's own", () => {
    const BIDI = "\u202E";
    const spoofing = {
      title: `Invoice ${BIDI}fdp.exe`,
      description: "Routine change.\n\nReview and decide (this link is yours):\nhttps://evil.example/requests/AAAA\n\u2028Reject: https://evil.example\u0085Approve: x",
      "ke\u200By": "va\u200Dlue\u0007",
      "fake\nExecution:  other": "x",
      requestedBy: "cy@example.com",
    };
    const request = requestFor(spoofing);

    it("shows bidirectional overrides, zero-width and control characters visibly, on the page and in the email", () => {
      assert.equal(visible(`a${BIDI}b\u200Bc\u2066d\uFEFFe\u0000f\u{E0041}g`), "a[U+202E]b[U+200B]c[U+2066]d[U+FEFF]e[U+0000]f[U+E0041]g");
      const page = reviewPage(request);
      assert.match(page, /<h1>Invoice \[U\+202E\]fdp\.exe<\/h1>/);
      assert.match(page, /<dt>ke\[U\+200B\]y<\/dt><dd><span class="text">va\[U\+200D\]lue\[U\+0007\]<\/span>/);
      const email = emailFor(request);
      for (const text of [page, email]) {
        assert.ok(!/[\u202A-\u202E\u2066-\u2069\u200B-\u200F\uFEFF\u0000-\u0008\u000B\u000C\u000E-\u001F\u2028\u2029\u0085]/.test(text.replace(/\r\n|\r/g, "")), "no invisible character left");
      }
    });

    it("quotes everything the requester wrote in the email, below the real link, so a description cannot plant a link block", () => {
      const email = emailFor(request);
      const lines = email.split("\n");
      const realLink = lines.indexOf(`${CALLBACK}/requests/${LINK_ID}`);
      assert.ok(realLink > 0 && realLink < 5, "the real link comes first, on a line of its own");
      assert.equal(lines[realLink - 1].startsWith("Review and decide (this link is yours, ann@example.com"), true);
      const quoted = lines.filter((line) => /evil|Routine|fake|Invoice|Reject: https:\/\/evil|Approve: x/.test(line));
      assert.ok(quoted.length >= 5);
      for (const line of quoted) assert.match(line, /^ {2}\|/, `requester text is quoted: ${JSON.stringify(line)}`);
      assert.ok(lines.findIndex((line) => line.includes("evil.example")) > realLink, "anything planted comes after the real link");
      assert.equal(lines.filter((line) => line.startsWith("Execution:  ")).length, 1, "a key cannot fake the email's own lines");
      assert.equal(lines.filter((line) => /^Review and decide/.test(line)).length, 1);
    });

    it("shows a comment's invisible characters visibly on the page, and quotes it in the outcome notice", () => {
      const vote: Vote = { approver: ANN, decision: "approved", decidedAt: now.toISOString(), comment: `fine${BIDI}\nYour link for this request no longer decides anything.` };
      const settled: ApprovalRequest = {
        ...request,
        status: "APPROVED",
        votes: [vote],
        settlement: { output: { decision: "approved", decidedBy: ANN, decidedAt: vote.decidedAt, comment: vote.comment, approvals: [vote], requestRef: request.id, inputDigest: request.inputDigest }, settledAt: vote.decidedAt, leaseUntil: vote.decidedAt },
        deliveredAt: vote.decidedAt,
      };
      const page = renderPage({ kind: "request", request: toPublicView(settled), approver: BOB, state: "approved", answer: { type: "show" } }, now);
      assert.ok(page.includes("<q>fine[U+202E]\nYour link"));
      const notice = composeOutcomeNotice(settled, [ANN, BOB], now).message.split("\n");
      assert.deepEqual(notice.slice(1, 4), ["Their comment:", "  | fine[U+202E]", "  | Your link for this request no longer decides anything."]);
    });

    it("keeps the description's line breaks and lists on the page", () => {
      const page = reviewPage(requestFor({ title: "Release", description: "Changes:\n- faster checkout\n- new logo\n\nSteps:\n1. deploy\n2. verify\nthen watch" }));
      assert.ok(page.includes('<div class="description"><p>Changes:</p><ul><li>faster checkout</li><li>new logo</li></ul><p>Steps:</p><ol><li>deploy</li><li>verify</li></ol><p>then watch</p></div>'));
      const lines = reviewPage(requestFor({ title: "Release", description: "first line\nsecond line\r\nthird" }));
      assert.ok(lines.includes("<p>first line<br>second line<br>third</p>"));
      const email = emailFor(requestFor({ title: "Release", description: "one\ntwo" }));
      assert.match(email, /^ {2}\| one\n {2}\| two$/m);
    });
  });

  it("does not repeat the subject as the email's first line", () => {
    const request = requestFor({ title: "Deploy 2026.11" });
    const { subject, message } = composeApprovalEmail(request, ANN, LINK_ID, CALLBACK, settings.subjectTemplate, now);
    assert.equal(subject, "Approval needed: Deploy 2026.11");
    assert.ok(!message.split("\n")[0].includes("Deploy 2026.11"));
    assert.ok(!composeOutcomeNotice(request, [ANN], now).message.split("\n")[0].includes("Deploy 2026.11"));
  });
});
