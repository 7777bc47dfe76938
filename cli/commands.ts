/**
 * The four commands. Each reads what it needs of the stack, prints for people (or one JSON document with
 * --json) and returns its exit code (EXIT in options.ts: 0 approved or done, 20 rejected, 21 expired,
 * 22 withdrawn). A problem is thrown as a CliError, which main.ts prints as one line (and {"error"}).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REQUEST_REF_PATTERN, requestRefFor } from "../functions/shared/approvalRequest";
import { formatRemaining, formatUtc } from "../functions/shared/text";
import { listEntry, requestView, showLines, stateOf, votesLine, type RequestView, type VoteView } from "./format";
import { CliError, EXIT, type Command } from "./options";
import { isExecutionArn, need, type ExecutionState, type RequestRecord, type StackClient, type StackLocation } from "./stack";

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Rewrites one status line in place; undefined when stdout is not a terminal (CI logs stay quiet). */
  progress?: { update(line: string): void; clear(): void };
  env: NodeJS.ProcessEnv;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

interface Context {
  io: Io;
  stack: StackLocation;
  client: StackClient;
}

const firstLine = (text: unknown) => String(text ?? "").split("\n")[0].trim();
export const DEFAULT_WITHDRAW_REASON = "Withdrawn with the human-approval CLI.";
/** How long `request` waits for the request to be stored (or refused) before it returns without --wait. */
const STORE_WAIT_MS = 60_000;
/** How long `withdraw` waits for the stack to record the withdrawal (EventBridge delivers it in seconds). */
const WITHDRAW_WAIT_MS = 30_000;

/** A request named by its requestRef or its execution ARN. The reference is not echoed: it could be anything pasted. */
export function parseReference(reference: string): { requestRef: string; executionArn?: string } {
  if (REQUEST_REF_PATTERN.test(reference)) return { requestRef: reference };
  if (isExecutionArn(reference)) return { requestRef: requestRefFor(reference), executionArn: reference };
  throw new CliError("The reference is neither a requestRef (req- and 20 characters) nor an execution ARN (arn:aws:states:<region>:<account>:execution:<machine>:<name>).");
}

const REFUSALS = ["InvalidApprovalRequest", "InvalidApprovalPayload"];

/**
 * The cause Step Functions reports, as one line: a Lambda error's cause is JSON (errorType, errorMessage,
 * trace) of which only the message is shown, never the trace; a plain cause may start with the error's name.
 */
export function readableCause(cause: string | undefined): { type?: string; message: string } | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; errorType?: unknown };
    if (typeof parsed?.errorMessage === "string") return { type: typeof parsed.errorType === "string" ? parsed.errorType : undefined, message: firstLine(parsed.errorMessage) };
  } catch {
    // not JSON: the cause as given
  }
  const named = /^([A-Za-z.]+): (.*)$/.exec(firstLine(cause));
  return named && REFUSALS.includes(named[1]) ? { type: named[1], message: named[2] } : { message: firstLine(cause) };
}

function readDetails(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(path.resolve(file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`Cannot read the details file ${file}: ${code === "ENOENT" ? "no such file" : firstLine((error as Error).message)}.`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`The details file ${file} is not JSON: ${firstLine((error as Error).message)}.`);
  }
}

/** How an execution ended, as a pipeline reads it. */
interface Outcome {
  outcome: "approved" | "rejected" | "expired" | "withdrawn" | "failed";
  exitCode: number;
  approval?: { decision: string; decidedBy?: string; decidedAt?: string; comment?: string; approvals?: VoteView[]; inputDigest?: string; requestRef?: string };
  reason?: string;
}

