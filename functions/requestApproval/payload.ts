import type { VerifyPayload } from "./verification";

/**
 * What the state machine sends to the request-approval function. The component's state machine
 * definition builds exactly these shapes from the context object:
 * - a request (the waitForTaskToken task): the token, the execution, and the input to approve;
 * - an expiry (the timeout path): only the execution, to close its request and tell the approvers.
 */
export interface RequestApprovalPayload {
  kind: "request";
  taskToken: string;
  execution: { id: string; name: string };
  stateMachine: { name: string };
  /** The state input: whatever the execution is asking approval for. */
  input: unknown;
}

/**
 * What "Request approval" receives as `input` for an execution input: the state machine's first states
 * keep an object as it is and wrap anything else as {"input": value} (components/stateMachineDefinition.ts).
 */
export function requestInputOf(executionInput: unknown): unknown {
  return typeof executionInput === "object" && executionInput !== null && !Array.isArray(executionInput) ? executionInput : { input: executionInput };
}

export interface ExpiryPayload {
  kind: "expired";
  execution: { id: string; name: string };
}

/** The reminder schedule (an EventBridge rule, `reminderMinutesBeforeExpiry`): remind approvers who have not voted. */
export interface RemindPayload {
  kind: "remind";
}

/** The sweeper's schedule (an EventBridge rule, `sweepIntervalMinutes`): complete unfinished deliveries (sweeper.ts). */
export interface SweepPayload {
  kind: "sweep";
}

/**
 * EventBridge's "Step Functions Execution Status Change" for this state machine, as the rule delivers it
 * (status ABORTED, FAILED or TIMED_OUT): the request of a stopped execution is withdrawn, others closed.
 * See withdrawal.ts.
 */
export interface ExecutionEndedPayload {
  kind: "executionEnded";
  execution: { id: string; name: string };
  status: string;
  error?: string;
  cause?: string;
}

export type RequestFunctionPayload = RequestApprovalPayload | ExpiryPayload | RemindPayload | SweepPayload | ExecutionEndedPayload | VerifyPayload;

export const EXECUTION_STATUS_CHANGE = { source: "aws.states", detailType: "Step Functions Execution Status Change" } as const;

/** The EventBridge event's fields this function reads; the rest (input, output) is never read or logged. */
function executionEnded(event: Record<string, unknown>): ExecutionEndedPayload | undefined {
  if (event.source !== EXECUTION_STATUS_CHANGE.source || event["detail-type"] !== EXECUTION_STATUS_CHANGE.detailType) return undefined;
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" && value.length > 0 ? value : undefined);
  const id = text(detail.executionArn);
  const status = text(detail.status);
  if (!id || !status) throw new InvalidApprovalPayload("The execution status change lacks detail.executionArn or detail.status.");
  return { kind: "executionEnded", execution: { id, name: text(detail.name) ?? id.split(":").pop()! }, status, error: text(detail.error), cause: text(detail.cause) };
}

/** Thrown for a payload that is not ours; the state machine does not retry it. */
export class InvalidApprovalPayload extends Error {
  override name = "InvalidApprovalPayload";
}

/**
 * Thrown for a request that can never settle or asks someone who is not an approver; the state
 * machine fails the execution with this message as its cause, before any email goes out.
 */
export class InvalidApprovalRequest extends Error {
  override name = "InvalidApprovalRequest";
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

export function parseRequestApprovalPayload(event: unknown): RequestFunctionPayload {
  const payload = (event ?? {}) as Partial<Omit<RequestApprovalPayload, "kind">> & { kind?: string };
  if (payload.kind === "remind") return { kind: "remind" };
  if (payload.kind === "sweep") return { kind: "sweep" };
  const ended = typeof event === "object" && event !== null ? executionEnded(event as Record<string, unknown>) : undefined;
  if (ended) return ended;
  const problems: string[] = [];
  if (!nonEmptyString(payload.execution?.id)) problems.push("execution.id");
  if (!nonEmptyString(payload.execution?.name)) problems.push("execution.name");
  if (payload.kind === "expired") {
    if (problems.length > 0) throw new InvalidApprovalPayload(`The expiry payload lacks ${problems.join(", ")}.`);
    return { kind: "expired", execution: payload.execution! };
  }
  if (payload.kind === "verify") {
    if (problems.length > 0) throw new InvalidApprovalPayload(`The verification payload lacks ${problems.join(", ")}.`);
    const { approval, executionInput } = payload as { approval?: unknown; executionInput?: unknown };
    return { kind: "verify", execution: payload.execution!, approval, executionInput };
  }
  if (!nonEmptyString(payload.taskToken)) problems.push("taskToken");
  if (!nonEmptyString(payload.stateMachine?.name)) problems.push("stateMachine.name");
  if (problems.length > 0) {
    // Names the missing fields only: the payload itself may hold the token.
    throw new InvalidApprovalPayload(`The request-approval payload lacks ${problems.join(", ")}.`);
  }
  return { ...(payload as RequestApprovalPayload), kind: "request" };
}
