import { strict as assert } from "node:assert";
import { handleDecisionEvent } from "../../functions/decision/decision";
import { dependenciesFromEnvironment } from "../../functions/decision/index";
import { inputDigest } from "../../functions/requestApproval/summary";
import { createLogger } from "../../functions/shared/logger";
import { ALL_TRANSPORTS, formPost, jsonPost, type HttpCall } from "../support/events";
import { APPROVAL_TIMEOUT_SECONDS, APPROVER, headingOf, jsonOf, leadOf, startHarness, type Harness } from "../support/harness";

/** One approver, one approval needed: the decision endpoint's HTTP contract, against dynalite and the AWS stand-in. */
describe("decision handler (dynalite + AWS stand-in)", function () {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("approves from the form: one SendTaskSuccess with the decision, then the result page", async () => {
        const input = { title: "Deploy release 42", details: { version: "42" } };
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        const approval = await harness.requestApproval(input);
        const response = await harness.call(transport, formPost(approval.path, { decision: "approve", comment: "Ship it" }));

        assert.equal(response.statusCode, 200);
        assert.match(response.headers["Content-Type"], /^text\/html; charset=utf-8$/);
        assert.equal(headingOf(response), "Approved");
        assert.match(leadOf(response), /the workflow received this decision/);
        assert.equal(sendTaskSuccess(), 1);
        // The waiting task (registered under this request's token) received exactly this output.
        const output = await approval.received;
        assert.deepEqual(Object.keys(output).sort(), ["approvals", "comment", "decidedAt", "decidedBy", "decision", "inputDigest", "requestRef"]);
        assert.equal(output.decision, "approved");
        assert.equal(output.decidedBy, APPROVER);
        assert.equal(output.comment, "Ship it");
        assert.equal(output.requestRef, approval.requestRef);
        assert.equal(output.inputDigest, inputDigest(input));
        assert.deepEqual(output.approvals, [{ approver: APPROVER, decision: "approved", decidedAt: output.decidedAt, comment: "Ship it", channel: "email" }]);
        assert.equal(approval.deliveries(), 1);

        const item = await harness.stored(approval.requestRef);
        assert.equal(item.status, "APPROVED");
        assert.deepEqual(item.settlement?.output, output, "the table records what the workflow received");
        assert.ok(item.deliveredAt);
        assert.equal(item.votes.length, 1);
        assert.equal(item.votes[0].comment, "Ship it");
        assert.equal(item.votes[0].sourceIp, "203.0.113.7");
        assert.equal(item.votes[0].userAgent, "Mozilla/5.0 test");
      });

      it("rejects from the form", async () => {
        const approval = await harness.requestApproval();
        const response = await harness.call(transport, formPost(approval.path, { decision: "reject" }));
        assert.equal(response.statusCode, 200);
        assert.equal(headingOf(response), "Rejected");
        assert.equal((await approval.received).decision, "rejected");
        assert.equal((await harness.stored(approval.requestRef)).status, "REJECTED");
      });

      it("never decides on GET, repeated GET or HEAD, with or without a preselected choice", async () => {
        const approval = await harness.requestApproval();
        const { path } = approval;
        const before = await harness.stored(approval.requestRef);
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
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
          else assert.equal(headingOf(response), "Deploy release 42", "the request's title is the review page's heading");
        }
        assert.equal(sendTaskSuccess(), 0);
        assert.deepEqual(await harness.stored(approval.requestRef), before, "the item is untouched, version included");
      });

      it("answers a repeated POST calmly for the same choice and 409 for another, without a second callback", async () => {
        const approval = await harness.requestApproval();
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        await harness.call(transport, formPost(approval.path, { decision: "approve", comment: "first" }));
        const same = await harness.call(transport, formPost(approval.path, { decision: "approve", comment: "again" }));
        assert.equal(same.statusCode, 200);
        assert.match(leadOf(same), /already recorded/);
        const other = await harness.call(transport, formPost(approval.path, { decision: "reject" }));
        assert.equal(other.statusCode, 409);
        assert.match(headingOf(other), /^Your rejection was not recorded: you already approved this request at /);
        assert.equal(sendTaskSuccess(), 1);
        assert.equal(approval.deliveries(), 1);
        const item = await harness.stored(approval.requestRef);
        assert.deepEqual(item.votes.map((vote) => [vote.decision, vote.comment]), [["approved", "first"]], "neither repeat changed the vote");

        const review = await harness.call(transport, { method: "GET", path: approval.path });
        assert.equal(review.statusCode, 200);
        assert.equal(headingOf(review), "Approved");
        assert.ok(!review.body.includes("<form"));
      });

      it("answers 410 for an expired request, on GET and POST, and decides nothing", async () => {
        const approval = await harness.requestApproval();
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        const before = await harness.stored(approval.requestRef);
        harness.clock.advanceSeconds(APPROVAL_TIMEOUT_SECONDS);
        try {
          const view = await harness.call(transport, { method: "GET", path: approval.path });
          assert.equal(view.statusCode, 410);
          assert.equal(headingOf(view), "This request has expired");
          const post = await harness.call(transport, formPost(approval.path, { decision: "approve" }));
          assert.equal(post.statusCode, 410);
          assert.match(headingOf(post), /^Your approval was not recorded: the request expired at /);
          const json = await harness.call(transport, jsonPost(approval.path, { decision: "approve" }));
          assert.equal(json.statusCode, 410);
          assert.equal(jsonOf(json).status, "expired", "the effective state, not the stored PENDING");
          assert.equal(jsonOf(json).error, "expired");
          assert.deepEqual(await harness.stored(approval.requestRef), before, "a visit after expiry writes nothing");
          assert.equal(sendTaskSuccess(), 0);

          // The workflow's timeout path closes the item and tells the approver.
          await harness.timeOut(approval);
          const closed = await harness.stored(approval.requestRef);
          assert.equal(closed.status, "EXPIRED");
          assert.deepEqual(closed.votes, []);
          assert.equal((await harness.call(transport, { method: "GET", path: approval.path })).statusCode, 410);
        } finally {
          harness.clock.advanceSeconds(-APPROVAL_TIMEOUT_SECONDS);
        }
      });

      it("answers 404 for an unknown or malformed link and for other paths", async () => {
        for (const path of [`/requests/${"Z".repeat(32)}`, "/requests/short", "/requests/", "/", "/requests/../admin"]) {
          const response = await harness.call(transport, { method: "GET", path });
          assert.equal(response.statusCode, 404, path);
        }
        assert.equal((await harness.call(transport, formPost(`/requests/${"Z".repeat(32)}`, { decision: "approve" }))).statusCode, 404);
      });

      it("answers 410 when the workflow stopped waiting (TaskTimedOut), records the expiry, and says the vote did not reach it", async () => {
        const approval = await harness.requestApproval();
        harness.standIn.finishTask(approval.taskToken, "timedOut"); // the task timed out; its timeout path has not run yet
        const response = await harness.call(transport, formPost(approval.path, { decision: "approve" }));
        assert.equal(response.statusCode, 410);
        assert.equal(headingOf(response), "This request has expired");
        assert.match(leadOf(response), /The workflow received &#34;expired&#34;/);
        assert.doesNotMatch(response.body, /<h1>Approved/);
        const item = await harness.stored(approval.requestRef);
        assert.equal(item.status, "EXPIRED");
        assert.match(item.closedReason ?? "", /timed out/);
        assert.equal(approval.receivedOutput(), undefined);
        assert.equal(approval.deliveries(), 0);
        assert.equal((await harness.call(transport, { method: "GET", path: approval.path })).statusCode, 410);
      });

      it("answers 410 when the execution was stopped, and records it as withdrawn", async () => {
        const approval = await harness.requestApproval();
        harness.standIn.finishTask(approval.taskToken);
        harness.standIn.endExecution(approval.executionArn, "ABORTED");
        const response = await harness.call(transport, jsonPost(approval.path, { decision: "reject" }));
        assert.equal(response.statusCode, 410);
        assert.equal(jsonOf(response).status, "withdrawn");
        assert.equal(jsonOf(response).error, "withdrawn");
        assert.equal(jsonOf(response).decision, undefined, "no decision is reported that the workflow did not receive");
        assert.equal((await harness.stored(approval.requestRef)).status, "WITHDRAWN");
      });

      it("never reports a decision Step Functions refused (TaskDoesNotExist): the request is closed, 410, nothing claimed", async () => {
        const approval = await harness.requestApproval(undefined, { registerTask: false });
        const response = await harness.call(transport, jsonPost(approval.path, { decision: "reject" }));
        assert.equal(response.statusCode, 410);
        assert.equal(jsonOf(response).status, "closed");
        assert.equal(jsonOf(response).error, "no_longer_waiting");
        assert.equal(jsonOf(response).decision, undefined, "no decision is reported that the workflow did not receive");
        const closed = await harness.stored(approval.requestRef);
        assert.equal(closed.status, "CLOSED");
        assert.match(closed.closedReason ?? "", /TaskDoesNotExist/);
        const view = await harness.call(transport, { method: "GET", path: approval.path });
        assert.equal(view.statusCode, 410);
        assert.equal(headingOf(view), "This request can no longer be decided");
        assert.equal(approval.deliveries(), 0);
      });

      it("answers 503 when Step Functions throttles every attempt, keeps the vote, and lets the person retry", async () => {
        const approval = await harness.requestApproval();
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        // The decision function tries SendTaskSuccess twice per request (written out: a change to its budget fails here).
        harness.standIn.injectFaults("SendTaskSuccess", "throttle", "throttle");
        const first = await harness.call(transport, formPost(approval.path, { decision: "approve" }));
        assert.equal(first.statusCode, 503);
        assert.equal(first.headers["Retry-After"], "5");
        assert.match(leadOf(first), /Reload this page/);
        const pending = await harness.stored(approval.requestRef);
        assert.equal(pending.status, "SETTLING", "the vote settled it; the delivery is still owed");
        assert.equal(pending.votes.length, 1);
        assert.ok(Date.parse(pending.settlement!.leaseUntil) <= harness.clock.now.getTime(), "the lease is free for the retry");
        assert.equal(approval.receivedOutput(), undefined);

        const retry = await harness.call(transport, formPost(approval.path, { decision: "approve" }));
        assert.equal(retry.statusCode, 200);
        assert.equal(headingOf(retry), "Approved");
        assert.equal(sendTaskSuccess(), 3, "two throttled attempts, then the retry's first");
        assert.equal(approval.deliveries(), 1);
        assert.equal((await approval.received).decision, "approved");
        assert.equal((await harness.stored(approval.requestRef)).status, "APPROVED");
      });

      it("answers 400 for a malformed decision and changes nothing", async () => {
        const approval = await harness.requestApproval();
        const before = await harness.stored(approval.requestRef);
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        for (const body of [{ decision: "yes" }, { decision: "approve", comment: "x".repeat(1001) }]) {
          const response = await harness.call(transport, jsonPost(approval.path, body));
          assert.equal(response.statusCode, 400);
          assert.equal(jsonOf(response).error, "invalid_request");
        }
        const garbled = await harness.call(transport, { method: "POST", path: approval.path, headers: { "Content-Type": "application/json" }, body: "{not json" });
        assert.equal(garbled.statusCode, 400);
        assert.deepEqual(await harness.stored(approval.requestRef), before);
        assert.equal(sendTaskSuccess(), 0);
      });

      it("answers 405 with Allow for other methods, 415 for other media, 403 for cross-site posts", async () => {
        const approval = await harness.requestApproval();
        const { path } = approval;
        const before = await harness.stored(approval.requestRef);
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
          const response = await harness.call(transport, { method, path });
          assert.equal(response.statusCode, 405, method);
          assert.equal(response.headers.Allow, "GET, HEAD, POST");
        }
        assert.equal((await harness.call(transport, { method: "POST", path, headers: { "Content-Type": "text/plain" }, body: "approve" })).statusCode, 415);
        for (const site of ["cross-site", "same-site"]) {
          assert.equal((await harness.call(transport, formPost(path, { decision: "approve" }, { "Sec-Fetch-Site": site }))).statusCode, 403, site);
        }
        assert.deepEqual(await harness.stored(approval.requestRef), before);
        assert.equal(sendTaskSuccess(), 0);
      });

      it("speaks JSON to scripts: status on GET, the decision and votes on POST, error codes after", async () => {
        const approval = await harness.requestApproval();
        const status = await harness.call(transport, { method: "GET", path: approval.path, headers: { Accept: "application/json" } });
        assert.equal(status.statusCode, 200);
        assert.match(status.headers["Content-Type"], /^application\/json/);
        assert.equal(jsonOf(status).status, "pending");
        assert.equal(jsonOf(status).approver, APPROVER);
        assert.deepEqual(jsonOf(status).votes, []);

        const decided = await harness.call(transport, jsonPost(approval.path, { decision: "approve", comment: "from chat" }));
        assert.equal(decided.statusCode, 200);
        const body = jsonOf(decided);
        assert.equal(body.requestRef, approval.requestRef);
        assert.equal(body.requestId, undefined);
        assert.equal(body.status, "approved");
        assert.equal(body.decision, "approved");
        assert.equal(body.decidedBy, APPROVER);
        assert.equal(body.comment, "from chat");
        assert.deepEqual(body.votes.map((vote: { approver: string; decision: string }) => [vote.approver, vote.decision]), [[APPROVER, "approved"]]);
        assert.equal(body.error, undefined);

        const again = await harness.call(transport, jsonPost(approval.path, { decision: "reject" }));
        assert.equal(again.statusCode, 409);
        assert.equal(jsonOf(again).error, "already_voted");
        assert.equal(jsonOf(again).status, "approved");
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

  it("lets exactly one of many simultaneous clicks on one link decide; every other click is told the vote was already recorded", async () => {
    const approval = await harness.requestApproval();
    const sendTaskSuccess = harness.counter("SendTaskSuccess");
    const responses = await Promise.all(ALL_TRANSPORTS.flatMap((transport) => [1, 2, 3].map(() => harness.call(transport, formPost(approval.path, { decision: "approve" })))));
    assert.equal(sendTaskSuccess(), 1);
    assert.equal(approval.deliveries(), 1);
    const leads = responses.map(leadOf);
    assert.equal(leads.filter((lead) => lead.startsWith("Your vote is recorded")).length, 1, "exactly one click cast the vote");
    assert.equal(leads.filter((lead) => lead.startsWith("Your vote was already recorded")).length, responses.length - 1);
    // No double click ever shows a person an error for their own successful vote, even mid-delivery.
    for (const response of responses) assert.equal(response.statusCode, 200);
    assert.equal((await harness.stored(approval.requestRef)).votes.length, 1);
  });

  it("answers 400 for events that are not HTTP at all", async () => {
    const lines: string[] = [];
    const deps = { ...dependenciesFromEnvironment(harness.env), logger: createLogger({ service: "decision", write: (line) => lines.push(line) }) };
    const response = await handleDecisionEvent(deps, { Records: [] });
    assert.equal(response.statusCode, 400);
    assert.match(lines[0], /Unrecognised event/);
  });
});