export function outcomeOf(execution: ExecutionState): Outcome | undefined {
  switch (execution.status) {
    case "RUNNING":
    case "PENDING_REDRIVE":
      return undefined;
    case "SUCCEEDED": {
      let approval: Outcome["approval"];
      try {
        approval = (JSON.parse(execution.output ?? "{}") as { approval?: Outcome["approval"] }).approval;
      } catch {
        approval = undefined;
      }
      if (approval?.decision === "approved") return { outcome: "approved", exitCode: EXIT.approved, approval };
      if (approval?.decision === "rejected") return { outcome: "rejected", exitCode: EXIT.rejected, approval };
      if (approval?.decision === "expired") return { outcome: "expired", exitCode: EXIT.expired, approval, reason: "Nobody decided before the approval timeout." };
      return { outcome: "failed", exitCode: EXIT.failure, reason: "The execution succeeded without a decision in its output ($.approval.decision)." };
    }
    case "ABORTED":
      return { outcome: "withdrawn", exitCode: EXIT.withdrawn, reason: readableCause(execution.cause)?.message ?? "The execution was stopped." };
    default: {
      const cause = readableCause(execution.cause);
      const refused = REFUSALS.includes(execution.error ?? "") || REFUSALS.includes(cause?.type ?? "");
      const what = refused ? "The approval request was refused" : `The execution ${execution.status === "TIMED_OUT" ? "timed out" : "failed"}${execution.error ? ` (${execution.error})` : ""}`;
      // A refusal is the caller's to fix (who is asked, how many must approve): a usage error, not a failure.
      return { outcome: "failed", exitCode: refused ? EXIT.usage : EXIT.failure, reason: `${what}${cause ? `: ${cause.message}` : "."}` };
    }
  }
}

function outcomeLines(outcome: Outcome): string[] {
  const approval = outcome.approval;
  switch (outcome.outcome) {
    case "approved":
    case "rejected": {
      const word = outcome.outcome === "approved" ? "Approved" : "Rejected";
      const votes = (approval?.approvals ?? []).map((vote) => `  ${vote.approver} ${vote.decision} at ${formatUtc(vote.decidedAt)}${vote.comment ? `: "${vote.comment}"` : ""}`);
      return [`${word} by ${approval?.decidedBy ?? "(unknown)"}${approval?.comment ? `: "${approval.comment}"` : ""}`, ...votes];
    }
    case "expired":
      return [`Expired: ${outcome.reason}`];
    case "withdrawn":
      return [`Withdrawn: ${outcome.reason}`];
    case "failed":
      return [];
  }
}

function outcomeJson(requestRef: string, executionArn: string, outcome: Outcome) {
  const approval = outcome.approval;
  return {
    requestRef,
    executionArn,
    outcome: outcome.outcome,
    ...(approval && outcome.outcome !== "expired"
      ? { decision: approval.decision, decidedBy: approval.decidedBy, decidedAt: approval.decidedAt, comment: approval.comment ?? "", approvals: approval.approvals ?? [], inputDigest: approval.inputDigest }
      : {}),
    ...(outcome.reason ? { reason: outcome.reason } : {}),
  };
}

/**
 * Ends the command with the execution's outcome: printed, and its exit code. A failed or refused
 * execution is an error like any other (one line on stderr; with --json `{error, requestRef, executionArn}`).
 */
function finish(context: Context, json: boolean, requestRef: string, executionArn: string, outcome: Outcome): number {
  if (outcome.outcome === "failed") throw new CliError(outcome.reason ?? "The execution failed.", outcome.exitCode, { requestRef, executionArn });
  context.io.progress?.clear();
  if (json) context.io.out(JSON.stringify(outcomeJson(requestRef, executionArn, outcome), null, 2));
  else for (const line of outcomeLines(outcome)) context.io.out(line);
  return outcome.exitCode;
}

