/**
 * The workflow's own check of the decision it received, run right after "Request approval".
 * `states:SendTaskSuccess` cannot be scoped to a state machine, and the task token is readable with
 * read-only access: any principal allowed SendTaskSuccess anywhere could answer the waiting task with an
 * "approved" of its own. The decision function records the exact output it will send before sending
 * it; this entry lets the workflow go on only if what it received is that recorded output, and if what
 * the approvers approved (the output's inputDigest) is the input this execution actually runs.
 */
import { requestRefFor } from "../shared/approvalRequest";
import { canonicalJson } from "../shared/canonicalJson";
import type { Logger } from "../shared/logger";
import type { RequestStore } from "../shared/requestStore";
import { requestInputOf } from "./payload";
import { inputDigest } from "./summary";

export interface VerifyPayload {
  kind: "verify";
  execution: { id: string; name: string };
  /** What the waiting task received (`$.approval`). */
  approval: unknown;
  /** The execution's own input (`$$.Execution.Input`), which the approvers must have been shown. */
  executionInput: unknown;
}

/** The workflow must not act on this decision; the state machine fails the execution with this cause. */
export class DecisionNotVerified extends Error {
  override name = "DecisionNotVerified";
}

export async function verifyDecision(deps: { store: RequestStore; logger: Logger }, payload: VerifyPayload): Promise<{ requestRef: string; verified: true }> {
  const requestRef = requestRefFor(payload.execution.id);
  const request = await deps.store.get(requestRef);
  const recorded = request?.settlement?.output;
  if (!request || !recorded) {
    deps.logger.warn("Decision not verified", { requestRef, outcome: "not-verified", reason: request ? "no settlement" : "no request" });
    throw new DecisionNotVerified(`The workflow received a decision, but no approvers' votes settled request ${requestRef}: it was not sent by this stack. Nothing was approved.`);
  }
  if (canonicalJson(recorded) !== canonicalJson(payload.approval)) {
    deps.logger.warn("Decision not verified", { requestRef, outcome: "not-verified", reason: "output differs from the settlement" });
    throw new DecisionNotVerified(`The decision the workflow received is not the one the approvers' votes settled for request ${requestRef} (${recorded.decision} by ${recorded.decidedBy}): it was not sent by this stack. Nothing was approved.`);
  }
  const approvedDigest = (recorded as { inputDigest?: unknown }).inputDigest;
  if (approvedDigest !== inputDigest(requestInputOf(payload.executionInput))) {
    deps.logger.warn("Decision not verified", { requestRef, outcome: "not-verified", reason: "approved input differs from the execution's input" });
    throw new DecisionNotVerified(`The approvers of request ${requestRef} were shown another input than the one this execution runs (approved ${String(approvedDigest)}): nothing was approved.`);
  }
  return { requestRef, verified: true };
}
