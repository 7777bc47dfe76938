/**
 * A hung connection to each AWS service each function calls (DynamoDB, SNS, KMS, Step Functions): the
 * function must still answer (a 503 or a truthful page; for the request function, a result or an error
 * Step Functions can retry) before Lambda would kill it. The bound is the `timeout` each function is
 * declared with, read from the component as synthesized under Pulumi mocks, never from the budget
 * constants the clients use: a budget that outgrows the deployed timeout fails here. The attempts each
 * client makes are written out, so that a change to a budget fails here too.
 *
 * Hangs are the local AWS stand-in's: it takes the call and never answers, so only the client's own
 * request timeout ends the wait (real time, the clients' real timers: each case costs what its budget
 * allows). DynamoDB is routed through the stand-in, which forwards every call it does not hang to dynalite.
 */
import { strict as assert } from "node:assert";
import { performance } from "node:perf_hooks";
import type { Fault } from "../../local/awsStandIn";
import { requestRefFor } from "../../functions/shared/approvalRequest";
import { leaseUntil } from "../../functions/shared/lifecycle";
import { APPROVER, executionArnOf, jsonOf, startHarness, uniqueExecutionName, type Harness } from "../support/harness";
import { formPost, jsonPost } from "../support/events";
import { synthesizeFunctions, type SynthesizedProgram } from "../support/synthesized";

const DYNAMODB_OPERATIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems"];
const STEP_FUNCTIONS_OPERATIONS = ["SendTaskSuccess", "GetExecutionHistory", "DescribeExecution", "StopExecution"];
/** More hangs than any budget has attempts: every call of the service hangs for as long as the case lasts. */
const EVERY_ATTEMPT = 20;

/** Every call of these operations hangs (until `healAll`). */
function hangAll(harness: Harness, operations: string[]) {
  for (const operation of operations) harness.standIn.injectFaults(operation, ...Array<Fault>(EVERY_ATTEMPT).fill("hang"));
}

function healAll(harness: Harness) {
  harness.standIn.faults.clear();
}

/** Calls of each operation from now on, by operation (only those called). */
function callsFrom(harness: Harness, operations: string[]): () => Record<string, number> {
  const before = Object.fromEntries(operations.map((operation) => [operation, harness.calls(operation)]));
  return () => Object.fromEntries(operations.map((operation) => [operation, harness.calls(operation) - before[operation]]).filter(([, count]) => count !== 0));
}

/** Runs `work`, and fails if it took as long as the function's configured timeout (Lambda would have killed it). */
async function withinTimeout<T>(timeoutSeconds: number, what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < timeoutSeconds * 1000, `${what} took ${Math.round(elapsedMs)} ms: not inside the function's configured timeout of ${timeoutSeconds} s`);
  }
}

