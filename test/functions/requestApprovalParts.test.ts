import { strict as assert } from "node:assert";
import { composeApprovalEmail, toSnsSubject } from "../../functions/requestApproval/email";
import { InvalidApprovalPayload, parseRequestApprovalPayload } from "../../functions/requestApproval/payload";
import { SUMMARY_LIMITS, summariseInput } from "../../functions/requestApproval/summary";
import { newApprovalRequest } from "../../functions/requestApproval/requestApproval";
import { isRequestId, requestIdForTaskToken } from "../../functions/shared/approvalRequest";
import { formatRemaining } from "../../functions/shared/text";

describe("summariseInput", () => {
  it("uses title, description and details when the input has them", () => {
    assert.deepEqual(summariseInput({ title: "  Deploy\n v2 ", description: "Prod rollout", details: { region: "eu" } }, "fallback"), {
      title: "Deploy v2",
      description: "Prod rollout",
      details: '{\n  "region": "eu"\n}',
    });
  });
  it("shows the whole input, pretty-printed, when it has none of them", () => {
    assert.deepEqual(summariseInput({ version: 3 }, "Approval requested by sm"), { title: "Approval requested by sm", description: undefined, details: '{\n  "version": 3\n}' });
    assert.equal(summariseInput("just text", "t").details, "just text");
  });
  it("truncates oversized input to the limits", () => {
    const summary = summariseInput({ title: "t".repeat(10_000), description: "d".repeat(100_000), details: "x".repeat(1_000_000) }, "f");
    assert.equal(summary.title.length, SUMMARY_LIMITS.title);
    assert.equal(summary.description!.length, SUMMARY_LIMITS.description);
    assert.equal(summary.details!.length, SUMMARY_LIMITS.details);
    assert.match(summary.details!, /truncated\)$/);
  });
});

describe("request ids", () => {
  it("are 32 URL-safe characters derived from the token, the same for the same token", () => {
    const id = requestIdForTaskToken("token-1");
    assert.ok(isRequestId(id));
    assert.equal(requestIdForTaskToken("token-1"), id);
    assert.notEqual(requestIdForTaskToken("token-2"), id);
  });
});

describe("approval email", () => {
  const now = new Date("2026-11-22T10:00:00Z");
  const request = newApprovalRequest(
    { taskToken: "secret-token", execution: { id: "arn:x", name: "run-7" }, stateMachine: { name: "deploy" }, input: { title: "Ship it" } },
    { approvalTimeoutSeconds: 86_400, auditRetentionDays: 90 },
    now,
  );

  it("links to the review page and the two preselecting shortcuts, all short", () => {
    const { message } = composeApprovalEmail(request, "https://abc.lambda-url.eu-west-1.on.aws", "Approval needed: {title}", now);
    const links = message.match(/https:\/\/\S+/g) ?? [];
    assert.deepEqual(links, [
      `https://abc.lambda-url.eu-west-1.on.aws/requests/${request.id}`,
      `https://abc.lambda-url.eu-west-1.on.aws/requests/${request.id}?choice=approve`,
      `https://abc.lambda-url.eu-west-1.on.aws/requests/${request.id}?choice=reject`,
    ]);
    for (const link of links) assert.ok(link.length < 200);
    assert.match(message, /Execution:  run-7/);
    assert.match(message, /Expires:    2026-11-23 10:00 UTC \(in 24 hours\)/);
  });

  it("stores expiry and TTL from the timeout and the audit retention", () => {
    assert.equal(request.expiresAt, "2026-11-23T10:00:00.000Z");
    assert.equal(request.ttl, Date.parse("2026-11-23T10:00:00Z") / 1000 + 90 * 86_400);
    assert.equal(request.status, "PENDING");
  });

  it("fills the configurable subject and keeps it within SNS rules", () => {
    assert.equal(composeApprovalEmail(request, "https://x", "[prod] {title} needs you", now).subject, "[prod] Ship it needs you");
    const subject = toSnsSubject("Déploiement\n" + "ü".repeat(300));
    assert.ok(subject.length < 100);
    assert.match(subject, /^[\x20-\x7E]+$/);
    assert.equal(toSnsSubject("日本語"), "Approval needed");
  });
});

describe("parseRequestApprovalPayload", () => {
  it("names the missing fields without echoing the payload", () => {
    assert.throws(
      () => parseRequestApprovalPayload({ execution: { id: "x" }, stateMachine: {}, input: { secret: "s3cr3t" } }),
      (error: Error) => error instanceof InvalidApprovalPayload && /taskToken, execution.name, stateMachine.name/.test(error.message) && !error.message.includes("s3cr3t"),
    );
  });
});

describe("formatRemaining", () => {
  const now = new Date("2026-11-22T10:00:00Z");
  const later = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
  it("speaks in the largest sensible unit", () => {
    assert.equal(formatRemaining(later(3 * 86400 + 5), now), "3 days");
    assert.equal(formatRemaining(later(36 * 3600), now), "36 hours");
    assert.equal(formatRemaining(later(3600), now), "1 hour");
    assert.equal(formatRemaining(later(125), now), "2 minutes");
    assert.equal(formatRemaining(later(30), now), "less than a minute");
    assert.equal(formatRemaining(later(-5), now), "no time");
  });
});
