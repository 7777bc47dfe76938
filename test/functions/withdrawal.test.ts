import { strict as assert } from "node:assert";
import { SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { parseRequestApprovalPayload } from "../../functions/requestApproval/payload";
import { DEFAULT_WITHDRAWAL_REASON, executionEndedTransition, executionStatusChangeEvent } from "../../functions/requestApproval/withdrawal";
import { createHandler, dependenciesFromEnvironment } from "../../functions/requestApproval/index";
import type { ApprovalRequest } from "../../functions/shared/approvalRequest";
import { createLogger } from "../../functions/shared/logger";
import { jsonPost } from "../support/events";
import { startHarness, type Harness, type RequestedApproval } from "../support/harness";

const [ANN, BOB] = ["ann@example.com", "bob@example.com"];
const STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:release";

describe("withdrawal: an execution that ended closes its request (request-approval function)", () => {
  describe("the event and the transition", () => {
    const request = { id: "req-x", status: "PENDING", version: 3, approvers: [ANN, BOB], votes: [], expiresAt: "2999-01-01T00:00:00.000Z", requestedBy: undefined } as unknown as ApprovalRequest;
    const context = { now: new Date("2026-11-22T10:00:00.000Z"), stackApprovers: [ANN, BOB] };

    it("reads EventBridge's execution status change, and nothing from its input", () => {
      const event = executionStatusChangeEvent({ executionArn: `${STATE_MACHINE_ARN.replace("stateMachine", "execution")}:run-1`, stateMachineArn: STATE_MACHINE_ARN, name: "run-1", status: "ABORTED", error: "Withdrawn", cause: "Release cancelled" });
      assert.deepEqual(parseRequestApprovalPayload({ ...event, detail: { ...event.detail, input: '{"secret":"x"}' } }), {
        kind: "executionEnded",
        execution: { id: event.detail.executionArn, name: "run-1" },
        status: "ABORTED",
        error: "Withdrawn",
        cause: "Release cancelled",
      });
      assert.deepEqual(parseRequestApprovalPayload({ kind: "remind" }), { kind: "remind" });
      assert.throws(() => parseRequestApprovalPayload({ ...event, detail: {} }), /detail\.executionArn/);
    });

    it("a stop withdraws an open request with its cause as the reason, and tells the approvers", () => {
      const step = executionEndedTransition(request, { status: "ABORTED", cause: "Release cancelled" }, context);
      assert.equal(step.next?.status, "WITHDRAWN");
      assert.equal(step.next?.closedReason, "Release cancelled");
      assert.equal(step.next?.version, 4);
      assert.deepEqual(step.effects, [{ type: "notifyOutcome", recipients: [ANN, BOB] }]);
      assert.equal(executionEndedTransition(request, { status: "ABORTED" }, context).next?.closedReason, DEFAULT_WITHDRAWAL_REASON);
    });

    it("a failure or timeout closes it, saying so; a settled request is left as it is", () => {
      const failed = executionEndedTransition(request, { status: "FAILED", cause: "boom" }, context);
      assert.equal(failed.next?.status, "CLOSED");
      assert.equal(failed.next?.closedReason, "The execution failed before a decision reached it: boom");
      assert.equal(executionEndedTransition(request, { status: "TIMED_OUT" }, context).next?.closedReason, "The execution timed out before a decision reached it.");
      // SETTLING too: its decision may already have reached the workflow; the decision function settles it from the history.
      for (const status of ["SETTLING", "APPROVED", "REJECTED", "EXPIRED", "WITHDRAWN", "CLOSED"]) {
        for (const ended of ["ABORTED", "FAILED", "TIMED_OUT"]) {
          assert.equal(executionEndedTransition({ ...request, status } as ApprovalRequest, { status: ended }, context).next, undefined, `${status} after ${ended}`);
        }
      }
    });
  });

  describe("the executionEnded entry", () => {
    let harness: Harness;
    let handle: (event: unknown) => Promise<unknown>;
    let stepFunctions: SFNClient;
    before(async () => {
      harness = await startHarness({ approverEmails: [ANN, BOB], requiredApprovals: 2 });
      stepFunctions = new SFNClient({});
    });
    after(async () => {
      stepFunctions.destroy();
      await harness.close();
    });
    beforeEach(() => {
      harness.clock.now = new Date();
      const handler = createHandler({ ...dependenciesFromEnvironment(harness.env), now: () => harness.clock.now, logger: createLogger({ service: "request-approval", write: (line) => harness.logLines.push(line) }) });
      handle = (event) => handler(event, { awsRequestId: "withdrawal-test" });
    });

    const eventFor = (approval: RequestedApproval, status: string, cause?: string) =>
      executionStatusChangeEvent({ executionArn: approval.executionArn, stateMachineArn: STATE_MACHINE_ARN, name: approval.executionName, status, error: status === "ABORTED" ? "Withdrawn" : "States.Runtime", cause });
    const noticesOf = (approval: RequestedApproval, word: string) => harness.standIn.emails.filter((email) => email.subject.startsWith(`${word}:`) && email.message.includes(`Reference:  ${approval.requestRef}\n`));
    const stop = (approval: RequestedApproval, cause: string) => stepFunctions.send(new StopExecutionCommand({ executionArn: approval.executionArn, error: "Withdrawn", cause }));

    it("withdraws a stopped execution's request: recorded with the reason, the approvers told, every link 410", async () => {
      const approval = await harness.requestApproval({ title: "Deploy 42" });
      assert.equal((await harness.call("functionUrl", jsonPost(approval.links[ANN], { decision: "approve" }))).statusCode, 200);
      await stop(approval, "Release 42 was cancelled");
      assert.deepEqual(await handle(eventFor(approval, "ABORTED", "Release 42 was cancelled")), { requestRef: approval.requestRef, status: "WITHDRAWN" });

      const stored = await harness.stored(approval.requestRef);
      assert.equal(stored.status, "WITHDRAWN");
      assert.equal(stored.closedReason, "Release 42 was cancelled");
      assert.equal(stored.votes.length, 1, "the votes stay on record");

      const [notice] = noticesOf(approval, "Withdrawn");
      assert.deepEqual([...notice.recipients].sort(), [ANN, BOB]);
      assert.match(notice.message, /Release 42 was cancelled/);
      assert.ok(!/\/requests\//.test(notice.message), "a notice carries no link");

      for (const approver of [ANN, BOB]) {
        assert.equal((await harness.call("functionUrl", { method: "GET", path: approval.links[approver] })).statusCode, 410);
        assert.equal((await harness.call("httpApi", jsonPost(approval.links[approver], { decision: "approve" }))).statusCode, 410);
      }

      // EventBridge delivers at least once: a second delivery changes and sends nothing.
      await handle(eventFor(approval, "ABORTED", "Release 42 was cancelled"));
      assert.equal(noticesOf(approval, "Withdrawn").length, 1);
    });

    it("takes the reason from the execution itself, and ignores an event for an execution still running", async () => {
      const approval = await harness.requestApproval({ title: "Forged" });
      assert.deepEqual(await handle(eventFor(approval, "ABORTED", "someone says so")), { requestRef: approval.requestRef, status: "ignored" });
      assert.equal((await harness.stored(approval.requestRef)).status, "PENDING");

      await stop(approval, "The real reason");
      await handle(eventFor(approval, "ABORTED"));
      assert.equal((await harness.stored(approval.requestRef)).closedReason, "The real reason");
    });

    it("keeps a vote that lands while it closes the request (version-conditioned write, read again)", async () => {
      const approval = await harness.requestApproval({ title: "Race" });
      await stop(approval, "Called off");
      const real = dependenciesFromEnvironment(harness.env);
      let raced = false;
      // The store as the function sees it, with a vote landing right after the function read the request.
      const store = new Proxy(real.store, {
        get(target, property) {
          if (property === "get") {
            return async (requestRef: string) => {
              const read = await target.get(requestRef);
              if (!raced) {
                raced = true;
                assert.equal((await harness.call("functionUrl", jsonPost(approval.links[BOB], { decision: "approve" }))).statusCode, 200);
              }
              return read;
            };
          }
          const value = Reflect.get(target, property);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const handler = createHandler({ ...real, store, now: () => harness.clock.now, logger: createLogger({ service: "request-approval", write: () => undefined }) });
      await handler(eventFor(approval, "ABORTED"), { awsRequestId: "race" });
      const stored = await harness.stored(approval.requestRef);
      assert.equal(stored.status, "WITHDRAWN");
      assert.deepEqual(stored.votes.map((vote) => vote.approver), [BOB], "the vote that landed meanwhile is kept");
    });

    it("closes the request of a failed execution", async () => {
      const approval = await harness.requestApproval({ title: "Failing" });
      harness.standIn.endExecution(approval.executionArn, "FAILED", {}, { error: "States.Runtime", cause: "An error occurred" });
      await handle(eventFor(approval, "FAILED"));
      const stored = await harness.stored(approval.requestRef);
      assert.equal(stored.status, "CLOSED");
      assert.equal(stored.closedReason, "The execution failed before a decision reached it: An error occurred");
      assert.equal(noticesOf(approval, "Closed").length, 1);
    });

    it("leaves a decided request as it is", async () => {
      const approval = await harness.requestApproval({ title: "Decided first" });
      assert.equal((await harness.call("functionUrl", jsonPost(approval.links[ANN], { decision: "reject" }))).statusCode, 200);
      await approval.received;
      harness.standIn.endExecution(approval.executionArn, "ABORTED", {}, { cause: "too late" });
      assert.deepEqual(await handle(eventFor(approval, "ABORTED")), { requestRef: approval.requestRef, status: "REJECTED" });
      assert.equal(noticesOf(approval, "Withdrawn").length, 0);
    });

    it("ignores an execution that has no request (refused before anything was stored)", async () => {
      const executionArn = `${STATE_MACHINE_ARN.replace("stateMachine", "execution")}:never-stored`;
      harness.standIn.startExecution(executionArn, {});
      harness.standIn.endExecution(executionArn, "FAILED", {}, { error: "InvalidApprovalRequest", cause: "unknown approver" });
      const result = await handle(executionStatusChangeEvent({ executionArn, stateMachineArn: STATE_MACHINE_ARN, name: "never-stored", status: "FAILED" }));
      assert.equal((result as { status: string }).status, "unknown");
    });
  });
});
