import { strict as assert } from "node:assert";
import { InvalidToken, TaskDoesNotExist, TaskTimedOut } from "@aws-sdk/client-sfn";
import { isTransientAwsError } from "../../functions/decision/rules";

describe("isTransientAwsError", () => {
  const metadata = { $metadata: {} };
  it("treats throttling, server faults and network errors as transient", () => {
    assert.equal(isTransientAwsError(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" })), true);
    assert.equal(isTransientAwsError(Object.assign(new Error("boom"), { name: "Whatever", $fault: "server" })), true);
    assert.equal(isTransientAwsError(Object.assign(new Error("reset"), { code: "ECONNRESET" })), true);
    assert.equal(isTransientAwsError(Object.assign(new Error("slow"), { name: "TimeoutError" })), true);
    assert.equal(isTransientAwsError(Object.assign(new Error("x"), { $metadata: { httpStatusCode: 502 } })), true);
  });
  it("treats anything else as fatal, Step Functions' task errors included (their truth is in the execution history)", () => {
    assert.equal(isTransientAwsError(Object.assign(new Error("no"), { name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 400 } })), false);
    for (const error of [new TaskTimedOut({ message: "Provided task does not exist anymore", ...metadata }), new TaskDoesNotExist({ message: "x", ...metadata }), new InvalidToken({ message: "x", ...metadata })]) {
      assert.equal(isTransientAwsError(error), false, error.name);
    }
    assert.equal(isTransientAwsError(undefined), false);
  });
});
