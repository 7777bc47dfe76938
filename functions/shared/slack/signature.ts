/**
 * Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the app's
 * signing secret, in `X-Slack-Signature`, the timestamp in `X-Slack-Request-Timestamp`. A request older
 * (or newer) than five minutes is refused, so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SLACK_TIMESTAMP_WINDOW_SECONDS = 5 * 60;

export type SignatureRefusal = "unsigned" | "malformed" | "stale" | "mismatch";
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureRefusal };

/** The signature Slack sends for this body at this timestamp (also what the local stand-in signs with). */
export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return "v0=" + createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`, "utf8").digest("hex");
}

const SIGNATURE = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,12}$/;

export function verifySlackSignature(signingSecret: string, headers: Record<string, string>, body: string, now: Date): SignatureCheck {
  const signature = headers["x-slack-signature"];
  const timestamp = headers["x-slack-request-timestamp"];
  if (signature === undefined || timestamp === undefined) return { ok: false, reason: "unsigned" };
  if (!SIGNATURE.test(signature) || !TIMESTAMP.test(timestamp)) return { ok: false, reason: "malformed" };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_WINDOW_SECONDS) return { ok: false, reason: "stale" };
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, body), "utf8");
  const given = Buffer.from(signature, "utf8");
  // Constant time: both are 67 ASCII characters (checked above), so the lengths match.
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: "mismatch" };
}
