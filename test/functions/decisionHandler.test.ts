import { strict as assert } from "node:assert";
import { GetCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { InvalidToken, SendTaskSuccessCommand, TaskDoesNotExist, TaskTimedOut } from "@aws-sdk/client-sfn";
import { ALL_TRANSPORTS, formPost, jsonPost, type HttpCall } from "../support/events";
import { APPROVAL_TIMEOUT_SECONDS, startHarness, type Harness } from "../support/harness";

describe("decision handler (dynalite + mocked Step Functions)", function () {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());
  beforeEach(() => {
    harness.sfn.resetHistory();
    harness.sfn.on(SendTaskSuccessCommand).resolves({});
  });

  const stored = async (id: string) =>
    (await DynamoDBDocumentClient.from(harness.db.client).send(new GetCommand({ TableName: harness.env.TABLE_NAME, Key: { id } }))).Item!;
  const sendTaskCalls = () => harness.sfn.commandCalls(SendTaskSuccessCommand);

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("approves from the form: one SendTaskSuccess with the decision, then the result page", async () => {
        const { path, taskToken, requestId } = await harness.requestApproval();
        const response = await harness.call(transport, formPost(path, { decision: "approve", comment: "Ship it" }));

        assert.equal(response.statusCode, 200);
        assert.match(response.headers["Content-Type"], /^text\/html; charset=utf-8$/);
        assert.match(response.body, /<h1>Approved<\/h1>/);
        assert.equal(sendTaskCalls().length, 1);
        const input = sendTaskCalls()[0].args[0].input;
        assert.equal(input.taskToken, taskToken);
        const output = JSON.parse(input.output!);
        assert.deepEqual(Object.keys(output).sort(), ["comment", "decidedAt", "decision", "requestId"]);
        assert.equal(output.decision, "approved");
        assert.equal(output.comment, "Ship it");
        assert.equal(output.requestId, requestId);
        const item = await stored(requestId);
        assert.equal(item.status, "APPROVED");
        assert.equal(item.comment, "Ship it");
        assert.equal(item.sourceIp, "203.0.113.7");
        assert.equal(item.userAgent, "Mozilla/5.0 test");
      });

      it("rejects from the form", async () => {
        const { path, requestId } = await harness.requestApproval();
        const response = await harness.call(transport, formPost(path, { decision: "reject" }));
        assert.equal(response.statusCode, 200);
        assert.match(response.body, /<h1>Rejected<\/h1>/);
        assert.equal(JSON.parse(sendTaskCalls()[0].args[0].input.output!).decision, "rejected");
        assert.equal((await stored(requestId)).status, "REJECTED");
      });

      it("never decides on GET, repeated GET or HEAD, with or without a preselected choice", async () => {
        const { path, requestId } = await harness.requestApproval();
        const calls: HttpCall[] = [
          { method: "GET", path },
          { method: "GET", path, query: { choice: "approve" } },
          { method: "HEAD", path },
          { method: "GET", path, query: { choice: "reject", decision: "approve" } },
          { method: "HEAD", path, query: { choice: "approve" } },
        ];
        for (const call of calls) {
          const response = await harness.call(transport, call);
          assert.equal(response.statusCode, 200, `${call.method} ${JSON.stringify(call.query)}`);
          if (call.method === "HEAD") assert.equal(response.body, "");
          else assert.match(response.body, /<h1>Approval needed<\/h1>/);
        }
        assert.equal(sendTaskCalls().length, 0);
        assert.equal((await stored(requestId)).status, "PENDING");
      });

      it("answers a second POST with 409 and the already-decided page, without a second callback", async () => {
        const { path } = await harness.requestApproval();
        await harness.call(transport, formPost(path, { decision: "approve" }));
        const second = await harness.call(transport, formPost(path, { decision: "reject" }));
        assert.equal(second.statusCode, 409);
        assert.match(second.body, /already approved/);
        assert.equal(sendTaskCalls().length, 1);
        const review = await harness.call(transport, { method: "GET", path });
        assert.equal(review.statusCode, 200);
        assert.match(review.body, /<h1>Already approved<\/h1>/);
        assert.ok(!review.body.includes("<form"));
      });

      it("answers 410 for an expired request, on GET and POST, and decides nothing", async () => {
        const { path, requestId } = await harness.requestApproval();
        harness.clock.advanceSeconds(APPROVAL_TIMEOUT_SECONDS);
        try {
          const view = await harness.call(transport, { method: "GET", path });
          assert.equal(view.statusCode, 410);
          assert.equal((await stored(requestId)).status, "PENDING", "GET changes nothing");
          const post = await harness.call(transport, formPost(path, { decision: "approve" }));
          assert.equal(post.statusCode, 410);
          assert.match(post.body, /has expired/);
          assert.equal((await stored(requestId)).status, "EXPIRED");
          assert.equal(sendTaskCalls().length, 0);
        } finally {
          harness.clock.advanceSeconds(-APPROVAL_TIMEOUT_SECONDS);
        }
      });

      it("answers 404 for an unknown or malformed id and for other paths", async () => {
        for (const path of [`/requests/${"Z".repeat(32)}`, "/requests/short", "/requests/", "/", "/requests/../admin"]) {
          const response = await harness.call(transport, { method: "GET", path });
          assert.equal(response.statusCode, 404, path);
        }
        assert.equal((await harness.call(transport, formPost(`/requests/${"Z".repeat(32)}`, { decision: "approve" }))).statusCode, 404);
      });

      it("answers 410 when Step Functions says the task timed out, and closes the request", async () => {
        const { path, requestId } = await harness.requestApproval();
        harness.sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: "Provided task does not exist anymore", $metadata: {} }));
        const response = await harness.call(transport, formPost(path, { decision: "approve" }));
        assert.equal(response.statusCode, 410);
        assert.match(response.body, /no longer waiting/);
        const item = await stored(requestId);
        assert.equal(item.status, "CLOSED");
        assert.equal(item.closedReason, "TaskTimedOut");
        assert.equal((await harness.call(transport, { method: "GET", path })).statusCode, 410);
      });

      it("answers 409 when the token is unknown to Step Functions", async () => {
        for (const error of [new TaskDoesNotExist({ message: "x", $metadata: {} }), new InvalidToken({ message: "x", $metadata: {} })]) {
          const { path, requestId } = await harness.requestApproval();
          harness.sfn.on(SendTaskSuccessCommand).rejects(error);
          assert.equal((await harness.call(transport, formPost(path, { decision: "reject" }))).statusCode, 409);
          assert.equal((await stored(requestId)).status, "CLOSED");
        }
      });

      it("answers 503 on throttling, releases the claim, and lets the person retry", async () => {
        const { path, requestId } = await harness.requestApproval();
        harness.sfn.on(SendTaskSuccessCommand).rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $retryable: { throttling: true } })).resolves({});
        const first = await harness.call(transport, formPost(path, { decision: "approve" }));
        assert.equal(first.statusCode, 503);
        assert.match(first.body, /try again/);
        const released = await stored(requestId);
        assert.equal(released.status, "PENDING");
        assert.equal(released.decision, undefined);
        const retry = await harness.call(transport, formPost(path, { decision: "approve" }));
        assert.equal(retry.statusCode, 200);
        assert.equal(sendTaskCalls().length, 2);
      });

      it("answers 400 for a malformed decision and changes nothing", async () => {
        const { path, requestId } = await harness.requestApproval();
        for (const body of [{ decision: "yes" }, { decision: "approve", comment: "x".repeat(1001) }]) {
          const response = await harness.call(transport, jsonPost(path, body));
          assert.equal(response.statusCode, 400);
          assert.equal(JSON.parse(response.body).error, "invalid_request");
        }
        const garbled = await harness.call(transport, { method: "POST", path, headers: { "Content-Type": "application/json" }, body: "{not json" });
        assert.equal(garbled.statusCode, 400);
        assert.equal((await stored(requestId)).status, "PENDING");
        assert.equal(sendTaskCalls().length, 0);
      });

      it("answers 405 with Allow for other methods, 415 for other media, 403 for cross-site posts", async () => {
        const { path, requestId } = await harness.requestApproval();
        for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
          const response = await harness.call(transport, { method, path });
          assert.equal(response.statusCode, 405, method);
          assert.equal(response.headers.Allow, "GET, HEAD, POST");
        }
        assert.equal((await harness.call(transport, { method: "POST", path, headers: { "Content-Type": "text/plain" }, body: "approve" })).statusCode, 415);
        for (const site of ["cross-site", "same-site"]) {
          assert.equal((await harness.call(transport, formPost(path, { decision: "approve" }, { "Sec-Fetch-Site": site }))).statusCode, 403, site);
        }
        assert.equal((await stored(requestId)).status, "PENDING");
        assert.equal(sendTaskCalls().length, 0);
      });

      it("speaks JSON to scripts: status on GET, the decision on POST, error codes after", async () => {
        const { path, requestId } = await harness.requestApproval();
        const status = await harness.call(transport, { method: "GET", path, headers: { Accept: "application/json" } });
        assert.equal(status.statusCode, 200);
        assert.match(status.headers["Content-Type"], /^application\/json/);
        assert.equal(JSON.parse(status.body).status, "pending");

        const decided = await harness.call(transport, jsonPost(path, { decision: "approve", comment: "from chat" }));
        assert.equal(decided.statusCode, 200);
        const body = JSON.parse(decided.body);
        assert.equal(body.requestId, requestId);
        assert.equal(body.decision, "approved");
        assert.equal(body.comment, "from chat");
        assert.equal(body.error, undefined);

        const again = await harness.call(transport, jsonPost(path, { decision: "reject" }));
        assert.equal(again.statusCode, 409);
        assert.equal(JSON.parse(again.body).error, "already_decided");
      });

      it("sends the security headers on every answer", async () => {
        const { path } = await harness.requestApproval();
        for (const response of [await harness.call(transport, { method: "GET", path }), await harness.call(transport, { method: "GET", path: "/nope" })]) {
          assert.equal(response.headers["Cache-Control"], "no-store");
          assert.equal(response.headers["Referrer-Policy"], "no-referrer");
          assert.match(response.headers["X-Robots-Tag"], /noindex/);
          assert.match(response.headers["Content-Security-Policy"], /default-src 'none'/);
        }
      });
    });
  }

  it("lets exactly one of many simultaneous clicks decide", async () => {
    const { path } = await harness.requestApproval();
    const responses = await Promise.all(ALL_TRANSPORTS.flatMap((transport) => [1, 2, 3].map(() => harness.call(transport, formPost(path, { decision: "approve" })))));
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [200, 409, 409, 409, 409, 409, 409, 409, 409]);
    assert.equal(sendTaskCalls().length, 1);
  });

  it("answers 400 for events that are not HTTP at all", async () => {
    const { handleDecisionEvent } = await import("../../functions/decision/decision");
    const { createLogger } = await import("../../functions/shared/logger");
    const lines: string[] = [];
    const deps = { ...(await import("../../functions/decision/index")).dependenciesFromEnvironment(harness.env), logger: createLogger({ service: "decision", write: (line) => lines.push(line) }) };
    const response = await handleDecisionEvent(deps, { Records: [] });
    assert.equal(response.statusCode, 400);
    assert.match(lines[0], /Unrecognised event/);
  });
});
