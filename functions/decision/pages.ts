/**
 * The decision endpoint's pages, phone first, in the order a decision needs: which stack asks and who,
 * what is asked (title, description, key details), the votes so far and what is still needed, who you
 * vote as beside the buttons, then every field of the input and the fingerprint. Every other page opens
 * with what happened, in a banner whose colour means one thing everywhere (toneOf), and what to do next.
 * One inline style (allowed by its hash), no script, every dynamic value escaped and its invisible
 * characters made visible.
 */
import { createHash } from "node:crypto";
import type { PublicApprovalRequest } from "../shared/approvalRequest";
import { omittedFrom, type InputView, type ShownValue } from "../shared/inputView";
import type { EffectiveState } from "../shared/lifecycle";
import { policyLines } from "../shared/policyText";
import { counted, fingerprintOf, formatRemaining, formatUtc, oneLine, visible } from "../shared/text";
import { COMMENT_MAX_LENGTH } from "./decisionBody";
import type { Outcome } from "./outcome";
import { describeSignIn, isSignInOutcome, signInActions } from "./signIn/signInPages";

/** The words of an answer: the page's heading and lead, and the JSON `message`. */
export interface OutcomeText {
  heading: string;
  lead: string;
  /** Shown back under the lead: the comment of a vote that was not recorded. */
  quote?: string;
}

/** What every page is rendered with besides the outcome. */
export interface PageContext {
  /** The stack (environment) that asks, e.g. "prod": on every page, so nobody approves prod thinking it is dev. */
  stackLabel?: string;
}

type RequestOutcome = Extract<Outcome, { kind: "request" }>;

const NOTHING_DECIDED = "Nothing was decided.";
const NOT_RECORDED = "Your vote and your comment were not recorded.";
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

function describeRequest(outcome: RequestOutcome, now: Date): OutcomeText {
  const { request, state, answer } = outcome;
  const heading = STATE_HEADINGS[state];
  const settled = settledText(request, state);
  const ownVote = request.votes.find((vote) => vote.approver === outcome.approver);
  switch (answer.type) {
    case "notAsked":
      return { heading: "Not your request to decide", lead: `${outcome.approver} is not among the approvers asked for this request. ${NOT_RECORDED} ${NOTHING_DECIDED}` };
    case "selfApproval":
      return { heading: "You cannot approve your own request", lead: `${outcome.approver} asked for this approval; the other approvers decide. ${NOT_RECORDED}` };
    case "conflictingVote": {
      const when = ownVote ? ` at ${formatUtc(ownVote.decidedAt)}` : "";
      return {
        heading: `Your ${attemptedWord(outcome)} was not recorded: you already ${answer.previous} this request${when}`,
        lead: `A vote cannot be changed; your first vote stands.${commentNote(outcome)}`,
        ...quoteOf(outcome),
      };
    }
    case "reasonRequired":
      return {
        heading: `A reason is required to ${answer.decision === "approved" ? "approve" : "reject"}`,
        lead: `Policy ${request.policy?.name ?? ""} needs a comment saying why. ${NOT_RECORDED} Go back, write the reason in the comment box and press the button again.`,
      };
    case "deliveryPending":
      return { heading: "Vote recorded; the workflow was not told yet", lead: `Your vote is recorded and settles the request, but the workflow could not be told yet. It is delivered without you within a few minutes. Reload this page to see it; nothing else is needed from you.` };
    case "notOpen":
      if (outcome.attempted) return lateVote(outcome, now);
      return state === "settling"
        ? { heading, lead: `This request was already settled by other votes; its decision is being delivered. Your click changed nothing: ${NOT_RECORDED.charAt(0).toLowerCase()}${NOT_RECORDED.slice(1)}` }
        : { heading, lead: `${settled} Your click changed nothing: ${NOT_RECORDED.charAt(0).toLowerCase()}${NOT_RECORDED.slice(1)}` };
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
          : { heading, lead: "Read the request and its details, then approve or reject it. Nothing is decided until you press a button." };
      }
      if (state === "settling") return { heading, lead: "The votes settled this request; the workflow has not confirmed it yet. Reload this page in a few seconds." };
      return { heading, lead: settled };
  }
}

