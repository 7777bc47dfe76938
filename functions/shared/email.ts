/**
 * Every email the stack sends: the approval request (one per approver, with that approver's own
 * link), the requester's "others decide" notice, and the outcome notice. Plain text: SNS email.
 */
import type { ApprovalRequest } from "./approvalRequest";
import { effectiveState } from "./lifecycle";
import { reviewLinks } from "./links";
import { formatRemaining, formatUtc } from "./text";

/** One SNS message and who it is for: each address is matched by its subscription's filter policy. */
export interface OutgoingEmail {
  subject: string;
  message: string;
  /** Lower-case addresses; the SNS message attribute `approver`. */
  recipients: string[];
}

export const DEFAULT_SUBJECT_TEMPLATE = "Approval needed: {title}";

/**
 * SNS subjects must be ASCII, without line breaks, and under 100 characters;
 * anything else makes Publish fail, so the subject is made to fit.
 */
export function toSnsSubject(text: string): string {
  const ascii = text
    .normalize("NFKD")
    .replace(/[^\x20-\x7E]/g, "")
    .replace(/\s+/g, " ")
    .trim();
  const fitted = ascii.length > 99 ? ascii.slice(0, 96).trimEnd() + "..." : ascii;
  return /^[A-Za-z0-9\p{P}]/u.test(fitted) ? fitted : "Approval needed";
}

function quorumLine(request: ApprovalRequest): string {
  const asked = request.approvers.length;
  return request.requiredApprovals === 1
    ? `Needs:      1 approval (any one of ${asked} approver${asked === 1 ? "" : "s"}); the first rejection rejects`
    : `Needs:      ${request.requiredApprovals} approvals of ${asked} approvers; the first rejection rejects`;
}

function requestLines(request: ApprovalRequest, now: Date): string[] {
  return [
    ...(request.requestedBy ? [`Requested by: ${request.requestedBy}`, ""] : []),
    ...(request.description ? [request.description, ""] : []),
    ...(request.details ? ["Details:", request.details, ""] : []),
    `Workflow:   ${request.stateMachineName}`,
    `Execution:  ${request.executionName}`,
    `Reference:  ${request.id}`,
    `Requested:  ${formatUtc(request.createdAt)}`,
    `Expires:    ${formatUtc(request.expiresAt)} (in ${formatRemaining(request.expiresAt, now)})`,
  ];
}

export function composeApprovalEmail(request: ApprovalRequest, approver: string, linkId: string, callbackUrl: string, subjectTemplate: string, now: Date): OutgoingEmail {
  const links = reviewLinks(callbackUrl, linkId);
  const lines = [
    `Your approval is requested: ${request.title}`,
    "",
    ...requestLines(request, now),
    quorumLine(request),
    "",
    `Review and decide (this link is yours, ${approver}: it records your vote, so do not forward it; opening it decides nothing):`,
    links.review,
    "",
    `Approve: ${links.approve}`,
    `Reject:  ${links.reject}`,
    "",
    "If you did not expect this request, do nothing: it expires on its own.",
  ];
  return { subject: toSnsSubject(subjectTemplate.split("{title}").join(request.title)), message: lines.join("\n"), recipients: [approver] };
}

/** The requester may not approve their own request: they hear that it was asked, without a link. */
export function composeRequesterNotice(request: ApprovalRequest, requester: string, now: Date): OutgoingEmail {
  const lines = [
    `You asked for approval: ${request.title}`,
    "",
    "You cannot approve your own request; the other approvers decide. You will be told the outcome.",
    "",
    ...requestLines(request, now),
    quorumLine(request),
  ];
  return { subject: toSnsSubject(`Approval requested: ${request.title}`), message: lines.join("\n"), recipients: [requester] };
}

const OUTCOME_WORDS = {
  approved: "Approved",
  rejected: "Rejected",
  expired: "Expired",
  withdrawn: "Withdrawn",
  closed: "Closed",
} as const;

/** The outcome, by whom, their comment, and that the links no longer decide anything. */
export function composeOutcomeNotice(request: ApprovalRequest, recipients: string[], now: Date): OutgoingEmail {
  const state = effectiveState(request, now);
  const word = state in OUTCOME_WORDS ? OUTCOME_WORDS[state as keyof typeof OUTCOME_WORDS] : "Settled";
  const output = request.settlement?.output;
  const delivered = state === "approved" || state === "rejected";
  const lines = [
    `${word}: ${request.title}`,
    "",
    ...(delivered && output
      ? [`${word} by ${output.decidedBy} at ${formatUtc(output.decidedAt)}.`, ...(output.comment ? [`Comment: ${output.comment}`] : [])]
      : [request.closedReason ?? "Nobody decided it before it expired."]),
    "",
    "Votes:",
    ...(request.votes.length ? request.votes.map((vote) => `  ${vote.approver}: ${vote.decision} at ${formatUtc(vote.decidedAt)}`) : ["  none"]),
    "",
    `Workflow:   ${request.stateMachineName}`,
    `Execution:  ${request.executionName}`,
    `Reference:  ${request.id}`,
    "",
    "Your link for this request no longer decides anything.",
  ];
  return { subject: toSnsSubject(`${word}: ${request.title}`), message: lines.join("\n"), recipients };
}
