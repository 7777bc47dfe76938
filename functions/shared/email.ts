/**
 * Every email the stack sends: the approval request (one per approver, with that approver's own
 * link), the requester's "others decide" notice, and the outcome notice. Plain text: SNS email.
 */
import type { ApprovalRequest } from "./approvalRequest";
import type { Publish } from "./publisher";
import { effectiveState } from "./lifecycle";
import { reviewLinks } from "./links";
import type { Escalation } from "./policy";
import { policyLines } from "./policyText";
import type { ShownValue } from "./inputView";
import { counted, fingerprintOf, formatRemaining, formatUtc, oneLine, visible } from "./text";

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
const asciiLine = (text: string) =>
  text
    .normalize("NFKD")
    .replace(/[^\x20-\x7E]/g, "")
    .replace(/\s+/g, " ")
    .trim();

export function toSnsSubject(text: string): string {
  const ascii = asciiLine(text);
  const fitted = ascii.length > 99 ? ascii.slice(0, 96).trimEnd() + "..." : ascii;
  return /^[A-Za-z0-9\p{P}]/u.test(fitted) ? fitted : "Approval needed";
}

const STACK_LABEL_MAX = 40;

/** The stack that asks (STACK_LABEL, e.g. "prod" or "dev"): one printable line, at most 40 characters; none when unset. */
export function stackLabelFromEnvironment(env: Record<string, string | undefined>): string | undefined {
  const label = asciiLine(env.STACK_LABEL ?? "").slice(0, STACK_LABEL_MAX).trim();
  return label === "" ? undefined : label;
}

/** Every email's subject names the stack first, so an inbox tells prod from dev: "[prod] Approval needed: …". */
export function labelledSubject(subject: string, stackLabel: string | undefined): string {
  return stackLabel ? toSnsSubject(`[${stackLabel}] ${subject}`) : subject;
}

/** A publisher that puts the stack's label in front of every subject. */
export function labelledPublisher(publish: Publish, stackLabel: string | undefined): Publish {
  return stackLabel ? (email) => publish({ ...email, subject: labelledSubject(email.subject, stackLabel) }) : publish;
}

/** What settles the request: today's quorum line, or the policy's stages and rules. */
function needsLines(request: ApprovalRequest): string[] {
  return request.policy ? policyLines(request).map((line, index) => `${index === 0 ? "Needs:      " : "            "}${line}`) : [quorumLine(request)];
}

function quorumLine(request: ApprovalRequest): string {
  const asked = request.approvers.length;
  return request.requiredApprovals === 1
    ? `Needs:      1 approval (any one of ${asked} approver${asked === 1 ? "" : "s"}); the first rejection rejects`
    : `Needs:      ${request.requiredApprovals} approvals of ${asked} approvers; the first rejection rejects`;
}

/** Text that someone other than this stack wrote (the requester, an approver), as plain-text email lines. */
const QUOTE = "  | ";

/** Lines of a value as `key: value`, nested values indented below their key, lists as `- item`. */
function valueLines(label: string, value: ShownValue, indent: string): string[] {
  if ("literal" in value) return [`${indent}${label}${value.literal}`];
  if ("text" in value) {
    const more = value.cut ? ` … (${counted(value.cut, "more character")} not shown)` : "";
    const lines = visible(value.text, "multiline").split("\n");
    if (lines.length === 1) return [`${indent}${label}${value.text === "" && !more ? '""' : lines[0]}${more}`];
    return [`${indent}${label.trimEnd()}`, ...lines.map((line, index) => `${indent}  ${line}${index === lines.length - 1 ? more : ""}`)];
  }
  const children = "fields" in value ? value.fields.flatMap((field) => valueLines(`${oneLine(field.key)}: `, field.value, `${indent}  `)) : value.items.flatMap((item) => valueLines("- ", item, `${indent}  `));
  const empty = children.length === 0 && !value.cut ? ("fields" in value ? " {}" : " []") : "";
  const more = value.cut ? [`${indent}  … (${counted(value.cut, "more " + ("fields" in value ? "field" : "item"))} not shown)`] : [];
  return [`${indent}${label.trimEnd()}${empty}`, ...children, ...more];
}

/** Every input field shown to approvers, as `key: value` lines. */
export function inputLines(request: Pick<ApprovalRequest, "inputView" | "details">): string[] {
  if (!request.inputView) return request.details ? visible(request.details, "multiline").split("\n") : [];
  const lines = request.inputView.fields.flatMap((field) => valueLines(`${oneLine(field.key)}: `, field.value, ""));
  if (request.inputView.cut) lines.push(`… (${counted(request.inputView.cut, "more field")} not shown)`);
  return lines;
}

/**
 * What the requester wrote (title, description, every field), quoted: each line starts with "  | ",
 * so nothing in it can pass for this email's own text, such as a "Review and decide" link.
 */