const ATTEMPTED_WORDS = { approved: "approval", rejected: "rejection" } as const;
const attemptedWord = (outcome: RequestOutcome) => (outcome.attempted ? ATTEMPTED_WORDS[outcome.attempted.decision] : "vote");
const quoteOf = (outcome: RequestOutcome) => (outcome.attempted?.comment ? { quote: outcome.attempted.comment } : {});
const commentNote = (outcome: RequestOutcome) => (outcome.attempted?.comment ? " Your comment was not recorded either:" : "");
/** "17:46", or the whole date and time when it was not today (UTC). */
function shortTime(iso: string, now: Date): string {
  const full = formatUtc(iso);
  return iso.slice(0, 10) === now.toISOString().slice(0, 10) ? `${iso.slice(11, 16)} UTC` : full;
}

/**
 * A vote that came too late: headed by what happened to *this* vote, then why, in neutral colours:
 * the request's outcome is someone else's, and this approver's action did not succeed.
 */
function lateVote(outcome: RequestOutcome, now: Date): OutcomeText {
  const { request, state } = outcome;
  const word = attemptedWord(outcome);
  const output = request.settlement?.output;
  const because =
    (state === "approved" || state === "rejected") && output
      ? `${output.decidedBy} ${state} at ${shortTime(output.decidedAt, now)}`
      : state === "settling"
        ? "other votes already settled this request"
        : state === "expired"
          ? `the request expired at ${shortTime(request.expiresAt, now)}`
          : state === "withdrawn"
            ? "the request was withdrawn"
            : "the workflow can no longer receive a decision";
  const settled = (state === "approved" || state === "rejected") && output ? "The workflow received that decision." : settledText(request, state) || "Its decision is being delivered.";
  return { heading: `Your ${word} was not recorded: ${because}`, lead: `${settled} Your click changed nothing.${commentNote(outcome)}`, ...quoteOf(outcome) };
}

function progress(request: PublicApprovalRequest): string {
  const approvals = request.votes.filter((vote) => vote.decision === "approved").length;
  return `${approvals} of ${request.requiredApprovals} approval${request.requiredApprovals === 1 ? "" : "s"} so far.`;
}

export function describeOutcome(outcome: Outcome, now: Date = new Date()): OutcomeText {
  if (isSignInOutcome(outcome)) return describeSignIn(outcome);
  switch (outcome.kind) {
    case "request":
      return describeRequest(outcome, now);
    case "notFound":
      return {
        heading: "Request not found",
        lead: `This link matches no approval request. ${NOTHING_DECIDED} Open the link from your email again, in one piece (some mail programs split long lines); requests are deleted some time after they end. If it still fails, ask whoever requested the approval.`,
      };
    case "removedApprover":
      return { heading: "This link no longer works", lead: `The approver this link was sent to is no longer an approver of this workflow. ${NOTHING_DECIDED} If you should still decide, ask the owner of the workflow to add you back.` };
    case "invalid":
      return { heading: outcome.statusCode === 403 ? "Decision refused" : "The request could not be understood", lead: `${outcome.message} ${NOTHING_DECIDED} ${nextStepFor(outcome.statusCode)}` };
    case "methodNotAllowed":
      return { heading: "Method not allowed", lead: `${NOTHING_DECIDED} Open the link in a browser and use the buttons on the page.` };
    case "unavailable":
      return { heading: "Temporarily unavailable", lead: `A service this page depends on is busy. ${NOTHING_DECIDED} Please try again in a minute.` };
    case "failed":
      return { heading: "Something went wrong on our side", lead: `${NOTHING_DECIDED} Try again later; if it keeps failing, tell the owner of the workflow.` };
    default:
      return { heading: "This link could not be opened", lead: `${NOTHING_DECIDED} Open the link from your email again; if it keeps failing, tell the owner of the workflow.` };
  }
}

