/**
 * The Slack direct message of one request, in Block Kit: the same lines the approval email has (who
 * asks, the expiry, the quorum, the fingerprint, everything the requester wrote, quoted, invisible
 * characters shown), the votes so far, and the buttons. Everything the requester or an approver wrote
 * goes in `plain_text` objects, where Slack applies no formatting, mentions or links.
 */
import type { ApprovalRequest, Vote } from "../approvalRequest";
import { requestLines } from "../email";
import { effectiveState, type EffectiveState } from "../lifecycle";
import { formatUtc, oneLine, visible } from "../text";
import type { SlackMessage } from "./webApi";

/** `action_id` of the two buttons; their `value` is the requestRef (it names the request, and opens nothing). */
export const SLACK_ACTIONS = { approve: "approve", reject: "reject" } as const;
export type SlackAction = keyof typeof SLACK_ACTIONS;

/** Slack's limits: 3,000 characters per text object, 50 blocks per message. */
const TEXT_LIMIT = 2_900;
const MAX_TEXT_BLOCKS = 40;

const plain = (text: string) => ({ type: "plain_text", text, emoji: false });
const section = (text: string) => ({ type: "section", text: plain(text) });

/** Lines as few plain-text sections as fit Slack's limits; what does not fit is on the review page. */
function textSections(lines: string[]): unknown[] {
  const sections: string[] = [];
  let current = "";
  for (const line of lines) {
    const piece = line.length > TEXT_LIMIT ? line.slice(0, TEXT_LIMIT - 1) + "…" : line;
    if (current.length + piece.length + 1 > TEXT_LIMIT) {
      sections.push(current);
      current = "";
    }
    current = current ? `${current}\n${piece}` : piece;
  }
  if (current.trim()) sections.push(current);
  const kept = sections.slice(0, MAX_TEXT_BLOCKS);
  if (sections.length > kept.length) kept.push("… (more on the review page)");
  return kept.map(section);
}

function voteLine(vote: Vote): string {
  const by = vote.channel === "slack" ? " in Slack" : "";
  const comment = vote.comment ? `: ${oneLine(vote.comment).slice(0, 200)}` : "";
  return `${vote.approver} ${vote.decision}${by} at ${formatUtc(vote.decidedAt)}${comment}`;
}

function votesSection(request: ApprovalRequest): unknown {
  const needs = `${request.requiredApprovals} approval${request.requiredApprovals === 1 ? "" : "s"} needed; the first rejection rejects`;
  const lines = request.votes.length ? request.votes.map(voteLine) : ["none yet"];
  return section(`Votes so far (${needs}):\n${lines.join("\n")}`);
}

const heading = (text: string, stackLabel?: string) => ({ type: "header", text: plain(`${stackLabel ? `[${stackLabel}] ` : ""}${text}`.slice(0, 150)) });

/** The ask: the request, the votes so far, Approve and Reject, and the approver's own review page. */
export function askMessage(request: ApprovalRequest, approver: string, reviewUrl: string, now: Date, stackLabel?: string): SlackMessage {
  const title = oneLine(request.title);
  return {
    text: `Approval needed: ${title}`,
    blocks: [
      heading(`Approval needed: ${title}`, stackLabel),
      section(`You are asked to approve or reject this request, as ${approver}. The buttons record your vote once.`),
      ...textSections(requestLines(request, now)),
      votesSection(request),
      {
        type: "actions",
        block_id: "decide",
        elements: [
          { type: "button", action_id: SLACK_ACTIONS.approve, text: plain("Approve"), style: "primary", value: request.id },
          {
            type: "button", action_id: SLACK_ACTIONS.reject, text: plain("Reject"), style: "danger", value: request.id,
            confirm: { title: plain("Reject this request?"), text: plain("The first rejection rejects the request."), confirm: plain("Reject"), deny: plain("Cancel") },
          },
          // The approver's own link, as in their email: the page shows everything, and takes a comment.
          { type: "button", action_id: "review", text: plain("Open review page"), url: reviewUrl },
        ],
      },
    ],
  };
}

const STATE_WORDS: Record<EffectiveState, string> = {
  pending: "Waiting for votes",
  settling: "Settled; telling the workflow",
  approved: "Approved",
  rejected: "Rejected",
  expired: "Expired",
  withdrawn: "Withdrawn",
  closed: "Closed",
};

/** Where the request stands, for a message without buttons: after this approver's vote, or its outcome. */
export function statusMessage(request: ApprovalRequest, now: Date, note?: string, stackLabel?: string): SlackMessage {
  const state = effectiveState(request, now);
  const output = request.settlement?.output;
  const decided = (state === "approved" || state === "rejected" || state === "settling") && output;
  const outcome = decided ? `${STATE_WORDS[state]}: ${output.decision} by ${output.decidedBy} at ${formatUtc(output.decidedAt)}.` : state === "pending" ? `${STATE_WORDS[state]}.` : `${STATE_WORDS[state]}. ${oneLine(request.closedReason ?? "")}`.trim();
  const title = oneLine(request.title);
  return {
    text: `${STATE_WORDS[state]}: ${title}`,
    blocks: [
      heading(`${STATE_WORDS[state]}: ${title}`, stackLabel),
      ...(note ? [section(note)] : []),
      section(`${outcome}\nReference: ${request.id}`),
      votesSection(request),
      ...(state === "pending" || state === "settling" ? [] : [{ type: "context", elements: [plain("The buttons of this request no longer decide anything.")] }]),
    ],
  };
}

/** A short reply under the message (only the presser sees it): why nothing was recorded. */
export function ephemeralText(text: string): { text: string; blocks: unknown[] } {
  return { text: visible(text), blocks: [section(visible(text))] };
}
