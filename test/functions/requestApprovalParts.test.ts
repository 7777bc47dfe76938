import { strict as assert } from "node:assert";
import { createHmac } from "node:crypto";
import { composeApprovalEmail, composeRequesterNotice, toSnsSubject } from "../../functions/shared/email";
import { InvalidApprovalPayload, InvalidApprovalRequest, parseRequestApprovalPayload } from "../../functions/requestApproval/payload";
import { SUMMARY_LIMITS, summariseInput } from "../../functions/requestApproval/summary";
import { askedApprovers, newApprovalRequest } from "../../functions/requestApproval/requestApproval";
import { isLinkId, linkKey, REQUEST_REF_PATTERN, requestRefFor } from "../../functions/shared/approvalRequest";
import { deriveLinkId, linkMessage, type MacFunction } from "../../functions/shared/links";
import { formatRemaining } from "../../functions/shared/text";

const ANN = "ann@example.com";
const BOB = "bob@example.com";
const CAT = "cat@example.com";

describe("summariseInput", () => {
  it("lifts title, description, requestedBy and approvers out, and keeps every other field as structure", () => {
    assert.deepEqual(summariseInput({ title: "  Deploy\n v2 ", description: "Prod rollout", requestedBy: " Ann@Example.com ", approvers: [ANN], details: { region: "eu", zones: [1, 2] } }, "fallback"), {
      title: "Deploy v2",
      description: "Prod rollout",
      requestedBy: ANN,
      inputView: { fields: [{ key: "details", value: { fields: [{ key: "region", value: { text: "eu" } }, { key: "zones", value: { items: [{ literal: "1" }, { literal: "2" }] } }] } }] },
    });
  });
  it("shows a title or description that cannot be the headline among the fields, never hides it", () => {
    const summary = summariseInput({ title: 42, description: ["a"], environment: "prod" }, "Approval requested by sm");
    assert.equal(summary.title, "Approval requested by sm");
    assert.equal(summary.description, undefined);
    assert.deepEqual(summary.inputView.fields.map((field) => field.key), ["title", "description", "environment"]);
    assert.deepEqual(summariseInput("just text", "t").inputView, { fields: [{ key: "input", value: { text: "just text" } }] });
  });
  it("cuts an oversized title for the headline and keeps the whole one among the fields; an oversized description is a field", () => {
    const summary = summariseInput({ title: "t".repeat(10_000), description: "d".repeat(100_000), details: "x".repeat(1_000_000) }, "f");
    assert.equal(Array.from(summary.title).length, SUMMARY_LIMITS.title);
    assert.match(summary.title, /…$/);
    assert.equal(summary.description, undefined);
    assert.deepEqual(summary.inputView.fields.map((field) => field.key), ["title", "description", "details"]);
  });
});

describe("request references", () => {
  it("name a request by its execution, the same for the same execution, and reveal neither the ARN nor a link", () => {
    const arn = "arn:aws:states:eu-west-1:1:execution:sm:run-1";
    const ref = requestRefFor(arn);
    assert.match(ref, REQUEST_REF_PATTERN);
    assert.equal(requestRefFor(arn), ref);
    assert.notEqual(requestRefFor(arn + "x"), ref);
    assert.ok(!ref.includes("run-1"));
    assert.equal(isLinkId(ref), false, "a requestRef is not shaped like a link");
  });
});

