import { strict as assert } from "node:assert";
import { deliver, receivedFromHistory, type Workflow, type WorkflowHistoryEvent } from "../../functions/shared/delivery";
import type { ApprovalOutput, ApprovalRequest } from "../../functions/shared/approvalRequest";
import { createLogger } from "../../functions/shared/logger";

const RESOURCE = "invoke.waitForTaskToken";
const output: ApprovalOutput = {
  decision: "approved",
  decidedBy: "ann@example.com",
  decidedAt: "2026-11-22T10:00:00.000Z",
  comment: "",
  approvals: [{ approver: "ann@example.com", decision: "approved", decidedAt: "2026-11-22T10:00:00.000Z", comment: "" }],
  requestRef: "req-AAAAAAAAAAAAAAAAAAAA",
  inputDigest: "sha256:00",
};
const succeeded = (value: unknown, resource = RESOURCE): WorkflowHistoryEvent => ({ type: "TaskSucceeded", taskSucceededEventDetails: { resource, output: JSON.stringify(value) } });

describe("receivedFromHistory: what the waiting task received", () => {
  it("is the waiting task's TaskSucceeded output", () => {
    assert.deepEqual(receivedFromHistory([succeeded(output), { type: "TaskSubmitted" }, { type: "TaskScheduled" }], output.requestRef), { type: "delivered", output });
  });
  it("is the output someone else sent, if that is what the workflow took", () => {
    const theirs = { ...output, decision: "rejected", requestRef: "req-other" };
    assert.deepEqual(receivedFromHistory([succeeded(theirs)], output.requestRef), { type: "delivered", output: theirs });
  });
  it("ignores other tasks' successes and outputs that are not decisions", () => {
    assert.equal(receivedFromHistory([succeeded(output, "invoke"), succeeded({ hello: 1 }), { type: "TaskScheduled" }], output.requestRef), undefined);
  });
  it("reports a timed-out waiting task", () => {
    assert.deepEqual(receivedFromHistory([{ type: "TaskTimedOut", taskTimedOutEventDetails: { resource: RESOURCE } }], output.requestRef), { type: "taskTimedOut" });
  });
  it("reports an execution that ended without the decision", () => {
    for (const [type, status] of [["ExecutionAborted", "ABORTED"], ["ExecutionFailed", "FAILED"], ["ExecutionTimedOut", "TIMED_OUT"], ["ExecutionSucceeded", "SUCCEEDED"]]) {
      assert.deepEqual(receivedFromHistory([{ type }, { type: "TaskScheduled" }], output.requestRef), { type: "executionEnded", executionStatus: status });
    }
  });
  it("is undefined while the task still waits", () => {
    assert.equal(receivedFromHistory([{ type: "TaskSubmitted" }, { type: "TaskScheduled" }, { type: "ExecutionStarted" }], output.requestRef), undefined);
  });
});

describe("deliver", () => {
  const request = { id: output.requestRef, taskToken: "token", executionArn: "arn:execution" } as ApprovalRequest;
  const logger = createLogger({ service: "test", write: () => undefined });
  const workflow = (send: () => Promise<void>, history: () => Promise<WorkflowHistoryEvent[]>): Workflow & { sent: number; looked: number } => {
    const fake = { sent: 0, looked: 0, sendTaskSuccess: async () => (fake.sent++, send()), history: async () => (fake.looked++, history()) };
    return fake;
  };
  const lostReply = () => Promise.reject(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));

  it("reports a plain success without reading the history", async () => {
    const fake = workflow(async () => undefined, async () => assert.fail("no history needed"));
    assert.deepEqual(await deliver(fake, request, output, logger), { type: "delivered", output });
    assert.equal(fake.sent, 1);
  });
  it("on an unknown outcome, believes the history: applied, timed out, or still waiting", async () => {
    assert.deepEqual(await deliver(workflow(lostReply, async () => [succeeded(output)]), request, output, logger), { type: "delivered", output });
    assert.deepEqual(await deliver(workflow(lostReply, async () => [{ type: "TaskTimedOut", taskTimedOutEventDetails: { resource: RESOURCE } }]), request, output, logger), { type: "taskTimedOut" });
    const waiting = await deliver(workflow(lostReply, async () => [{ type: "TaskScheduled" }]), request, output, logger);
    assert.equal(waiting.type, "notDelivered");
    assert.match(waiting.type === "notDelivered" ? waiting.reason : "", /TimeoutError/);
  });
  it("never claims a delivery when the history cannot be read, and sends only once", async () => {
    const fake = workflow(lostReply, () => Promise.reject(new Error("history unavailable")));
    assert.equal((await deliver(fake, request, output, logger)).type, "notDelivered");
    assert.equal(fake.sent, 1);
    assert.equal(fake.looked, 1);
  });
});
