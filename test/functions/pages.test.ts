import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import type { PublicApprovalRequest } from "../../functions/shared/approvalRequest";
import { CONTENT_SECURITY_POLICY, escapeHtml, renderPage } from "../../functions/decision/pages";
import { statusCodeOf, type Outcome } from "../../functions/decision/outcome";

const now = new Date("2026-11-22T10:00:00Z");
const hostile = `<script>alert("x")</script>&'`;
const request: PublicApprovalRequest = {
  id: "B".repeat(32),
  executionArn: "arn:aws:states:eu-west-1:1:execution:sm:run",
  executionName: hostile,
  stateMachineName: hostile,
  title: hostile,
  description: hostile,
  details: hostile,
  createdAt: "2026-11-22T09:00:00Z",
  expiresAt: "2026-11-23T09:00:00Z",
  status: "PENDING",
};

describe("pages", () => {
  it("escapes every dynamic value", () => {
    const html = renderPage({ kind: "alreadyDecided", request: { ...request, status: "APPROVED", decision: "approved", decidedAt: "2026-11-22T09:30:00Z", comment: hostile }, onPost: false }, now);
    assert.ok(!html.includes("<script"), "no script element may appear");
    assert.ok(!html.includes(hostile));
    assert.ok(html.includes(escapeHtml(hostile)));
  });

  it("escapes the five HTML-significant characters", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
  });

  it("shows the review form posting back to the same URL with both buttons and no script", () => {
    const html = renderPage({ kind: "review", request }, now);
    assert.match(html, /<form method="post">/);
    assert.ok(!/action=/.test(html), "the form must not name another URL");
    assert.match(html, /name="decision" value="approve"/);
    assert.match(html, /name="decision" value="reject"/);
    assert.match(html, /<textarea id="comment" name="comment" maxlength="1000">/);
    assert.match(html, /<label for="comment">/);
    assert.match(html, /in 23 hours/);
  });

  it("marks a preselected choice without deciding it", () => {
    const html = renderPage({ kind: "review", request, preselected: "reject" }, now);
    assert.match(html, /value="reject" class="reject chosen" autofocus/);
    assert.match(html, /Press Reject to confirm/);
  });

  it("shows no form on any page but the review page", () => {
    const others: Outcome[] = [
      { kind: "decided", request: { ...request, status: "APPROVED", decision: "approved", decidedAt: now.toISOString() } },
      { kind: "expired", request },
      { kind: "closed", request, timedOut: true },
      { kind: "notFound" },
      { kind: "invalid", statusCode: 400, message: "Bad." },
      { kind: "unavailable" },
    ];
    for (const outcome of others) assert.ok(!renderPage(outcome, now).includes("<form"), outcome.kind);
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
    const decided = { ...request, status: "APPROVED" as const, decision: "approved" as const };
    assert.equal(statusCodeOf({ kind: "review", request }), 200);
    assert.equal(statusCodeOf({ kind: "alreadyDecided", request: decided, onPost: false }), 200);
    assert.equal(statusCodeOf({ kind: "alreadyDecided", request: decided, onPost: true }), 409);
    assert.equal(statusCodeOf({ kind: "expired", request }), 410);
    assert.equal(statusCodeOf({ kind: "closed", request, timedOut: true }), 410);
    assert.equal(statusCodeOf({ kind: "closed", request, timedOut: false }), 409);
    assert.equal(statusCodeOf({ kind: "notFound" }), 404);
    assert.equal(statusCodeOf({ kind: "methodNotAllowed" }), 405);
  });
});