function nextStepFor(statusCode: number): string {
  if (statusCode === 403) return "Open the review page and press a button there.";
  if (statusCode === 413) return "Shorten the comment and send it again from the review page.";
  return "Go back to the review page and press a button there.";
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
/** Escaped, with invisible and control characters shown (`[U+202E]`). */
const html = (value: string, lines: "multiline" | "oneLine" = "oneLine") => escapeHtml(lines === "oneLine" ? oneLine(value) : visible(value, "multiline"));

// Colours meet WCAG AA contrast in both schemes (axe-core checks every page state in Chromium).
const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--field:#6e7781;--link:#0a5bb8;--focus:#0a5bb8;
--ok:#1a7f37;--no:#c0231b;--late:#8a5a00;--off:#57606a;--info:#0a5bb8;--urgent:#c0231b;
--ok-bg:#dafbe1;--no-bg:#ffebe9;--late-bg:#fff5c2;--off-bg:#eef1f4;--info-bg:#ddf4ff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#a4adb8;--line:#3d444d;--field:#8b949e;--link:#6cb6ff;--focus:#6cb6ff;--urgent:#ff8e86;
--ok-bg:#10301c;--no-bg:#3d1518;--late-bg:#372a08;--off-bg:#232a33;--info-bg:#0d2d50}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:42rem;margin:0 auto;padding:1rem 1rem 3rem}
a{color:var(--link)}a:focus-visible,summary:focus-visible,textarea:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}h2.votes-heading{margin:1rem 0 .25rem}
.kicker{margin:0;font-size:.9rem;font-weight:700;letter-spacing:.04em;text-transform:uppercase;color:var(--muted)}
.title{font-size:1.3rem;font-weight:600;margin:1rem 0 .25rem;overflow-wrap:anywhere}
.meta{margin:.2rem 0}
.context{margin:0 0 .25rem;font-size:.9rem;color:var(--muted)}.context .stack{color:var(--fg);overflow-wrap:anywhere}
.addr>span{overflow-wrap:break-word}
.identity{margin:.75rem 0 .25rem}
.needs{margin:.25rem 0}
blockquote.yours{margin:.5rem 0;padding:.25rem .75rem;border-left:3px solid var(--field)}blockquote.yours p{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.expiry{margin:.2rem 0}.expiry.soon strong{color:var(--urgent)}
.muted{color:var(--muted)}
.banner{display:flex;gap:.85rem;align-items:flex-start;margin:.25rem 0 1rem;padding:1rem;border-radius:8px;border-left:6px solid var(--tone);background:var(--tone-bg)}
.banner>div{min-width:0}.banner h1{margin:0 0 .25rem}.banner p{margin:.25rem 0}
.mark{flex:none;display:flex;align-items:center;justify-content:center;width:2.5rem;height:2.5rem;border-radius:50%;background:var(--tone);color:#fff;font-size:1.4rem;font-weight:700}
.t-ok{--tone:var(--ok);--tone-bg:var(--ok-bg)}.t-no{--tone:var(--no);--tone-bg:var(--no-bg)}.t-late{--tone:var(--late);--tone-bg:var(--late-bg)}
.t-off{--tone:var(--off);--tone-bg:var(--off-bg)}.t-info{--tone:var(--info);--tone-bg:var(--info-bg)}
.description p{margin:.5rem 0}.description ul,.description ol{margin:.5rem 0;padding-left:1.5rem}
form{margin:1rem 0}
label{display:block;font-weight:600;margin:.75rem 0 .3rem}
textarea{display:block;width:100%;min-height:3.5rem;font:inherit;padding:.5rem;color:inherit;background:var(--bg);border:1px solid var(--field);border-radius:6px}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:.75rem}
button{font:inherit;font-weight:700;padding:.7rem 1.4rem;min-height:2.75rem;min-width:8rem;flex:1 1 8rem;border-radius:6px;border:0;color:#fff;cursor:pointer}
button.approve{background:var(--ok)}button.reject{background:var(--no)}
button:focus-visible{outline:3px solid var(--focus);outline-offset:3px}
button.chosen{box-shadow:0 0 0 3px var(--bg),0 0 0 6px var(--focus)}
.hint{margin:.5rem 0;font-weight:600}
dl{margin:.5rem 0}dt{font-weight:600;overflow-wrap:anywhere}dd{margin:0;overflow-wrap:anywhere;min-width:0}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem}.facts.key{margin:.75rem 0}
.fields>div{display:grid;grid-template-columns:minmax(0,11rem) minmax(0,1fr);gap:.1rem 1rem;padding:.4rem 0;border-top:1px solid var(--line)}
.fields .fields{margin:0;padding-left:.75rem;border-left:3px solid var(--line)}
.fields .fields>div{grid-template-columns:minmax(0,8rem) minmax(0,1fr)}
@media (max-width:32rem){.fields>div,.fields .fields>div{grid-template-columns:minmax(0,1fr)}}
.text{white-space:pre-wrap}.items{margin:0;padding-left:1.5rem}
details{margin:0}summary{cursor:pointer}summary .more{color:var(--link);text-decoration:underline}
.cut,.notice{font-style:italic}.notice{padding:.5rem .75rem;border-left:4px solid var(--late);background:var(--late-bg)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em}
.legacy{white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
.votes{padding-left:1.2rem}.votes q{white-space:pre-wrap}
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

/** A text longer than this, or with more lines, is folded behind a "show all". */
const FOLD_CHARACTERS = 280;
const FOLD_LINES = 6;
/** A nested object or list with more rows than this is folded. */
const FOLD_ROWS = 12;
const PREVIEW_CHARACTERS = 100;

function cutNote(cut: number | undefined, unit: string): string {
  return cut ? ` <span class="cut">… ${escapeHtml(counted(cut, `more ${unit}`))} not shown</span>` : "";
}

function textValue(value: { text: string; cut?: number }): string {
  if (value.text === "" && !value.cut) return `<span class="muted">(empty)</span>`;
  const text = visible(value.text, "multiline");
  const lines = text.split("\n");
  const cut = cutNote(value.cut, "character");
  if (Array.from(text).length <= FOLD_CHARACTERS && lines.length <= FOLD_LINES) return `<span class="text">${escapeHtml(text)}</span>${cut}`;
  const preview = Array.from(oneLine(text)).slice(0, PREVIEW_CHARACTERS).join("");
  const size = `${counted(Array.from(text).length + (value.cut ?? 0), "character")}${lines.length > 1 ? `, ${counted(lines.length, "line")}` : ""}`;
  return `<details><summary><span class="preview">${escapeHtml(preview)}…</span> <span class="more">show all (${escapeHtml(size)})</span></summary><div class="text">${escapeHtml(text)}</div>${cut}</details>`;
}

function rowsOf(value: ShownValue): number {
  if ("fields" in value) return value.fields.reduce((sum, field) => sum + rowsOf(field.value), 0) + 1;
  if ("items" in value) return value.items.reduce((sum, item) => sum + rowsOf(item), 0) + 1;
  return 1;
}

function fieldList(fields: Array<{ key: string; value: ShownValue }>, cut: number | undefined): string {
  const rows = fields.map((field) => `<div><dt>${field.key === "" ? `<span class="muted">(no name)</span>` : html(field.key)}</dt><dd>${shownValue(field.value)}</dd></div>`);
  return `<dl class="fields">${rows.join("")}</dl>${cut ? `<p class="cut">… ${escapeHtml(counted(cut, "more field"))} not shown</p>` : ""}`;
}

function shownValue(value: ShownValue): string {
  if ("literal" in value) return `<code>${escapeHtml(value.literal)}</code>`;
  if ("text" in value) return textValue(value);
  const isObject = "fields" in value;
  const entries = isObject ? value.fields.length : value.items.length;
  if (entries === 0 && !value.cut) return `<span class="muted">${isObject ? "(no fields)" : "(empty list)"}</span>`;
  const inner = isObject
    ? fieldList(value.fields, value.cut)
    : `<ol class="items">${value.items.map((item) => `<li>${shownValue(item)}</li>`).join("")}</ol>${cutNote(value.cut, "item")}`;
  if (rowsOf(value) <= FOLD_ROWS) return inner;
  const size = isObject ? counted(entries + (value.cut ?? 0), "field") : counted(entries + (value.cut ?? 0), "item");
  return `<details><summary><span class="more">show ${escapeHtml(size)}</span></summary>${inner}</details>`;
}

const BULLET = /^\s*[-*•]\s+/;
const NUMBERED = /^\s*\d+[.)]\s+/;

/** Paragraphs at blank lines, lists where lines start with "- ", "* ", "• " or "1. ", other line breaks kept. */
export function descriptionHtml(description: string): string {
  const blocks: string[] = [];
  let run: { kind: "p" | "ul" | "ol"; lines: string[] } | undefined;
  const flush = () => {
    if (!run) return;
    blocks.push(run.kind === "p" ? `<p>${run.lines.map(escapeHtml).join("<br>")}</p>` : `<${run.kind}>${run.lines.map((line) => `<li>${escapeHtml(line)}</li>`).join("")}</${run.kind}>`);
    run = undefined;
  };
  for (const line of visible(description, "multiline").trim().split("\n")) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    const kind = BULLET.test(line) ? "ul" : NUMBERED.test(line) ? "ol" : "p";
    if (run?.kind !== kind) flush();
    run ??= { kind, lines: [] };
    run.lines.push(kind === "ul" ? line.replace(BULLET, "") : kind === "ol" ? line.replace(NUMBERED, "") : line);
  }
  flush();
  return blocks.join("");
}