describe("links", () => {
  const key = Buffer.from("k".repeat(32));
  const mac: MacFunction = async (message) => createHmac("sha256", key).update(message).digest();
  const ref = requestRefFor("arn:e");

  it("are MACs of the request and the approver: stable, per approver, per request, case-insensitive", async () => {
    const link = await deriveLinkId(mac, ref, ANN);
    assert.ok(isLinkId(link));
    assert.equal(await deriveLinkId(mac, ref, "ANN@example.COM"), link);
    assert.notEqual(await deriveLinkId(mac, ref, BOB), link);
    assert.notEqual(await deriveLinkId(mac, requestRefFor("arn:f"), ANN), link);
    const otherKey: MacFunction = async (message) => createHmac("sha256", "another key").update(message).digest();
    assert.notEqual(await deriveLinkId(otherKey, ref, ANN), link, "without the key, nobody computes the link");
  });

  it("are stored only as a one-way hash", async () => {
    const link = await deriveLinkId(mac, ref, ANN);
    assert.match(linkKey(link), /^link#[A-Za-z0-9_-]{43}$/);
    assert.ok(!linkKey(link).includes(link));
    assert.notEqual(linkKey(link), linkKey(await deriveLinkId(mac, ref, BOB)));
  });

  it("refuse a MAC too short for a link id, and MAC an unambiguous message", async () => {
    await assert.rejects(deriveLinkId(async () => new Uint8Array(8), ref, ANN), /needs 24/);
    assert.equal(new TextDecoder().decode(linkMessage(ref, "Ann@Example.com")), `human-approval link v1\n${ref}\n${ANN}`);
  });
});

describe("askedApprovers", () => {
  const stack = { approverEmails: [ANN, BOB, CAT], requiredApprovals: 2, allowSelfApproval: false };
  it("asks every stack approver by default, or the subset the input names (any case)", () => {
    assert.deepEqual(askedApprovers({}, undefined, stack), [ANN, BOB, CAT]);
    assert.deepEqual(askedApprovers({ approvers: ["Cat@Example.com", BOB, BOB] }, undefined, stack), [CAT, BOB]);
  });
  it("leaves the requester out unless self-approval is allowed", () => {
    assert.deepEqual(askedApprovers({ requestedBy: "Ann@Example.com" }, ANN, stack), [BOB, CAT]);
    assert.deepEqual(askedApprovers({ requestedBy: ANN }, ANN, { ...stack, allowSelfApproval: true }), [ANN, BOB, CAT]);
  });
  it("refuses unknown addresses, bad lists, a bad requestedBy and requests too few can settle", () => {
    const refused = (input: unknown, requestedBy: string | undefined, pattern: RegExp, settings = stack) =>
      assert.throws(() => askedApprovers(input, requestedBy, settings), (error: Error) => error instanceof InvalidApprovalRequest && pattern.test(error.message));
    refused({ approvers: [BOB, "eve@example.com"] }, undefined, /eve@example\.com, which is not an approver/);
    refused({ approvers: [] }, undefined, /non-empty list/);
    refused({ approvers: "bob@example.com" }, undefined, /non-empty list/);
    refused({ requestedBy: 42 }, undefined, /requestedBy is 42/);
    refused({ approvers: [BOB] }, undefined, /needs 2 approvals, but only 1 approver can vote/);
    refused({ requestedBy: ANN, approvers: [ANN, BOB] }, ANN, /only 1 approver can vote on it \(ann@example\.com asked for it/);
    refused({}, ANN, /needs 3 approvals, but only 2 approvers/, { ...stack, requiredApprovals: 3 });
  });
});

describe("approval email", () => {
  const now = new Date("2026-11-22T10:00:00Z");
  const settings = { callbackUrl: "https://x", approvalTimeoutSeconds: 86_400, auditRetentionDays: 90, subjectTemplate: "{title}", approverEmails: [ANN, BOB], requiredApprovals: 1, allowSelfApproval: false };
  const request = newApprovalRequest(
    { kind: "request", taskToken: "secret-token", execution: { id: "arn:x", name: "run-7" }, stateMachine: { name: "deploy" }, input: { title: "Ship it", requestedBy: "Cat@example.com" } },
    settings,
    now,
  );
  const linkId = "L".repeat(32);

  it("links to the approver's own review page and the two preselecting shortcuts, all short", () => {
    const { message, recipients } = composeApprovalEmail(request, BOB, linkId, "https://abc.lambda-url.eu-west-1.on.aws", "Approval needed: {title}", now);
    assert.deepEqual(recipients, [BOB]);
    const links = message.match(/https:\/\/\S+/g) ?? [];
    assert.deepEqual(links, [
      `https://abc.lambda-url.eu-west-1.on.aws/requests/${linkId}`,
      `https://abc.lambda-url.eu-west-1.on.aws/requests/${linkId}?choice=approve`,
      `https://abc.lambda-url.eu-west-1.on.aws/requests/${linkId}?choice=reject`,
    ]);
    for (const link of links) assert.ok(link.length < 200);
    assert.match(message, /this link is yours, bob@example\.com/);
    assert.match(message, /Requested by: cat@example\.com/);
    assert.match(message, /Execution:  run-7/);
    assert.match(message, /Reference:  req-/);
    assert.match(message, /Expires:    2026-11-23 10:00 UTC \(in 24 hours\)/);
    assert.ok(!message.includes("secret-token"));
  });

  it("tells the requester that others decide, with no link", () => {
    const { message, recipients } = composeRequesterNotice(request, CAT, now);
    assert.deepEqual(recipients, [CAT]);
    assert.ok(!/https?:\/\//.test(message));
    assert.match(message, /You cannot approve your own request/);
  });

  it("stores expiry, TTL, approvers and quorum from the settings", () => {
    assert.equal(request.id, requestRefFor("arn:x"));
    assert.equal(request.expiresAt, "2026-11-23T10:00:00.000Z");
    assert.equal(request.ttl, Date.parse("2026-11-23T10:00:00Z") / 1000 + 90 * 86_400);
    assert.equal(request.status, "PENDING");
    assert.deepEqual(request.approvers, [ANN, BOB]);
    assert.equal(request.requiredApprovals, 1);
    assert.equal(request.requestedBy, CAT);
    assert.match(request.inputDigest, /^sha256:[0-9a-f]{64}$/);
  });

  it("fills the configurable subject and keeps it within SNS rules", () => {
    assert.equal(composeApprovalEmail(request, ANN, linkId, "https://x", "[prod] {title} needs you", now).subject, "[prod] Ship it needs you");
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
      (error: Error) => error instanceof InvalidApprovalPayload && ["taskToken", "execution.name", "stateMachine.name"].every((field) => error.message.includes(field)) && !error.message.includes("s3cr3t"),
    );
  });
  it("reads the timeout path's expiry payload", () => {
    assert.deepEqual(parseRequestApprovalPayload({ kind: "expired", execution: { id: "arn:e", name: "e" } }), { kind: "expired", execution: { id: "arn:e", name: "e" } });
    assert.throws(() => parseRequestApprovalPayload({ kind: "expired", execution: { id: "arn:e" } }), /execution\.name/);
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
