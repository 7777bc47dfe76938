import { strict as assert } from "node:assert";
import { InvalidToken, TaskDoesNotExist, TaskTimedOut } from "@aws-sdk/client-sfn";
import { classifySendTaskError, requestState } from "../../functions/decision/rules";
import type { ApprovalRequest } from "../../functions/shared/approvalRequest";

const base = { expiresAt: "2026-11-22T10:00:00Z" } as ApprovalRequest;
const before = new Date("2026-11-22T09:59:59Z");
const at = new Date("2026-11-22T10:00:00Z");

describe("requestState", () => {
  it("is pending only before the expiry instant", () => {
    assert.equal(requestState({ ...base, status: "PENDING" }, before), "pending");
    assert.equal(requestState({ ...base, status: "PENDING" }, at), "expired");
  });
  it("reports decided, expired and closed requests as such at any time", () => {
    assert.equal(requestState({ ...base, status: "APPROVED" }, before), "decided");
    assert.equal(requestState({ ...base, status: "REJECTED" }, before), "decided");
    assert.equal(requestState({ ...base, status: "EXPIRED" }, before), "expired");
    assert.equal(requestState({ ...base, status: "CLOSED" }, before), "closed");
  });
});

describe("classifySendTaskError", () => {
  const metadata = { $metadata: {} };
  it("maps Step Functions' task errors", () => {
    assert.equal(classifySendTaskError(new TaskTimedOut({ message: "Provided task does not exist anymore", ...metadata })), "timedOut");
    assert.equal(classifySendTaskError(new TaskDoesNotExist({ message: "x", ...metadata })), "gone");
    assert.equal(classifySendTaskError(new InvalidToken({ message: "x", ...metadata })), "gone");
  });
  it("treats throttling, server faults and network errors as transient", () => {
    assert.equal(classifySendTaskError(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" })), "transient");
    assert.equal(classifySendTaskError(Object.assign(new Error("boom"), { name: "Whatever", $fault: "server" })), "transient");
    assert.equal(classifySendTaskError(Object.assign(new Error("reset"), { code: "ECONNRESET" })), "transient");
  });
  it("treats anything else as fatal", () => {
    assert.equal(classifySendTaskError(Object.assign(new Error("no"), { name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 400 } })), "fatal");
    assert.equal(classifySendTaskError(undefined), "fatal");
  });
});