function description(request: PublicApprovalRequest): string {
  if (!request.description) return "";
  const text = visible(request.description, "multiline");
  const body = `<div class="description">${descriptionHtml(text)}</div>`;
  if (Array.from(text).length <= 4 * FOLD_CHARACTERS && text.split("\n").length <= 3 * FOLD_LINES) return body;
  const preview = Array.from(oneLine(text)).slice(0, 2 * PREVIEW_CHARACTERS).join("");
  return `<details class="description"><summary><span class="preview">${escapeHtml(preview)}…</span> <span class="more">show the whole description (${escapeHtml(counted(Array.from(text).length, "character"))})</span></summary>${body}</details>`;
}

function detailsSection(request: PublicApprovalRequest): string {
  const fingerprint = `<p class="muted">Fingerprint <code>${escapeHtml(fingerprintOf(request.inputDigest))}</code>: the same as in your email, and the start of the <code>inputDigest</code> the workflow receives.</p>`;
  const view: InputView | undefined = request.inputView;
  if (!view) {
    const legacy = request.details ? `<pre class="legacy">${html(request.details, "multiline")}</pre>` : `<p class="muted">The input has no other fields.</p>`;
    return `<h2>Details</h2>\n${fingerprint}\n${legacy}`;
  }
  const omitted = omittedFrom(view);
  const notice = omitted ? `<p class="notice">Too large to show in full: ${escapeHtml(omitted)} of the input are not shown here. The fingerprint covers the whole input.</p>` : "";
  const fields = view.fields.length || view.cut ? fieldList(view.fields, view.cut) : `<p class="muted">The input has no other fields.</p>`;
  return `<h2>Details</h2>\n${fingerprint}\n${notice}${fields}`;
}

