/**
 * An execution that ends without a decision reaching it: withdrawn (StopExecution, from the CLI's
 * `withdraw` or the console) or failed / timed out. EventBridge delivers Step Functions' "Execution Status
 * Change" for this state machine to the request-approval function; this closes the request and tells the
 * approvers, so every link shows the outcome (410 for a withdrawn request) and publishing stays with the
 * function roles. The CLI itself only calls StopExecution.
 */
import { requestRefFor, type ApprovalRequest } from "../shared/approvalRequest";
import { composeOutcomeNotice } from "../shared/email";
import { effectiveState, outcomeRecipients, transition, type Transition, type TransitionContext } from "../shared/lifecycle";
import type { Logger } from "../shared/logger";
import type { Publish } from "../shared/publisher";
import type { RequestStore } from "../shared/requestStore";
import { EXECUTION_STATUS_CHANGE, type ExecutionEndedPayload } from "./payload";

/** What Step Functions says about an execution now (DescribeExecution). */
export interface ExecutionDescription {
  status: string;
  error?: string;
  cause?: string;
}

export interface WithdrawalDependencies {
  store: RequestStore;
  publish: Publish;
  /** The stack's approvers, for who hears of the outcome. */
  approverEmails: string[];
  /**
   * DescribeExecution of this state machine's executions. The event is checked against it: only an
   * execution that really ended closes its request, and its own error and cause are recorded.
   */
  describeExecution?: (executionArn: string) => Promise<ExecutionDescription>;
  now(): Date;
  logger: Logger;
  /** Tells the outcome in Slack too (every asked approver's message). */
  announceOutcome?: (request: ApprovalRequest, context: { now(): Date; logger: Logger }) => Promise<void>;
}

export const ENDED_STATUSES = ["ABORTED", "FAILED", "TIMED_OUT"] as const;

/** Recorded when a stop names no reason (a console stop, say). */
export const DEFAULT_WITHDRAWAL_REASON = "The execution was stopped (StopExecution) without a reason.";

/**
 * The event EventBridge delivers for an execution that ended (the rule's target gets it unchanged).
 * The local mode builds it for the executions it stops, so the same entry runs there.
 */
export function executionStatusChangeEvent(execution: { executionArn: string; stateMachineArn: string; name: string; status: string; error?: string; cause?: string; time?: Date }) {
  const time = execution.time ?? new Date();
  const [, partition, , region, account] = execution.executionArn.split(":");
  return {
    version: "0",
    id: `local-${time.getTime()}`,
    "detail-type": EXECUTION_STATUS_CHANGE.detailType,
    source: EXECUTION_STATUS_CHANGE.source,
    account,
    time: time.toISOString(),
    region,
    resources: [execution.executionArn],
    detail: {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      stopDate: time.getTime(),
      error: execution.error ?? null,
      cause: execution.cause ?? null,
      partition,
    },
  };
}

/**
 * The pure step for an ended execution. A stop is the lifecycle's `withdrawn` event (the stop's cause is the
 * reason). A failure or timeout closes an open request as CLOSED with what happened, and tells the approvers.
 */
export function executionEndedTransition(request: ApprovalRequest, ended: { status: string; cause?: string }, context: TransitionContext): Transition {
  if (ended.status === "ABORTED") return transition(request, { type: "withdrawn", reason: ended.cause?.trim() || DEFAULT_WITHDRAWAL_REASON }, context);
  // A settling request may already have reached the workflow: the sweeper (or a visit) settles it from the history.
  if (effectiveState(request, context.now) !== "pending") return { effects: [], answer: { type: "notOpen" } };
  const what = ended.status === "TIMED_OUT" ? "timed out" : "failed";
  const next: ApprovalRequest = {
    ...request,
    status: "CLOSED",
    closedReason: `The execution ${what} before a decision reached it${ended.cause ? `: ${ended.cause.trim()}` : "."}`,
    version: request.version + 1,
  };
  return { next, effects: [{ type: "notifyOutcome", recipients: outcomeRecipients(request, context.stackApprovers) }], answer: { type: "show" } };
}

/** The causes Step Functions allows are long; the record and the notice keep a readable part. */
const MAX_REASON = 1_000;

export async function recordExecutionEnd(deps: WithdrawalDependencies, payload: ExecutionEndedPayload): Promise<{ requestRef: string; status: string }> {
  const requestRef = requestRefFor(payload.execution.id);
  const logFields = { requestRef, executionName: payload.execution.name };
  let ended: ExecutionDescription = { status: payload.status, error: payload.error, cause: payload.cause };
  if (deps.describeExecution) {
    const described = await deps.describeExecution(payload.execution.id);
    if (!(ENDED_STATUSES as readonly string[]).includes(described.status)) {
      // Not ended after all (a forged or stale event, or a redriven execution): the request stays as it is.
      deps.logger.warn("Execution status change ignored: the execution has not ended", { ...logFields, outcome: "ignored", eventStatus: payload.status, executionStatus: described.status });
      return { requestRef, status: "ignored" };
    }
    ended = { status: described.status, error: described.error ?? payload.error, cause: described.cause ?? payload.cause };
  }
  ended.cause = ended.cause?.slice(0, MAX_REASON);

  for (let attempt = 0; attempt < 5; attempt++) {
    const request = await deps.store.get(requestRef);
    // Refused before anything was stored (an unknown approver), or not ours.
    if (!request) return { requestRef, status: "unknown" };
    const now = deps.now();
    const step = executionEndedTransition(request, ended, { now, stackApprovers: deps.approverEmails });
    if (!step.next) return { requestRef, status: request.status };
    if (!(await deps.store.save(step.next, request.version))) continue; // a vote landed meanwhile: read again
    for (const effect of step.effects) {
      if (effect.type !== "notifyOutcome") continue;
      try {
        await deps.publish(composeOutcomeNotice(step.next, effect.recipients, now));
      } catch (error) {
        // Best effort, like every outcome notice: the request is closed whatever happens to the email.
        deps.logger.warn("Outcome notice not sent", { ...logFields, errorName: (error as Error).name });
      }
    }
    if (step.effects.length > 0) await deps.announceOutcome?.(step.next, deps).catch(() => undefined); // logged by the announcer
    deps.logger.info(ended.status === "ABORTED" ? "Approval request withdrawn" : "Approval request closed: the execution ended", {
      ...logFields,
      outcome: step.next.status.toLowerCase(),
      executionStatus: ended.status,
      error: ended.error,
      votes: request.votes.length,
    });
    return { requestRef, status: step.next.status };
  }
  throw new Error("The request kept changing while it was being closed; EventBridge retries.");
}
