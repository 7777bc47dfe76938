/**
 * The approval step for a state machine of your own (composition): the states that ask, wait, check and
 * notify, taken from the component's own definition (so both stay the same workflow), to paste into your
 * definition's `States`. Enter at `APPROVAL_ENTRY`; every outcome leaves to the state named `next` (default
 * `APPROVAL_DECIDED`, which your machine defines: typically a Choice on `$.approval.decision`, "approved",
 * "rejected" or "expired"). A request that cannot be made, or a decision this stack did not send, fails the
 * execution (named Fail states), as in the component's own state machine.
 *
 * What is approved is what runs: the approvers are shown the execution's input (`$$.Execution.Input`, which
 * must be a JSON object), the verify state checks the decision against it, and there is one approval step
 * per execution (a request is keyed by the execution).
 */
import { buildStateMachineDefinition, STATE_NAMES, type StateMachineDefinitionArgs } from "./stateMachineDefinition";

/** The state your machine enters the approval step at. */
export const APPROVAL_ENTRY = STATE_NAMES.requestApproval;
/** The state the approval step leaves to by default; your machine defines it. */
export const APPROVAL_DECIDED = "Approval decided";
/** The step's "expired" state (not "Expired", which a machine of yours may well have already). */
export const APPROVAL_EXPIRED = "Approval expired";

export type ApprovalStatesArgs = Omit<StateMachineDefinitionArgs, "approvedFunctionArn"> & {
  /** Where every outcome goes on to. Default `APPROVAL_DECIDED`. */
  next?: string;
};

export function buildApprovalStates(args: ApprovalStatesArgs): Record<string, Record<string, unknown>> {
  const { States: own } = buildStateMachineDefinition(args);
  const next = args.next ?? APPROVAL_DECIDED;
  const request = own[STATE_NAMES.requestApproval] as { Parameters: { Payload: Record<string, unknown> } };
  const { End: _end, ...expired } = own[STATE_NAMES.expired];
  return {
    [STATE_NAMES.requestApproval]: {
      ...request,
      // The component's machine wraps a non-object input first; here the execution's input is asked about as it is.
      Parameters: { ...request.Parameters, Payload: { ...request.Parameters.Payload, "input.$": "$$.Execution.Input" } },
    },
    [STATE_NAMES.verifyDecision]: { ...own[STATE_NAMES.verifyDecision], Next: next },
    [STATE_NAMES.notVerified]: own[STATE_NAMES.notVerified],
    [STATE_NAMES.refused]: own[STATE_NAMES.refused],
    [STATE_NAMES.notifyExpiry]: { ...own[STATE_NAMES.notifyExpiry], Next: APPROVAL_EXPIRED, Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: APPROVAL_EXPIRED }] },
    [APPROVAL_EXPIRED]: { ...expired, Next: next },
    [STATE_NAMES.failed]: own[STATE_NAMES.failed],
  };
}