/**
 * An email address that wraps only after its "@" on a narrow screen, never inside a word: each half
 * keeps together unless it alone is wider than the screen.
 */
function address(value: string): string {
  const text = oneLine(value);
  const at = text.lastIndexOf("@");
  if (at <= 0) return `<span class="addr">${escapeHtml(text)}</span>`;
  return `<span class="addr"><span>${escapeHtml(text.slice(0, at + 1))}</span><wbr><span>${escapeHtml(text.slice(at + 1))}</span></span>`;
}

/** "Requested by …": who asks; the stack is in the context line above. */
function requestedBy(request: PublicApprovalRequest): string {
  return request.requestedBy
    ? `<p class="meta asker">Requested by <strong>${address(request.requestedBy)}</strong></p>`
    : `<p class="meta asker">Requested by <span class="muted">(not stated; started by the workflow ${html(request.stateMachineName)})</span></p>`;
}

/** The stack (environment) that asks, first on every page. */
function contextLine(page: PageContext): string {
  const label = page.stackLabel ? oneLine(page.stackLabel) : "";
  return label ? `<p class="context">Stack <strong class="stack">${escapeHtml(label)}</strong> · human approval</p>` : "";
}

/**
 * Red only when the time left is truly short: under 15 minutes and under a tenth of the request's whole
 * time (a one-hour request turns red in its last 6 minutes, a day-long one in its last 15).
 */
