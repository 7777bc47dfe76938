/**
 * What the state machine sends to the request-approval function. The component's
 * state machine definition builds exactly this shape from the context object.
 */
export interface RequestApprovalPayload {
  taskToken: string;
  execution: { id: string; name: string };
  stateMachine: { name: string };
  /** The state input: whatever the execution is asking approval for. */
  input: unknown;
}

/** Thrown for a payload that is not ours; the state machine does not retry it. */
export class InvalidApprovalPayload extends Error {
  override name = "InvalidApprovalPayload";
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

export function parseRequestApprovalPayload(event: unknown): RequestApprovalPayload {
  const payload = (event ?? {}) as Partial<RequestApprovalPayload>;
  const problems: string[] = [];
  if (!nonEmptyString(payload.taskToken)) problems.push("taskToken");
  if (!nonEmptyString(payload.execution?.id)) problems.push("execution.id");
  if (!nonEmptyString(payload.execution?.name)) problems.push("execution.name");
  if (!nonEmptyString(payload.stateMachine?.name)) problems.push("stateMachine.name");
  if (problems.length > 0) {
    // Names the missing fields only: the payload itself may hold the token.
    throw new InvalidApprovalPayload(`The request-approval payload lacks ${problems.join(", ")}.`);
  }
  return payload as RequestApprovalPayload;
}