describe("a hung AWS service: each function answers before its configured timeout", function () {
  // Each case lasts as long as its budget lets the hung calls wait, and the synthesis bundles both functions.
  this.timeout(120_000);
  let program: SynthesizedProgram;
  let harness: Harness;

  before(async () => {
    program = await synthesizeFunctions({ transport: "functionUrl", approverEmails: [APPROVER] });
    harness = await startHarness();
    harness.routeDynamoDbThroughStandIn(); // so that DynamoDB's calls can hang too
  });
  after(async () => harness?.close());
  afterEach(() => healAll(harness));

  it("the deployed timeouts are the ones these bounds use (decision within API Gateway's 29 s)", () => {
    assert.ok(program.decision.timeoutSeconds <= 29, `the decision function's timeout (${program.decision.timeoutSeconds} s) exceeds what API Gateway REST waits`);
    assert.ok(program.requestApproval.timeoutSeconds > 0);
  });

  it("a delivery's lease outlasts the decision function's configured timeout and is no longer than twice it", () => {
    const now = new Date("2026-11-22T10:00:00.000Z");
    const leaseMs = Date.parse(leaseUntil({ expiresAt: "2027-11-22T10:00:00.000Z" }, now)) - now.getTime();
    const timeoutMs = program.decision.timeoutSeconds * 1000;
    assert.ok(leaseMs >= timeoutMs, `a live deliverer keeps its claim until Lambda would have stopped it (lease ${leaseMs} ms, timeout ${timeoutMs} ms)`);
    assert.ok(leaseMs <= 2 * timeoutMs, `a dead deliverer's claim is taken over within twice the timeout (lease ${leaseMs} ms, timeout ${timeoutMs} ms)`);
  });

  describe("the decision function (a vote)", () => {
    it("DynamoDB hangs: 503 after the first read's two attempts, nothing recorded", async () => {
      const approval = await harness.requestApproval();
      hangAll(harness, DYNAMODB_OPERATIONS);
      const calls = callsFrom(harness, [...DYNAMODB_OPERATIONS, ...STEP_FUNCTIONS_OPERATIONS, "Publish"]);
      const response = await withinTimeout(program.decision.timeoutSeconds, "the vote", () => harness.call("functionUrl", jsonPost(approval.path, { decision: "approve" })));
      assert.equal(response.statusCode, 503);
      assert.equal(jsonOf(response).error, "temporarily_unavailable");
      assert.deepEqual(calls(), { GetItem: 2 }, "two attempts of the first read, then nothing else");
      healAll(harness);
      assert.equal((await harness.stored(approval.requestRef)).status, "PENDING");
      assert.equal(approval.deliveries(), 0);
    });

    it("Step Functions hangs: 503 'vote recorded, the workflow was not told yet' after two attempts at each call", async () => {
      const approval = await harness.requestApproval();
      hangAll(harness, STEP_FUNCTIONS_OPERATIONS);
      const calls = callsFrom(harness, STEP_FUNCTIONS_OPERATIONS);
      const response = await withinTimeout(program.decision.timeoutSeconds, "the vote", () => harness.call("functionUrl", formPost(approval.path, { decision: "approve" })));
      assert.equal(response.statusCode, 503);
      assert.match(response.body, /Vote recorded; the workflow was not told yet/);
      assert.deepEqual(calls(), { SendTaskSuccess: 2, GetExecutionHistory: 2 });
      assert.equal((await harness.stored(approval.requestRef)).status, "SETTLING", "the table says what happened: the vote settled it, delivery pending");
      assert.equal(approval.deliveries(), 0);
    });

    it("SNS hangs: the decision stands and is delivered; the outcome notice is tried once (at most once), the page is truthful", async () => {
      const approval = await harness.requestApproval();
      hangAll(harness, ["Publish"]);
      const calls = callsFrom(harness, ["Publish", "SendTaskSuccess"]);
      const response = await withinTimeout(program.decision.timeoutSeconds, "the vote", () => harness.call("functionUrl", jsonPost(approval.path, { decision: "approve" })));
      assert.equal(response.statusCode, 200);
      assert.equal(jsonOf(response).decision, "approved");
      assert.deepEqual(calls(), { Publish: 1, SendTaskSuccess: 1 });
      assert.equal((await harness.stored(approval.requestRef)).status, "APPROVED");
      assert.equal(approval.deliveries(), 1);
    });

    it("KMS: the decision function never calls it (a KMS hang cannot reach a vote)", async () => {
      const approval = await harness.requestApproval();
      hangAll(harness, ["GenerateMac"]);
      const calls = callsFrom(harness, ["GenerateMac"]);
      const response = await withinTimeout(program.decision.timeoutSeconds, "the vote", () => harness.call("functionUrl", jsonPost(approval.path, { decision: "approve" })));
      assert.equal(response.statusCode, 200);
      assert.deepEqual(calls(), {});
    });
  });

  describe("the request function", () => {
    it("DynamoDB hangs: the request fails (Step Functions retries the task) after five attempts of each write, nobody emailed", async () => {
      hangAll(harness, DYNAMODB_OPERATIONS);
      const calls = callsFrom(harness, [...DYNAMODB_OPERATIONS, "GenerateMac", "Publish"]);
      await withinTimeout(program.requestApproval.timeoutSeconds, "the request", () => assert.rejects(harness.requestApproval({ title: "DynamoDB hangs" }), { name: "TimeoutError" }));
      // The request item and the approver's link item are written at once (the link's MAC first): five attempts each.
      assert.deepEqual(calls(), { PutItem: 10, GenerateMac: 1 });
    });

    it("KMS hangs: the request fails after three attempts at the link's MAC, nobody emailed", async () => {
      hangAll(harness, ["GenerateMac"]);
      const calls = callsFrom(harness, ["GenerateMac", "Publish"]);
      await withinTimeout(program.requestApproval.timeoutSeconds, "the request", () => assert.rejects(harness.requestApproval({ title: "KMS hangs" }), { name: "TimeoutError" }));
      assert.deepEqual(calls(), { GenerateMac: 3 });
    });

    it("SNS hangs: the request fails after three attempts at the email, the request stays stored and unemailed", async () => {
      const executionName = uniqueExecutionName("sns-hangs");
      hangAll(harness, ["Publish"]);
      const calls = callsFrom(harness, ["Publish"]);
      await withinTimeout(program.requestApproval.timeoutSeconds, "the request", () => assert.rejects(harness.requestApproval({ title: "SNS hangs" }, { executionName }), { name: "TimeoutError" }));
      assert.deepEqual(calls(), { Publish: 3 });
      const stored = await harness.stored(requestRefFor(executionArnOf(executionName)));
      assert.equal(stored.status, "PENDING");
      assert.deepEqual(stored.notified, [], "nobody is marked emailed: the retried task emails them");
    });

    it("Step Functions hangs during a sweep: the sweeper answers, the delivery stays pending for the next sweep", async () => {
      // Earlier cases may have left a delivery pending: this sweep finishes them, so that only this one is found below.
      await harness.invokeRequestFunction({ kind: "sweep" });
      const approval = await harness.requestApproval();
      harness.standIn.injectFaults("SendTaskSuccess", "throttle", "throttle");
      harness.standIn.injectFaults("GetExecutionHistory", "throttle", "throttle");
      assert.equal((await harness.call("functionUrl", jsonPost(approval.path, { decision: "approve" }))).statusCode, 503);
      healAll(harness);
      assert.equal((await harness.stored(approval.requestRef)).status, "SETTLING");

      hangAll(harness, STEP_FUNCTIONS_OPERATIONS);
      const calls = callsFrom(harness, STEP_FUNCTIONS_OPERATIONS);
      const result = await withinTimeout(program.requestApproval.timeoutSeconds, "the sweep", () => harness.invokeRequestFunction({ kind: "sweep" }));
      assert.deepEqual(result, { found: 1, resumed: 1, statuses: { SETTLING: 1 } });
      assert.deepEqual(calls(), { SendTaskSuccess: 2, GetExecutionHistory: 2 });
      assert.equal((await harness.stored(approval.requestRef)).status, "SETTLING");
      assert.equal(approval.deliveries(), 0);

      healAll(harness);
      await harness.invokeRequestFunction({ kind: "sweep" });
      assert.equal((await harness.stored(approval.requestRef)).status, "APPROVED", "the next sweep delivers");
      assert.equal(approval.deliveries(), 1);
    });
  });
});