export function expiresSoon(request: Pick<PublicApprovalRequest, "createdAt" | "expiresAt">, now: Date): boolean {
  const left = new Date(request.expiresAt).getTime() - now.getTime();
  const whole = new Date(request.expiresAt).getTime() - new Date(request.createdAt).getTime();
  return left < 15 * 60_000 && left < whole / 10;
}

function expiryLine(request: PublicApprovalRequest, state: EffectiveState, now: Date): string {
  if (state === "pending" || state === "settling") {
    return `<p class="expiry${expiresSoon(request, now) ? " soon" : ""}"><strong>Expires in ${escapeHtml(formatRemaining(request.expiresAt, now))}</strong> <span class="muted">(${escapeHtml(shortTime(request.expiresAt, now))})</span></p>`;
  }
  if (state === "expired") return `<p class="expiry">Expired at ${escapeHtml(formatUtc(request.expiresAt))}</p>`;
  return "";
}

/** What settles the request, in the fewest words that are true for this many approvers. */
export function needsText(request: Pick<PublicApprovalRequest, "requiredApprovals" | "approvers" | "votes">): string {
  const asked = request.approvers.length;
  const approvals = request.votes.filter((vote) => vote.decision === "approved").length;
  if (asked === 1 && request.requiredApprovals === 1) return request.votes.length ? "" : "One approver: their vote decides.";
  const left = request.requiredApprovals - approvals;
  if (request.votes.length === 0) {
    return request.requiredApprovals === 1
      ? `Needs 1 approval, from any of the ${asked} approvers; the first rejection rejects.`
      : `Needs ${request.requiredApprovals} approvals of the ${asked} approvers; the first rejection rejects.`;
  }
  return left > 0 ? `Needs ${left} more approval${left === 1 ? "" : "s"}; the first rejection rejects.` : "";
}

/** The votes so far and what is still needed: before the buttons, so nobody votes without seeing them. */
function votesSection(request: PublicApprovalRequest, now: Date): string {
  const approvals = request.votes.filter((vote) => vote.decision === "approved").length;
  const items = request.votes.map((vote) => `<li><strong>${address(vote.approver)}</strong> ${escapeHtml(vote.decision)} at ${escapeHtml(shortTime(vote.decidedAt, now))}${vote.comment ? `: <q>${html(vote.comment, "multiline")}</q>` : ""}</li>`);
  if (request.policy) return `<h2 class="votes-heading">Votes</h2>
${items.length ? `<ul class="votes">${items.join("")}</ul>` : `<p class="muted">No votes yet.</p>`}
${policyLines(request, now).map((line) => `<p class="needs">${escapeHtml(line)}</p>`).join("\n")}`;
  const needs = needsText(request);
  return `<h2 class="votes-heading">Votes: ${approvals} of ${request.requiredApprovals} approval${request.requiredApprovals === 1 ? "" : "s"}</h2>
${items.length ? `<ul class="votes">${items.join("")}</ul>` : `<p class="muted">No votes yet.</p>`}${needs ? `\n<p class="needs">${escapeHtml(needs)}</p>` : ""}`;
}

const KEY_DETAILS = 6;
const KEY_DETAIL_CHARACTERS = 80;

/** A short one-line value (a version, a service, a ticket), or nothing. */
function shortValue(value: ShownValue): string | undefined {
  if ("literal" in value) return value.literal;
  if ("text" in value && !value.cut && !value.text.includes("\n") && value.text !== "" && Array.from(value.text).length <= KEY_DETAIL_CHARACTERS) return value.text;
  return undefined;
}

/**
 * The key details, before the buttons: the short values of the input's top-level fields and of its
 * objects' (a `details` object's service and version), at most six. Every field follows below in full.
 */
