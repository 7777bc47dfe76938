import { createHash } from "node:crypto";
import type { PublicApprovalRequest } from "../shared/approvalRequest";
import type { EffectiveState } from "../shared/lifecycle";
import { formatRemaining, formatUtc } from "../shared/text";
import { COMMENT_MAX_LENGTH } from "./decisionBody";
import type { Outcome } from "./outcome";

/** The words of an answer: the page's heading and lead, and the JSON `message`. */
export interface OutcomeText {
  heading: string;
  lead: string;
}

const NOTHING_DECIDED = "Nothing was decided.";
const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function settledText(request: PublicApprovalRequest, state: EffectiveState): string {
  const output = request.settlement?.output;
  if ((state === "approved" || state === "rejected") && output) {
    return `${capitalised(state)} by ${output.decidedBy} at ${formatUtc(output.decidedAt)}; the workflow received this decision.`;
  }
  if (state === "expired") return `It expired at ${formatUtc(request.expiresAt)}. ${request.closedReason ?? "Nobody settled it in time."} The workflow received "expired".`;
  if (state === "withdrawn") return `It was withdrawn: ${request.closedReason ?? "the execution was stopped"}. The workflow received no decision.`;
  if (state === "closed") return `${request.closedReason ?? "The workflow can no longer receive a decision."} The workflow received no decision.`;
  return "";
}

const STATE_HEADINGS: Record<EffectiveState, string> = {
  pending: "Approval needed",
  settling: "Decision being delivered",
  approved: "Approved",
  rejected: "Rejected",
  expired: "This request has expired",
  withdrawn: "This request was withdrawn",
  closed: "This request can no longer be decided",
};

function describeRequest(outcome: Extract<Outcome, { kind: "request" }>): OutcomeText {
  const { request, state, answer } = outcome;
  const heading = STATE_HEADINGS[state];
  const settled = settledText(request, state);
  const ownVote = request.votes.find((vote) => vote.approver === outcome.approver);
  switch (answer.type) {
    case "notAsked":
      return { heading: "Not your request to decide", lead: `${outcome.approver} is not among the approvers asked for this request. ${NOTHING_DECIDED}` };
    case "selfApproval":
      return { heading: "You cannot approve your own request", lead: `${outcome.approver} asked for this approval; the other approvers decide. Your vote was not recorded.` };
    case "conflictingVote":
      return { heading: "You already voted", lead: `You already ${answer.previous} this request; a vote cannot be changed. Your new choice and comment were not recorded.` };
    case "deliveryPending":
      return { heading: "Vote recorded; the workflow was not told yet", lead: `Your vote is recorded and settles the request, but the workflow could not be told yet. Reload this page in a few seconds to finish; nothing else is needed from you.` };
    case "notOpen":
      return state === "settling"
        ? { heading, lead: "This request was already settled by other votes; its decision is being delivered. Your click changed nothing." }
        : { heading, lead: `${settled} Your click changed nothing.` };
    case "voteRecorded":
    case "alreadyRecorded": {
      const again = answer.type === "alreadyRecorded" ? "Your vote was already recorded" : "Your vote is recorded";
      if (state === "pending") return { heading: "Vote recorded", lead: `${again}: ${ownVote?.decision ?? "voted"}. ${progress(request)} You will be told the outcome.` };
      if (state === "settling") return { heading, lead: `${again}. The request is settled; the workflow has not confirmed it yet. Reload this page in a few seconds.` };
      return { heading, lead: `${again}. ${settled}` };
    }
    case "show":
      if (state === "pending") {
        return ownVote
          ? { heading: "Vote recorded", lead: `You ${ownVote.decision} this request at ${formatUtc(ownVote.decidedAt)}. ${progress(request)}` }
          : { heading, lead: "Read the request, then approve or reject it. Nothing is decided until you press a button." };
      }
      if (state === "settling") return { heading, lead: "The votes settled this request; the workflow has not confirmed it yet. Reload this page in a few seconds." };
      return { heading, lead: settled };
  }
}

function progress(request: PublicApprovalRequest): string {
  const approvals = request.votes.filter((vote) => vote.decision === "approved").length;
  return `${approvals} of ${request.requiredApprovals} approval${request.requiredApprovals === 1 ? "" : "s"} so far.`;
}

