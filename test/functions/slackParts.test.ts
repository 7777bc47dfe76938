import { strict as assert } from "node:assert";
import fc from "fast-check";
import { parseButtonPress } from "../../functions/decision/slack/interaction";
import type { ApprovalRequest } from "../../functions/shared/approvalRequest";
import { askMessage, statusMessage } from "../../functions/shared/slack/message";
import { parseSlackSecrets, SlackSecretsUnavailableError } from "../../functions/shared/slack/secrets";
import { slackSignature, verifySlackSignature } from "../../functions/shared/slack/signature";
import { isSlackResponseUrl, slackWebApi } from "../../functions/shared/slack/webApi";

/** Slack's own published example ("Verifying requests from Slack"): proves the base string is built as Slack builds it. */
const VECTOR = {
  secret: "8f742231b10e8888abcd99yyyzzz85a5",
  timestamp: "1531420618",
  body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
  signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
};
const at = (seconds: number) => new Date((Number(VECTOR.timestamp) + seconds) * 1000);
const headers = (signature = VECTOR.signature, timestamp = VECTOR.timestamp) => ({ "x-slack-signature": signature, "x-slack-request-timestamp": timestamp });

describe("Slack parts", () => {
  describe("signature", () => {
    it("reproduces Slack's documented example", () => {
      assert.equal(slackSignature(VECTOR.secret, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(), VECTOR.body, at(0)), { ok: true });
    });

    it("refuses a changed body, another secret, a changed timestamp, and a signature in another case or form", () => {
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(), VECTOR.body + "&x=1", at(0)), { ok: false, reason: "mismatch" });
      assert.deepEqual(verifySlackSignature("another-secret", headers(), VECTOR.body, at(0)), { ok: false, reason: "mismatch" });
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(VECTOR.signature, "1531420619"), VECTOR.body, at(0)), { ok: false, reason: "mismatch" });
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(VECTOR.signature.toUpperCase()), VECTOR.body, at(0)), { ok: false, reason: "malformed" });
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(VECTOR.signature.replace("v0=", "v1=")), VECTOR.body, at(0)), { ok: false, reason: "malformed" });
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(VECTOR.signature, "1531420618.5"), VECTOR.body, at(0)), { ok: false, reason: "malformed" });
      assert.deepEqual(verifySlackSignature(VECTOR.secret, {}, VECTOR.body, at(0)), { ok: false, reason: "unsigned" });
    });

    it("takes five minutes either way, and not a second more", () => {
      assert.ok(verifySlackSignature(VECTOR.secret, headers(), VECTOR.body, at(300)).ok);
      assert.ok(verifySlackSignature(VECTOR.secret, headers(), VECTOR.body, at(-300)).ok);
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(), VECTOR.body, at(301)), { ok: false, reason: "stale" });
      assert.deepEqual(verifySlackSignature(VECTOR.secret, headers(), VECTOR.body, at(-301)), { ok: false, reason: "stale" });
    });

    it("property: any other signature for any body is refused, never thrown", () => {
      fc.assert(fc.property(fc.string(), fc.string(), (body, signature) => {
        const check = verifySlackSignature(VECTOR.secret, headers(signature), body, at(0));
        assert.equal(check.ok, signature === slackSignature(VECTOR.secret, VECTOR.timestamp, body));
      }));
    });
  });

  describe("response URLs", () => {
    it("follows only Slack's hooks over https, or the local stand-in's under SLACK_API_URL", () => {
      assert.ok(isSlackResponseUrl("https://hooks.slack.com/actions/T1/1/abc"));
      for (const url of ["http://hooks.slack.com/actions/x", "https://hooks.slack.com.evil.example/x", "https://evil.example/?https://hooks.slack.com/", "https://hooks.slack.com:8443/x", "http://169.254.169.254/latest/meta-data", "not a url", "http://127.0.0.1:9/hooks/x"]) {
        assert.equal(isSlackResponseUrl(url), false, url);
      }
      assert.ok(isSlackResponseUrl("http://127.0.0.1:9/hooks/abc", "http://127.0.0.1:9/api"));
      assert.equal(isSlackResponseUrl("http://127.0.0.1:9/api/chat.update", "http://127.0.0.1:9/api"), false);
    });

    it("a response_url elsewhere is never fetched", async () => {
      const fetched: string[] = [];
      const api = slackWebApi({ botToken: async () => "xoxb-1", fetch: (async (url: string) => (fetched.push(url), new Response("ok"))) as unknown as typeof fetch });
      await assert.rejects(api.respond("http://169.254.169.254/latest/meta-data", { text: "x", blocks: [], replace_original: false }), /not_a_slack_url/);
      assert.deepEqual(fetched, []);
    });
  });

  describe("interaction payloads", () => {
    const press = (overrides: Record<string, unknown> = {}) => ({
      type: "block_actions",
      user: { id: "U123ABC" },
      team: { id: "T9TEAM" },
      channel: { id: "D123ABC" },
      container: { message_ts: "1700000000.000100" },
      response_url: "https://hooks.slack.com/actions/T9TEAM/1/abc",
      actions: [{ action_id: "approve", value: "req-abcdefghijklmnopqrst" }],
      ...overrides,
    });
    const body = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

    it("reads a press of Approve or Reject", () => {
      assert.deepEqual(parseButtonPress(body(press())), { requestRef: "req-abcdefghijklmnopqrst", decision: "approved", userId: "U123ABC", teamId: "T9TEAM", channel: "D123ABC", messageTs: "1700000000.000100", responseUrl: "https://hooks.slack.com/actions/T9TEAM/1/abc" });
      assert.equal(parseButtonPress(body(press({ actions: [{ action_id: "reject", value: "req-abcdefghijklmnopqrst" }] })))?.decision, "rejected");
    });

    it("anything else is not a vote", () => {
      for (const payload of [
        press({ type: "view_submission" }),
        press({ actions: [] }),
        press({ actions: [{ action_id: "approve", value: "req-abcdefghijklmnopqrst" }, { action_id: "reject", value: "req-abcdefghijklmnopqrst" }] }),
        press({ actions: [{ action_id: "review", value: "req-abcdefghijklmnopqrst" }] }),
        press({ actions: [{ action_id: "approve", value: "../requests/x" }] }),
        press({ user: { id: "u lower" } }),
        press({ team: undefined }),
        press({ container: { message_ts: "now" } }),
      ]) {
        assert.equal(parseButtonPress(body(payload)), undefined, JSON.stringify(payload));
      }
      assert.equal(parseButtonPress("payload=%7Bnot%20json"), undefined);
      assert.equal(parseButtonPress(JSON.stringify(press())), undefined, "a JSON body is not Slack's form");
    });
  });

  describe("the message", () => {
    const request = (fields: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
      id: "req-abcdefghijklmnopqrst", taskToken: "TOKEN-NEVER-SHOWN", executionArn: "arn:aws:states:eu-west-1:1:execution:m:e", executionName: "e", stateMachineName: "m",
      title: "Deploy *now* <!channel> \u202Eexe", requestedBy: "dee@example.com", inputDigest: "sha256:" + "ab".repeat(32), approvers: ["ann@example.com"], requiredApprovals: 1, allowSelfApproval: false,
      createdAt: "2026-11-22T10:00:00.000Z", expiresAt: "2026-11-23T10:00:00.000Z", status: "PENDING", version: 1, votes: [], notified: [], ttl: 0,
      inputView: { fields: [{ key: "note", value: { text: "x".repeat(20_000), cut: 0 } }] },
      ...fields,
    });
    const textObjects = (value: unknown): Array<{ type: string; text: string }> =>
      Array.isArray(value) ? value.flatMap(textObjects) : value && typeof value === "object" ? ("text" in value && typeof (value as { text: unknown }).text === "string" && "type" in value ? [value as { type: string; text: string }] : []).concat(Object.values(value).flatMap(textObjects)) : [];

    it("puts everything in plain_text (no mentions, links or formatting from the requester), spoofing characters shown, within Slack's limits", () => {
      const message = askMessage(request(), "ann@example.com", "https://approvals.example.com/requests/" + "L".repeat(32), new Date("2026-11-22T11:00:00Z"));
      const texts = textObjects(message.blocks);
      assert.ok(texts.length > 0 && texts.every((text) => text.type === "plain_text"), "no mrkdwn anywhere");
      assert.ok(texts.every((text) => text.text.length <= 3000));
      assert.ok(message.blocks.length <= 50);
      const all = JSON.stringify(message);
      assert.ok(all.includes("[U+202E]") && !all.includes("\u202E"));
      assert.ok(!all.includes("TOKEN-NEVER-SHOWN"));
      assert.match(all, /Fingerprint: abababababab/);
    });

    it("after the outcome: no buttons, the outcome and the votes", () => {
      const vote = { approver: "ann@example.com", decision: "approved" as const, decidedAt: "2026-11-22T10:05:00.000Z", comment: "", channel: "slack" as const };
      const output = { decision: "approved" as const, decidedBy: "ann@example.com", decidedAt: vote.decidedAt, comment: "", approvals: [vote], requestRef: "req-abcdefghijklmnopqrst", inputDigest: "sha256:ab" };
      const message = statusMessage(request({ status: "APPROVED", votes: [vote], settlement: { output, settledAt: vote.decidedAt, leaseUntil: vote.decidedAt } }), new Date("2026-11-22T11:00:00Z"));
      const all = JSON.stringify(message);
      assert.ok(!all.includes('"actions"'));
      assert.match(message.text, /^Approved: /);
      assert.match(all, /ann@example.com approved in Slack/);
    });
  });

  it("the stored secret needs both values", () => {
    assert.deepEqual(parseSlackSecrets('{"signingSecret":"s","botToken":"xoxb-1"}'), { signingSecret: "s", botToken: "xoxb-1" });
    for (const bad of ["", "{}", '{"signingSecret":"s"}', '{"signingSecret":"","botToken":"x"}', "not json"]) assert.throws(() => parseSlackSecrets(bad), SlackSecretsUnavailableError);
  });
});