function keyDetails(request: PublicApprovalRequest): string {
  const rows: Array<[string, string]> = [];
  for (const field of request.inputView?.fields ?? []) {
    const short = shortValue(field.value);
    if (short !== undefined) rows.push([field.key, short]);
    else if ("fields" in field.value) for (const child of field.value.fields) {
      const childShort = shortValue(child.value);
      if (childShort !== undefined) rows.push([child.key, childShort]);
    }
  }
  if (rows.length === 0) return "";
  const shown = rows.slice(0, KEY_DETAILS).map(([key, value]) => `<dt>${html(key)}</dt><dd>${html(value)}</dd>`);
  return `<dl class="facts key">${shown.join("")}</dl>`;
}

function requestFacts(request: PublicApprovalRequest, approver: string): string {
  const rows: Array<[string, string]> = [
    ["This link is for", address(approver)],
    ["Approvers asked", request.approvers.map(address).join(", ")],
    ["Fingerprint", `<code>${escapeHtml(fingerprintOf(request.inputDigest))}</code>`],
    ["Workflow", html(request.stateMachineName)],
    ["Execution", html(request.executionName)],
    ["Reference", html(request.id)],
    ["Requested", escapeHtml(formatUtc(request.createdAt))],
    ["Expires", escapeHtml(formatUtc(request.expiresAt))],
  ];
  return `<h2>About this request</h2>\n<dl class="facts">${rows.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${value}</dd>`).join("")}</dl>`;
}

/** Who votes: beside the buttons. With sign-in the provider vouches, so there is nothing to forward. */
function identityLine(outcome: RequestOutcome): string {
  if (outcome.signedIn) {
    return `<p class="identity">Signed in as <strong>${address(outcome.signedIn.email)}</strong>, verified by <strong>${html(outcome.signedIn.issuer)}</strong>.</p>`;
  }
  return `<p class="identity">You vote as <strong>${address(outcome.approver)}</strong>. This link is yours alone: do not forward it.</p>`;
}

/** No `action`: the form posts back to the very URL the page was served from, on every transport. */
function decisionForm(outcome: RequestOutcome): string {
  const preselected = outcome.preselected;
  const button = (choice: "approve" | "reject", label: string) =>
    // No autofocus, even when preselected: a scanner or a stray Enter must never land on a button.
    `<button type="submit" name="decision" value="${choice}" class="${choice}${preselected === choice ? " chosen" : ""}">${label}</button>`;
  const hint = preselected ? `<p class="hint">You followed the ${preselected} link. Press ${preselected === "approve" ? "Approve" : "Reject"} to confirm.</p>` : "";
  return `<form method="post">
${hint}
<label for="comment">Comment <span class="muted">(optional)</span></label>
<textarea id="comment" name="comment" maxlength="${COMMENT_MAX_LENGTH}" rows="2"></textarea>
${identityLine(outcome)}
<div class="actions">${button("approve", "Approve")}${button("reject", "Reject")}</div>
</form>`;
}

type Tone = { tone: string; mark: string };
// Glyphs every system font has (DejaVu, the phones' own): no emoji, which may be missing.
const TONES = {
  approved: { tone: "t-ok", mark: "✓" },
  rejected: { tone: "t-no", mark: "✗" },
  expired: { tone: "t-late", mark: "◷" },
  neutral: { tone: "t-off", mark: "⊘" },
  notice: { tone: "t-off", mark: "!" },
  info: { tone: "t-info", mark: "i" },
} satisfies Record<string, Tone>;

/**
 * The banner's colour means one thing everywhere. Green (✓) and red (✗) are a decision: your own vote,
 * recorded, or the request's outcome when you merely look at it; amber is an expiry; blue is "under
 * way, nothing for you to do"; grey is "nothing was recorded" (a late or repeated vote, a refusal, an
 * error) and a withdrawn or closed request. So a late voter never sees a success for an action that failed.
 */
function toneOf(outcome: Outcome): Tone {
  if (outcome.kind !== "request") return outcome.kind === "unavailable" || outcome.kind === "redirect" || outcome.kind === "signInUnavailable" ? TONES.info : TONES.notice;
  const { state, answer } = outcome;
  if (answer.type === "conflictingVote" || answer.type === "selfApproval" || answer.type === "notAsked" || answer.type === "reasonRequired") return TONES.notice;
  if (answer.type === "notOpen") return outcome.attempted ? TONES.neutral : toneOfState(state, outcome);
  if (answer.type === "deliveryPending") return TONES.info;
  return toneOfState(state, outcome);
}

function toneOfState(state: EffectiveState, outcome: RequestOutcome): Tone {
  switch (state) {
    case "approved":
      return TONES.approved;
    case "rejected":
      return TONES.rejected;
    case "expired":
      return TONES.expired;
    case "withdrawn":
    case "closed":
      return TONES.neutral;
    case "pending":
    case "settling": {
      // Your own vote, recorded: its colour. Otherwise under way.
      const own = outcome.request.votes.find((vote) => vote.approver === outcome.approver);
      return own ? (own.decision === "approved" ? TONES.approved : TONES.rejected) : TONES.info;
    }
  }
}

function banner(outcome: Outcome, text: OutcomeText, backLink: boolean): string {
  const { tone, mark } = toneOf(outcome);
  const back = backLink ? `\n<p><a href="">Open the review page again</a></p>` : "";
  const quote = text.quote ? `\n<blockquote class="yours"><p>${html(text.quote, "multiline")}</p></blockquote>` : "";
  return `<div class="banner ${tone}"><span class="mark" aria-hidden="true">${mark}</span><div>
