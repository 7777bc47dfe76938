import type { ApprovalRequest } from "../shared/approvalRequest";
import { formatRemaining, formatUtc } from "../shared/text";

export interface ApprovalEmail {
  subject: string;
  message: string;
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

/** The review link and two shortcuts that only preselect a button: GET never decides. */
export function reviewLinks(callbackUrl: string, requestId: string) {
  const review = `${callbackUrl}/requests/${requestId}`;
  return { review, approve: `${review}?choice=approve`, reject: `${review}?choice=reject` };
}

export function composeApprovalEmail(request: ApprovalRequest, callbackUrl: string, subjectTemplate: string, now: Date): ApprovalEmail {
  const links = reviewLinks(callbackUrl, request.id);
  const lines = [
    `Approval needed: ${request.title}`,
    "",
    ...(request.description ? [request.description, ""] : []),
    ...(request.details ? ["Details:", request.details, ""] : []),
    `Workflow:   ${request.stateMachineName}`,
    `Execution:  ${request.executionName}`,
    `Requested:  ${formatUtc(request.createdAt)}`,
    `Expires:    ${formatUtc(request.expiresAt)} (in ${formatRemaining(request.expiresAt, now)})`,
    "",
    "Review and decide (the page asks you to confirm; opening a link decides nothing):",
    links.review,
    "",
    `Approve: ${links.approve}`,
    `Reject:  ${links.reject}`,
    "",
    "If you did not expect this request, do nothing: it expires on its own.",
  ];
  return {
    subject: toSnsSubject(subjectTemplate.split("{title}").join(request.title)),
    message: lines.join("\n"),
  };
}
