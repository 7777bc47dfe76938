import { strict as assert } from "node:assert";
import { DecisionNotVerified, verifyDecision } from "../../functions/requestApproval/verification";
import { inputDigest } from "../../functions/requestApproval/summary";
import { requestRefFor, type ApprovalOutput, type ApprovalRequest } from "../../functions/shared/approvalRequest";
import { createLogger } from "../../functions/shared/logger";
import type { RequestStore } from "../../functions/shared/requestStore";

/** The workflow's "Verify decision" step: only the output the approvers' votes settled may go on. */
const EXECUTION = { id: "arn:aws:states:eu-west-1:123456789012:execution:release:run-7", name: "run-7" };
const INPUT = { title: "Delete the production database" };
const output: ApprovalOutput = {
  decision: "approved",
  decidedBy: "bob@example.com",
  decidedAt: "2026-11-22T10:02:00.000Z",
  comment: "",
  approvals: [{ approver: "bob@example.com", decision: "approved", decidedAt: "2026-11-22T10:02:00.000Z", comment: "" }],
  requestRef: requestRefFor(EXECUTION.id),
  inputDigest: inputDigest(INPUT),
};
const logger = createLogger({ service: "test", write: () => undefined });
const storeWith = (request: Partial<ApprovalRequest> | undefined) => ({ get: async (ref: string) => (request && ref === requestRefFor(EXECUTION.id) ? request : undefined) }) as unknown as RequestStore;

describe("verifyDecision (the workflow's check of what it received)", () => {
  it("lets the recorded settlement through, whatever its key order", async () => {
    const reordered = Object.fromEntries(Object.entries(output).reverse());
    assert.deepEqual(await verifyDecision({ store: storeWith({ settlement: { output, settledAt: output.decidedAt, leaseUntil: output.decidedAt } }), logger }, { kind: "verify", execution: EXECUTION, approval: reordered, executionInput: INPUT }), { requestRef: output.requestRef, verified: true });
  });

  it("refuses an output that differs from the settlement: someone else answered the task with its token", async () => {
    const forged = { ...output, decidedBy: "ceo@example.com" };
    await assert.rejects(verifyDecision({ store: storeWith({ settlement: { output, settledAt: output.decidedAt, leaseUntil: output.decidedAt } }), logger }, { kind: "verify", execution: EXECUTION, approval: forged, executionInput: INPUT }), (error: Error) => error instanceof DecisionNotVerified && /not the one the approvers' votes settled/.test(error.message));
  });

  it("refuses any decision for a request no votes settled, or no request at all", async () => {
    await assert.rejects(verifyDecision({ store: storeWith({ votes: [] }), logger }, { kind: "verify", execution: EXECUTION, approval: output, executionInput: INPUT }), DecisionNotVerified);
    await assert.rejects(verifyDecision({ store: storeWith(undefined), logger }, { kind: "verify", execution: EXECUTION, approval: output, executionInput: INPUT }), DecisionNotVerified);
  });

  it("refuses the settled output when the approvers were shown another input than the execution runs", async () => {
    const settledOn = { settlement: { output, settledAt: output.decidedAt, leaseUntil: output.decidedAt } };
    const verify = (executionInput: unknown) => verifyDecision({ store: storeWith(settledOn), logger }, { kind: "verify", execution: EXECUTION, approval: output, executionInput });
    await assert.rejects(verify({ title: "Fix a typo in README" }), (error: Error) => error instanceof DecisionNotVerified && /shown another input than the one this execution runs/.test(error.message));
    await assert.rejects(verify(undefined), DecisionNotVerified, "a payload without the execution's input proves nothing");
    // A non-object input is approved as the state machine wraps it.
    const wrapped = { ...output, inputDigest: inputDigest({ input: [1, 2] }) };
    assert.deepEqual(await verifyDecision({ store: storeWith({ settlement: { output: wrapped, settledAt: output.decidedAt, leaseUntil: output.decidedAt } }), logger }, { kind: "verify", execution: EXECUTION, approval: wrapped, executionInput: [1, 2] }), { requestRef: output.requestRef, verified: true });
  });
});
