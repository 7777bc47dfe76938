/**
 * Approvers' links. A link id is a MAC of (request, approver) computed inside KMS with this stack's
 * HMAC key: the same request and approver always give the same link (a retried invocation, a
 * reminder), and nobody without `kms:GenerateMac` on that key can compute one from what they can read
 * (the task token, the execution, the table). The table stores only `linkKey(linkId)`, a one-way hash.
 */
import { LINK_ID_BYTES } from "./approvalRequest";

/** Computes a MAC of `message` with the stack's key (KMS GenerateMac in AWS). */
export type MacFunction = (message: Uint8Array) => Promise<Uint8Array>;

/** What is MACed: versioned and unambiguous (neither part may contain a newline). */
export function linkMessage(requestRef: string, approver: string): Uint8Array {
  return new TextEncoder().encode(`human-approval link v1\n${requestRef}\n${approver.toLowerCase()}`);
}

export async function deriveLinkId(mac: MacFunction, requestRef: string, approver: string): Promise<string> {
  const digest = await mac(linkMessage(requestRef, approver));
  if (digest.length < LINK_ID_BYTES) throw new Error(`The MAC is ${digest.length} bytes; a link id needs ${LINK_ID_BYTES}.`);
  return Buffer.from(digest.subarray(0, LINK_ID_BYTES)).toString("base64url");
}

/** The review link and two shortcuts that only preselect a button: GET never decides. */
export function reviewLinks(callbackUrl: string, linkId: string) {
  const review = `${callbackUrl}/requests/${linkId}`;
  return { review, approve: `${review}?choice=approve`, reject: `${review}?choice=reject` };
}