async function request(command: Extract<Command, { name: "request" }>, context: Context): Promise<number> {
  const { io, client, stack } = context;
  const stateMachineArn = need(stack, "stateMachineArn");
  const input = {
    title: command.title,
    ...(command.description ? { description: command.description } : {}),
    ...(command.detailsFile ? { details: readDetails(command.detailsFile) } : {}),
    ...(command.requestedBy ? { requestedBy: command.requestedBy } : {}),
    ...(command.approvers ? { approvers: command.approvers } : {}),
  };
  const executionArn = await client.startExecution(stateMachineArn, input);
  const requestRef = requestRefFor(executionArn);

  // Until the request function stored it (or refused it: an unknown approver fails the execution at once).
  const started = io.now().getTime();
  let stored: RequestRecord | undefined;
  for (;;) {
    const outcome = outcomeOf(await client.describeExecution(executionArn));
    if (outcome) return finish(context, command.json, requestRef, executionArn, outcome);
    stored = stack.table ? await client.getRequest(stack.table, requestRef) : undefined;
    const waited = io.now().getTime() - started;
    if (stored || (!stack.table && waited >= 5_000) || waited >= STORE_WAIT_MS) break;
    await io.sleep(Math.min(1_000, command.pollSeconds * 1_000));
  }
  // Only now, once it was not refused: a refused request prints its error and nothing else.
  if (!command.json) io.out(`Approval requested: ${command.title}\n  reference  ${requestRef}\n  execution  ${executionArn}`);
  const asked = stored ? requestView(stored, io.now()) : undefined;
  if (asked && !command.json) {
    io.out(`  asked      ${asked.approvers.join(", ")} (needs ${asked.requiredApprovals} approval${asked.requiredApprovals === 1 ? "" : "s"})`);
    io.out(`  expires    ${formatUtc(asked.expiresAt)} (in ${formatRemaining(asked.expiresAt, io.now())})`);
  }
  if (!command.wait) {
    if (command.json) io.out(JSON.stringify({ requestRef, executionArn, outcome: "pending", ...(asked ? { approvers: asked.approvers, requiredApprovals: asked.requiredApprovals, expiresAt: asked.expiresAt } : {}) }, null, 2));
    else io.out(`Waiting for the approvers; see it with: human-approval show ${requestRef}`);
    return EXIT.ok;
  }

  // Waiting: each new vote as a line (also in CI logs), the elapsed time only on a terminal.
  const seen = new Set<string>();
  const reportVotes = (view: RequestView) => {
    for (const vote of view.votes) {
      if (seen.has(vote.approver)) continue;
      seen.add(vote.approver);
      if (command.json) continue;
      io.progress?.clear();
      io.out(`  ${vote.approver} ${vote.decision}${vote.comment ? `: "${vote.comment}"` : ""} (${votesLine(view).replace(/ \(.*\)$/, "")})`);
    }
  };
  let view = asked;
  for (;;) {
    if (view) reportVotes(view);
    const elapsed = Math.round((io.now().getTime() - started) / 1000);
    if (!command.json) io.progress?.update(`Waiting ${Math.floor(elapsed / 60)}m${String(elapsed % 60).padStart(2, "0")}s: ${view ? `${votesLine(view).replace(/ \(.*\)$/, "")}, expires in ${formatRemaining(view.expiresAt, io.now())}` : "no votes yet"} (Ctrl-C leaves the request open)`);
    await io.sleep(command.pollSeconds * 1_000);
    const outcome = outcomeOf(await client.describeExecution(executionArn));
    if (outcome) {
      if (outcome.approval?.approvals && view) reportVotes({ ...view, votes: outcome.approval.approvals, approvals: outcome.approval.approvals.filter((vote) => vote.decision === "approved").length });
      return finish(context, command.json, requestRef, executionArn, outcome);
    }
    const current = stack.table ? await client.getRequest(stack.table, requestRef) : undefined;
    if (current) view = requestView(current, io.now());
  }
}