export function describeOutcome(outcome: Outcome, _now?: Date): OutcomeText {
  switch (outcome.kind) {
    case "request":
      return describeRequest(outcome);
    case "notFound":
      return { heading: "Request not found", lead: "This link matches no approval request. Check that the whole link was opened; old requests are deleted after their retention period." };
    case "removedApprover":
      return { heading: "This link no longer works", lead: `The approver this link was sent to is no longer an approver of this workflow. ${NOTHING_DECIDED}` };
    case "invalid":
      return { heading: outcome.statusCode === 403 ? "Decision refused" : "The request could not be understood", lead: `${outcome.message} ${NOTHING_DECIDED}` };
    case "methodNotAllowed":
      return { heading: "Method not allowed", lead: "Open the link in a browser and use the buttons on the page." };
    case "unavailable":
      return { heading: "Temporarily unavailable", lead: `A service this page depends on is busy. ${NOTHING_DECIDED} Please try again in a minute.` };
    case "failed":
      return { heading: "Something went wrong on our side", lead: `${NOTHING_DECIDED} Try again later; if it keeps failing, tell the owner of the workflow.` };
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const STYLE = `
:root{color-scheme:light dark;--accent:#0b5cad;--ok:#1a7f37;--no:#b42318;--muted:#57606a;--line:#d0d7de}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.6rem;margin:.2rem 0 .5rem}h2{font-size:1.2rem;margin:1.2rem 0 .4rem}
.lead{font-size:1.05rem}.muted{color:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:1rem 0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid var(--line);border-radius:6px;padding:.75rem;max-height:24rem;overflow:auto}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
textarea{width:100%;min-height:5rem;font:inherit;padding:.5rem;border:1px solid var(--line);border-radius:6px}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}
button{font:inherit;font-weight:600;padding:.7rem 1.4rem;border-radius:6px;border:2px solid transparent;color:#fff;cursor:pointer;min-width:8rem}
button.approve{background:var(--ok)}button.reject{background:var(--no)}
button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.chosen{border-color:currentColor;box-shadow:0 0 0 3px var(--accent)}
.status{display:inline-block;padding:.1rem .6rem;border-radius:999px;border:1px solid var(--line);font-size:.9rem}
.description{white-space:pre-line}.votes{padding-left:1.2rem}
`;
/** Pages carry one inline style and no script; the CSP allows exactly that style by its hash. */
const STYLE_HASH = createHash("sha256").update(STYLE, "utf8").digest("base64");
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

function requestFacts(request: PublicApprovalRequest, approver: string, state: EffectiveState, now: Date): string {
  const expiry = state === "pending" ? `${formatUtc(request.expiresAt)} (in ${formatRemaining(request.expiresAt, now)})` : formatUtc(request.expiresAt);
  const rows: Array<[string, string]> = [
    ["This link is for", approver],
    ...(request.requestedBy ? [["Requested by", request.requestedBy] as [string, string]] : []),
    ["Needs", `${request.requiredApprovals} approval${request.requiredApprovals === 1 ? "" : "s"} of ${request.approvers.length} approver${request.approvers.length === 1 ? "" : "s"}; the first rejection rejects`],
    ["Workflow", request.stateMachineName],
    ["Execution", request.executionName],
    ["Reference", request.id],
    ["Requested", formatUtc(request.createdAt)],
    ["Expires", expiry],
  ];
  return `<dl>${rows.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`).join("")}</dl>`;
}

function votesSection(request: PublicApprovalRequest): string {
  const approvals = request.votes.filter((vote) => vote.decision === "approved").length;
  const items = request.votes.map((vote) =>
    `<li><strong>${escapeHtml(vote.approver)}</strong> ${escapeHtml(vote.decision)} at ${escapeHtml(formatUtc(vote.decidedAt))}${vote.comment ? `: <q>${escapeHtml(vote.comment)}</q>` : ""}</li>`,
  );
  return `<h2>Votes: ${approvals} of ${request.requiredApprovals} approval${request.requiredApprovals === 1 ? "" : "s"}</h2>
${items.length ? `<ul class="votes">${items.join("")}</ul>` : `<p class="muted">No votes yet.</p>`}`;
}

function requestSection(outcome: Extract<Outcome, { kind: "request" }>, now: Date): string {
  const { request, state } = outcome;
  return [
    `<h2>${escapeHtml(request.title)}</h2>`,
    `<p><span class="status">Status: ${escapeHtml(state)}</span></p>`,
    request.description ? `<p class="description">${escapeHtml(request.description)}</p>` : "",
    request.details ? `<pre>${escapeHtml(request.details)}</pre>` : "",
    requestFacts(request, outcome.approver, state, now),
    votesSection(request),
  ].join("\n");
}

/** No `action`: the form posts back to the very URL the page was served from, on every transport. */
function decisionForm(preselected: "approve" | "reject" | undefined): string {
  const button = (choice: "approve" | "reject", label: string) =>
    // No autofocus, even when preselected: a scanner or a stray Enter must never land on a button.
    `<button type="submit" name="decision" value="${choice}" class="${choice}${preselected === choice ? " chosen" : ""}">${label}</button>`;
  const hint = preselected ? `<p class="muted">You followed the ${preselected} link. Press ${preselected === "approve" ? "Approve" : "Reject"} to confirm.</p>` : "";
  return `<form method="post">
${hint}
<label for="comment">Comment <span class="muted">(optional, up to ${COMMENT_MAX_LENGTH} characters)</span></label>
<textarea id="comment" name="comment" maxlength="${COMMENT_MAX_LENGTH}"></textarea>
<div class="actions">${button("approve", "Approve")}${button("reject", "Reject")}</div>
</form>`;
}

export function renderPage(outcome: Outcome, now: Date): string {
  const { heading, lead } = describeOutcome(outcome, now);
  const canVote = outcome.kind === "request" && outcome.state === "pending" && outcome.answer.type === "show" && !outcome.request.votes.some((vote) => vote.approver === outcome.approver);
  const body = [
    `<h1>${escapeHtml(heading)}</h1>`,
    `<p class="lead">${escapeHtml(lead)}</p>`,
    outcome.kind === "request" ? requestSection(outcome, now) : "",
    canVote && outcome.kind === "request" ? decisionForm(outcome.preselected) : "",
  ].join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow">
<title>${escapeHtml(heading)} · Human approval</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}
