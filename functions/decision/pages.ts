import { createHash } from "node:crypto";
import type { PublicApprovalRequest } from "../shared/approvalRequest";
import { formatRemaining, formatUtc } from "../shared/text";
import { COMMENT_MAX_LENGTH } from "./decisionBody";
import type { Outcome } from "./outcome";

/** The words of an answer: the page's heading and lead, and the JSON `message`. */
export interface OutcomeText {
  heading: string;
  lead: string;
}

const NOTHING_DECIDED = "Nothing was decided.";

export function describeOutcome(outcome: Outcome): OutcomeText {
  switch (outcome.kind) {
    case "review":
      return { heading: "Approval needed", lead: "Read the request, then approve or reject it. Nothing is decided until you press a button." };
    case "decided": {
      const verb = outcome.request.decision === "approved" ? "Approved" : "Rejected";
      return { heading: verb, lead: `${verb} at ${formatUtc(outcome.request.decidedAt ?? "")}. The workflow has been told; you can close this page.` };
    }
    case "alreadyDecided": {
      const verb = outcome.request.decision === "approved" ? "approved" : "rejected";
      const when = formatUtc(outcome.request.decidedAt ?? "");
      return outcome.onPost
        ? { heading: "Already decided", lead: `This request was already ${verb} at ${when}. Your click changed nothing.` }
        : { heading: `Already ${verb}`, lead: `This request was ${verb} at ${when}.` };
    }
    case "expired":
      return { heading: "This request has expired", lead: `It expired at ${formatUtc(outcome.request.expiresAt)} and the workflow stopped waiting. ${NOTHING_DECIDED}` };
    case "closed":
      return outcome.timedOut
        ? { heading: "The workflow is no longer waiting", lead: `Step Functions reports that this task is over: it timed out or the execution was stopped. ${NOTHING_DECIDED}` }
        : { heading: "This request can no longer be decided", lead: `Step Functions no longer knows the task this request belongs to. ${NOTHING_DECIDED}` };
    case "notFound":
      return { heading: "Request not found", lead: "This link matches no approval request. Check that the whole link was opened; old requests are deleted after their retention period." };
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

function requestFacts(request: PublicApprovalRequest, now: Date): string {
  const expiry = request.status === "PENDING" && Date.parse(request.expiresAt) > now.getTime()
    ? `${formatUtc(request.expiresAt)} (in ${formatRemaining(request.expiresAt, now)})`
    : formatUtc(request.expiresAt);
  const rows: Array<[string, string]> = [
    ["Workflow", request.stateMachineName],
    ["Execution", request.executionName],
    ["Requested", formatUtc(request.createdAt)],
    ["Expires", expiry],
  ];
  if (request.decision) {
    rows.push(["Decision", `${request.decision} at ${formatUtc(request.decidedAt ?? "")}`]);
    if (request.comment) rows.push(["Comment", request.comment]);
  }
  return `<dl>${rows.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`).join("")}</dl>`;
}

function requestSection(request: PublicApprovalRequest, now: Date): string {
  return [
    `<h2>${escapeHtml(request.title)}</h2>`,
    `<p><span class="status">Status: ${escapeHtml(request.status.toLowerCase())}</span></p>`,
    request.description ? `<p>${escapeHtml(request.description)}</p>` : "",
    request.details ? `<pre>${escapeHtml(request.details)}</pre>` : "",
    requestFacts(request, now),
  ].join("\n");
}

/** No `action`: the form posts back to the very URL the page was served from, on every transport. */
function decisionForm(preselected: "approve" | "reject" | undefined): string {
  const button = (choice: "approve" | "reject", label: string) =>
    `<button type="submit" name="decision" value="${choice}" class="${choice}${preselected === choice ? " chosen" : ""}"${preselected === choice ? " autofocus" : ""}>${label}</button>`;
  const hint = preselected ? `<p class="muted">You followed the ${preselected} link. Press ${preselected === "approve" ? "Approve" : "Reject"} to confirm.</p>` : "";
  return `<form method="post">
${hint}
<label for="comment">Comment <span class="muted">(optional, up to ${COMMENT_MAX_LENGTH} characters)</span></label>
<textarea id="comment" name="comment" maxlength="${COMMENT_MAX_LENGTH}"></textarea>
<div class="actions">${button("approve", "Approve")}${button("reject", "Reject")}</div>
</form>`;
}

export function renderPage(outcome: Outcome, now: Date): string {
  const { heading, lead } = describeOutcome(outcome);
  const request = "request" in outcome ? outcome.request : undefined;
  const body = [
    `<h1>${escapeHtml(heading)}</h1>`,
    `<p class="lead">${escapeHtml(lead)}</p>`,
    request ? requestSection(request, now) : "",
    outcome.kind === "review" ? decisionForm(outcome.preselected) : "",
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