async function list(command: Extract<Command, { name: "list" }>, context: Context): Promise<number> {
  const { io, client, stack } = context;
  const table = need(stack, "table");
  const now = io.now();
  const views = (await client.listRequests(table, command.status)).map((request) => requestView(request, now));
  if (command.json) {
    io.out(JSON.stringify(views, null, 2));
    return EXIT.ok;
  }
  const what = command.status.toLowerCase();
  io.out(views.length === 0 ? `No ${what} requests.` : `${views.length} ${what} request${views.length === 1 ? "" : "s"}, newest first:`);
  for (const view of views) io.out(listEntry(view, now).join("\n"));
  return EXIT.ok;
}

async function show(command: Extract<Command, { name: "show" }>, context: Context): Promise<number> {
  const { io, client, stack } = context;
  const { requestRef } = parseReference(command.reference);
  const table = need(stack, "table");
  const stored = await client.getRequest(table, requestRef);
  if (!stored) throw new CliError(`No request ${requestRef} in the table ${table}: not stored yet, refused before anything was stored, or past its audit retention.`);
  const now = io.now();
  const view = requestView(stored, now);
  let execution: ExecutionState | undefined;
  try {
    execution = await client.describeExecution(stored.executionArn);
  } catch (error) {
    io.err(`human-approval: the execution's status is unknown: ${firstLine((error as Error).message)}`);
  }
  if (command.json) io.out(JSON.stringify({ ...view, ...(execution ? { executionStatus: execution.status } : {}) }, null, 2));
  else io.out(showLines(view, now, execution).join("\n"));
  return EXIT.ok;
}

async function withdraw(command: Extract<Command, { name: "withdraw" }>, context: Context): Promise<number> {
  const { io, client, stack } = context;
  const reference = parseReference(command.reference);
  const stored = stack.table ? await client.getRequest(stack.table, reference.requestRef) : undefined;
  const executionArn = reference.executionArn ?? stored?.executionArn;
  if (!executionArn) {
    need(stack, "table");
    throw new CliError(`No request ${reference.requestRef} in the table ${stack.table}: nothing to withdraw.`);
  }
  if (stored) {
    const state = stateOf(stored, io.now());
    // A settling request was decided by its votes and may already have reached the workflow: not withdrawable.
    if (state === "settling") throw new CliError(`Nothing to withdraw: the votes already settled ${reference.requestRef}; its decision is being delivered.`);
    if (state !== "pending") throw new CliError(`Nothing to withdraw: the request ${reference.requestRef} is ${state}.`);
  }
  const execution = await client.describeExecution(executionArn);
  if (execution.status !== "RUNNING") throw new CliError(`Nothing to withdraw: the execution has already ended (${execution.status}).`);
  const reason = command.reason ?? DEFAULT_WITHDRAW_REASON;
  await client.stopExecution(executionArn, "Withdrawn", reason);

  // The stack records the withdrawal when Step Functions' status change reaches it (seconds).
  let recorded = false;
  if (stack.table && stored) {
    const started = io.now().getTime();
    while (!recorded && io.now().getTime() - started < WITHDRAW_WAIT_MS) {
      await io.sleep(500);
      recorded = (await client.getRequest(stack.table, reference.requestRef))?.status === "WITHDRAWN";
    }
  }
  if (command.json) {
    io.out(JSON.stringify({ requestRef: reference.requestRef, executionArn, outcome: "withdrawn", reason, recorded }, null, 2));
  } else {
    io.out(`Withdrawn${stored ? `: ${stored.title}` : ""} (${reference.requestRef})`);
    io.out(recorded
      ? "  The approvers are told, and every link now shows that it was withdrawn."
      : "  The execution is stopped; the request closes (and the approvers are told) as soon as the stack hears of the stop.");
  }
  return EXIT.ok;
}

export async function runCommand(command: Exclude<Command, { name: "help" }>, context: Context): Promise<number> {
  switch (command.name) {
    case "request":
      return request(command, context);
    case "list":
      return list(command, context);
    case "show":
      return show(command, context);
    case "withdraw":
      return withdraw(command, context);
  }
}
