/**
 * What the CLI prints about a request, for people and (`--json`) for scripts. Built from a whitelist of
 * fields: a task token or a link id can never reach the output (neither is read; see stack.ts).
 */
import type { ApprovalRequest } from "../functions/shared/approvalRequest";
import { inputLines } from "../functions/shared/email";
import { effectiveState, type EffectiveState } from "../functions/shared/lifecycle";
import { formatRemaining, formatUtc } from "../functions/shared/text";
import type { RequestRecord } from "./stack";

export interface VoteView {
  approver: string;
  decision: string;
  decidedAt: string;
  comment: string;
}

/** The JSON shape of one request (list and show). */
export interface RequestView {
  requestRef: string;
  state: EffectiveState;
  title: string;
  description?: string;
  details?: string;
  requestedBy?: string;
  approvers: string[];
  requiredApprovals: number;
  votes: VoteView[];
  approvals: number;
  createdAt: string;
  expiresAt: string;
  executionArn: string;
  executionName: string;
  decision?: string;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
  inputDigest?: string;
  closedReason?: string;
  remindersSent?: number[];
}

export function stateOf(request: RequestRecord, now: Date): EffectiveState {
  return effectiveState(request as ApprovalRequest, now);
}

export function requestView(request: RequestRecord, now: Date): RequestView {
  const votes = (request.votes ?? []).map(({ approver, decision, decidedAt, comment }) => ({ approver, decision, decidedAt, comment: comment ?? "" }));
  const state = stateOf(request, now);
  const delivered = state === "approved" || state === "rejected";
  const output = delivered ? request.settlement?.output : undefined;
  const reminders = (request.notified ?? []).flatMap((entry) => (/^reminder:(\d+)$/.exec(entry) ? [Number(entry.slice("reminder:".length))] : []));
  return {
    requestRef: request.id,
    state,
    title: request.title,
    ...(request.description ? { description: request.description } : {}),
    // Every input field the approvers were shown (new requests keep them as inputView; older ones as details).
    ...(inputLines(request).length ? { details: inputLines(request).join("\n") } : {}),
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    approvers: request.approvers ?? [],
    requiredApprovals: request.requiredApprovals,
    votes,
    approvals: votes.filter((vote) => vote.decision === "approved").length,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    executionArn: request.executionArn,
    executionName: request.executionName,
    ...(output ? { decision: output.decision, decidedBy: output.decidedBy, decidedAt: output.decidedAt, comment: output.comment } : {}),
    ...(request.inputDigest ? { inputDigest: request.inputDigest } : {}),
    ...(request.closedReason && !delivered ? { closedReason: request.closedReason } : {}),
    ...(request.notified ? { remindersSent: reminders } : {}),
  };
}

/** "1 of 2 approvals (ann@example.com approved)", "no votes yet (needs 2)". */
export function votesLine(view: Pick<RequestView, "votes" | "approvals" | "requiredApprovals">): string {
  if (view.votes.length === 0) return `no votes yet (needs ${view.requiredApprovals} approval${view.requiredApprovals === 1 ? "" : "s"})`;
  const who = view.votes.map((vote) => `${vote.approver} ${vote.decision}`).join(", ");
  return `${view.approvals} of ${view.requiredApprovals} approval${view.requiredApprovals === 1 ? "" : "s"} (${who})`;
}

function expiryLine(view: RequestView, now: Date): string {
  return view.state === "pending" ? `expires ${formatUtc(view.expiresAt)} (in ${formatRemaining(view.expiresAt, now)})` : `expired ${formatUtc(view.expiresAt)}`;
}

/** Three lines per request for `list`. */
export function listEntry(view: RequestView, now: Date): string[] {
  return [
    `${view.requestRef}  ${view.title}`,
    `    ${view.state === "pending" ? "" : `${view.state}; `}requested by ${view.requestedBy ?? "(not given)"}; ${votesLine(view)}; ${view.state === "pending" || view.state === "expired" ? expiryLine(view, now) : `asked ${formatUtc(view.createdAt)}`}`,
    `    execution ${view.executionArn}`,
  ];
}

const quoted = (comment: string | undefined) => (comment ? `: "${comment}"` : "");

/** Everything `show` prints for people. */
export function showLines(view: RequestView, now: Date, execution?: { status: string }): string[] {
  const lines = [
    `${view.title}`,
    `  reference     ${view.requestRef}`,
    `  state         ${view.state}${view.closedReason ? ` (${view.closedReason})` : ""}`,
    ...(view.decision ? [`  decision      ${view.decision} by ${view.decidedBy} at ${formatUtc(view.decidedAt!)}${quoted(view.comment)}`] : []),
    `  requested by  ${view.requestedBy ?? "(not given)"}`,
    `  approvers     ${view.approvers.join(", ")} (needs ${view.requiredApprovals})`,
    `  votes         ${view.votes.length ? "" : "none yet"}`,
    ...view.votes.map((vote) => `    ${vote.approver} ${vote.decision} at ${formatUtc(vote.decidedAt)}${quoted(vote.comment)}`),
    `  asked         ${formatUtc(view.createdAt)}`,
    `  ${view.state === "pending" ? "expires       " : "expiry        "}${formatUtc(view.expiresAt)}${view.state === "pending" ? ` (in ${formatRemaining(view.expiresAt, now)})` : ""}`,
    ...(view.remindersSent?.length ? [`  reminded      ${view.remindersSent.map((minutes) => `${minutes} min before expiry`).join(", ")}`] : []),
    `  execution     ${view.executionArn}${execution ? ` (${execution.status})` : ""}`,
    ...(view.inputDigest ? [`  input digest  ${view.inputDigest}`] : []),
  ];
  if (view.description) lines.push("", ...view.description.split("\n").map((line) => `  ${line}`));
  if (view.details) lines.push("", "  Details:", ...view.details.split("\n").map((line) => `    ${line}`));
  return lines;
}