<h1>${escapeHtml(text.heading)}</h1>
<p class="lead">${escapeHtml(text.lead)}</p>${quote}${back}
</div></div>`;
}

/** The review page of a request this approver can still vote on, in the order a decision needs. */
function reviewPage(outcome: RequestOutcome, text: OutcomeText, now: Date): string {
  const { request, state } = outcome;
  return [
    `<p class="kicker">${escapeHtml(text.heading)}</p>`,
    requestedBy(request),
    `<h1>${html(request.title)}</h1>`,
    description(request),
    keyDetails(request),
    votesSection(request, now),
    expiryLine(request, state, now),
    decisionForm(outcome),
    detailsSection(request),
    requestFacts(request, outcome.approver),
  ].join("\n");
}

/** Every other page about a request: what happened first, then the request as it stands. */
function requestResultPage(outcome: RequestOutcome, text: OutcomeText, now: Date): string {
  const { request, state, answer } = outcome;
  // After a POST that changed nothing, or one whose answer is worth a second look: back to the page (a GET).
  const backLink = ["notOpen", "conflictingVote", "selfApproval", "notAsked", "deliveryPending", "reasonRequired"].includes(answer.type);
  return [
    banner(outcome, text, backLink),
    outcome.signedIn ? identityLine(outcome) : "",
    requestedBy(request),
    `<p class="title">${html(request.title)}</p>`,
    description(request),
    keyDetails(request),
    votesSection(request, now),
    expiryLine(request, state, now),
    detailsSection(request),
    requestFacts(request, outcome.approver),
  ].join("\n");
}

/** The tab's title: which request, and in what state; or what happened to your vote. */
function tabTitle(outcome: Outcome, text: OutcomeText, page: PageContext): string {
  const stack = page.stackLabel ? ` · ${oneLine(page.stackLabel)}` : "";
  return outcome.kind === "request" ? `${text.heading}: ${oneLine(outcome.request.title)}${stack} · Human approval` : `${text.heading}${stack} · Human approval`;
}

export function renderPage(outcome: Outcome, now: Date, page: PageContext = {}): string {
  const text = describeOutcome(outcome, now);
  const canVote = outcome.kind === "request" && outcome.state === "pending" && outcome.answer.type === "show" && !outcome.request.votes.some((vote) => vote.approver === outcome.approver);
  const body =
    outcome.kind !== "request"
      ? banner(outcome, text, outcome.kind === "invalid")
      : canVote
        ? reviewPage(outcome, text, now)
        : requestResultPage(outcome, text, now);
  // The effective state, for tests and tools; people read it from the banner or the heading.
  const state = outcome.kind === "request" ? ` data-state="${outcome.state}"` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow">
<title>${escapeHtml(tabTitle(outcome, text, page))}</title>
<style>${STYLE}</style>
</head>
<body><main${state}>
${contextLine(page)}
${body}
${signInActions(outcome, escapeHtml)}
</main></body>
</html>`;
}