function askedLines(request: ApprovalRequest): string[] {
  const description = request.description ? ["", ...visible(request.description, "multiline").split("\n")] : [];
  const fields = inputLines(request);
  const quoted = [oneLine(request.title), ...description, ...(fields.length ? ["", ...fields] : [])];
  return quoted.map((line) => `${QUOTE}${line}`.trimEnd());
}

/** The fingerprint line: the same characters the review page shows, from the digest the workflow receives. */
function fingerprintLines(request: ApprovalRequest): string[] {
  const fingerprint = fingerprintOf(request.inputDigest);
  return fingerprint ? [`Fingerprint: ${fingerprint} (the start of the input's SHA-256; the review page shows the same)`] : [];
}

export function requestLines(request: ApprovalRequest, now: Date): string[] {
  return [
    `Requested by: ${request.requestedBy ? oneLine(request.requestedBy) : `not stated (started by the workflow ${request.stateMachineName})`}`,
    `Expires:    ${formatUtc(request.expiresAt)} (in ${formatRemaining(request.expiresAt, now)})`,
    ...needsLines(request),
    ...fingerprintLines(request),
    "",
    "What is asked, as the requester wrote it:",
    ...askedLines(request),
    "",
    `Workflow:   ${request.stateMachineName}`,
    `Execution:  ${request.executionName}`,
    `Reference:  ${request.id}`,
    `Requested:  ${formatUtc(request.createdAt)}`,
  ];
}

/**
 * The approver's own link comes first, before anything the requester wrote, on a line of its own;
 * the request follows, quoted. The subject already names the request, so the body does not repeat it.
 */
export function composeApprovalEmail(request: ApprovalRequest, approver: string, linkId: string, callbackUrl: string, subjectTemplate: string, now: Date): OutgoingEmail {
  const links = reviewLinks(callbackUrl, linkId);
  const lines = [
    `You are asked to approve or reject the request below, as ${approver}.`,
    "",
    `Review and decide (this link is yours, ${approver}: it records your vote, so do not forward it; opening it decides nothing):`,
    links.review,
    "",
    ...requestLines(request, now),
    "",
    "The same page, with a button already chosen (you still press it):",
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
    "You asked for this approval. You cannot approve your own request; the other approvers decide. You will be told the outcome.",
    "",
    ...requestLines(request, now),
  ];
  return { subject: toSnsSubject(`Approval requested: ${request.title}`), message: lines.join("\n"), recipients: [requester] };
}

/** An approver's comment, quoted like the requester's text. */
const quoted = (text: string) => visible(text, "multiline").split("\n").map((line) => `${QUOTE}${line}`.trimEnd());

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
    ...(delivered && output
      ? [`${word} by ${output.decidedBy} at ${formatUtc(output.decidedAt)}.`, ...(output.comment ? ["Their comment:", ...quoted(output.comment)] : [])]
      : [request.closedReason ?? "Nobody decided it before it expired."]),
    "",
    "Votes:",
    ...(request.votes.length ? request.votes.flatMap((vote) => [`  ${vote.approver}: ${vote.decision} at ${formatUtc(vote.decidedAt)}`, ...(request.policy && vote.comment ? quoted(vote.comment) : [])]) : ["  none"]),
    ...(request.policy ? ["", ...policyLines(request)] : []),
    "",
    "The request:",
    `${QUOTE}${oneLine(request.title)}`,
    ...fingerprintLines(request),
    "",
    `Workflow:   ${request.stateMachineName}`,
    `Execution:  ${request.executionName}`,
    `Reference:  ${request.id}`,
    "",
    "Your link for this request no longer decides anything.",
  ];
  return { subject: toSnsSubject(`${word}: ${request.title}`), message: lines.join("\n"), recipients };
}

/** A rule escalated: the asked approvers and the requester hear who else is asked now (the new approvers get their own links). */
export function composeEscalationNotice(request: ApprovalRequest, recipients: string[], escalations: readonly Escalation[]): OutgoingEmail {
  const lines = [
    ...escalations.map((escalation) => `Stage ${escalation.stage}: ${escalation.group} did not reach its approvals in time, so ${escalation.escalateTo} is asked too${escalation.asked.length ? ` (${escalation.asked.join(", ")})` : ""}; their approvals count toward ${escalation.group}.`),
    "",
    ...policyLines(request),
    "",
    "The request:",
    `${QUOTE}${oneLine(request.title)}`,
    ...fingerprintLines(request),
    `Reference:  ${request.id}`,
    "",
    "Nothing changes for your vote: use the link from your first email.",
  ];
  return { subject: toSnsSubject(`Escalated: ${request.title}`), message: lines.join("\n"), recipients };
}
