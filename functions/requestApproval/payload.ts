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

export interface ExpiryPayload {
  kind: "expired";
  execution: { id: string; name: string };
}

export type RequestFunctionPayload = RequestApprovalPayload | ExpiryPayload;

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
  const problems: string[] = [];
  if (!nonEmptyString(payload.execution?.id)) problems.push("execution.id");
  if (!nonEmptyString(payload.execution?.name)) problems.push("execution.name");
  if (payload.kind === "expired") {
    if (problems.length > 0) throw new InvalidApprovalPayload(`The expiry payload lacks ${problems.join(", ")}.`);
    return { kind: "expired", execution: payload.execution! };
  }
  if (!nonEmptyString(payload.taskToken)) problems.push("taskToken");
  if (!nonEmptyString(payload.stateMachine?.name)) problems.push("stateMachine.name");
  if (problems.length > 0) {
    // Names the missing fields only: the payload itself may hold the token.
    throw new InvalidApprovalPayload(`The request-approval payload lacks ${problems.join(", ")}.`);
  }
  return { ...(payload as RequestApprovalPayload), kind: "request" };
}
