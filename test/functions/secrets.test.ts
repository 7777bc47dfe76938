import { strict as assert } from "node:assert";
import { PublishCommand } from "@aws-sdk/client-sns";
import { SendTaskSuccessCommand, TaskTimedOut } from "@aws-sdk/client-sfn";
import type { HttpResponse } from "../../functions/decision/decision";
import { ALL_TRANSPORTS, formPost, jsonPost } from "../support/events";
import { captureOutput } from "../support/capture";
import { APPROVAL_TIMEOUT_SECONDS, startHarness, type Harness } from "../support/harness";

/**
 * Runs every scenario, through the real entry points too, and proves that no
 * task token (nor a recognisable piece of one) reaches a log line, an email,
 * a link, a page, a JSON answer or a response header.
 */
describe("the task token stays secret", () => {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());

  it("appears in no log, email, URL, page or header across all scenarios and transports", async () => {
    const tokens: string[] = [];
    const responses: HttpResponse[] = [];
    const capture = captureOutput();
    let restoreEnvironment = () => undefined as void;
    try {
      for (const transport of ALL_TRANSPORTS) {
        const scenarios: Array<(path: string) => Promise<HttpResponse[]>> = [
          async (path) => [await harness.call(transport, { method: "GET", path }), await harness.call(transport, { method: "HEAD", path }), await harness.call(transport, formPost(path, { decision: "approve" })), await harness.call(transport, formPost(path, { decision: "reject" }))],
          async (path) => [await harness.call(transport, jsonPost(path, { decision: "reject", comment: "no" })), await harness.call(transport, { method: "GET", path, headers: { Accept: "application/json" } })],
          async (path) => {
            harness.clock.advanceSeconds(APPROVAL_TIMEOUT_SECONDS + 1);
            try {
              return [await harness.call(transport, formPost(path, { decision: "approve" }))];
            } finally {
              harness.clock.advanceSeconds(-(APPROVAL_TIMEOUT_SECONDS + 1));
            }
          },
          async (path) => {
            harness.sfn.on(SendTaskSuccessCommand).rejectsOnce(new TaskTimedOut({ message: "Provided task does not exist anymore", $metadata: {} }));
            return [await harness.call(transport, formPost(path, { decision: "approve" }))];
          },
          async (path) => {
            harness.sfn.on(SendTaskSuccessCommand).rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
            return [await harness.call(transport, formPost(path, { decision: "approve" })), await harness.call(transport, { method: "DELETE", path })];
          },
        ];
        for (const scenario of scenarios) {
          const { path, taskToken } = await harness.requestApproval();
          tokens.push(taskToken);
          responses.push(...(await scenario(path)));
        }
      }
      // The real Lambda entry points, logging to stdout as in AWS.
      const { handler: requestHandler } = await import("../../functions/requestApproval/index");
      const { handler: decisionHandler } = await import("../../functions/decision/index");
      Object.assign(process.env, harness.env);
      restoreEnvironment = () => Object.keys(harness.env).forEach((name) => delete process.env[name]);
      const entryToken = "AQCEAAAAKgAAAAMAAAAAentrypoint" + "Z".repeat(300);
      tokens.push(entryToken);
      const { requestId } = await requestHandler({ taskToken: entryToken, execution: { id: "arn:e", name: "e" }, stateMachine: { name: "s" }, input: { title: "t" } }, { awsRequestId: "lambda-1" });
      const { EVENT_BUILDERS } = await import("../support/events");
      responses.push((await decisionHandler(EVENT_BUILDERS.functionUrl(formPost(`/requests/${requestId}`, { decision: "approve" })), { awsRequestId: "lambda-2" })) as HttpResponse);
    } finally {
      capture.restore();
      restoreEnvironment();
    }

    const emails = harness.sns.commandCalls(PublishCommand).map((call) => `${call.args[0].input.Subject}\n${call.args[0].input.Message}`);
    const surfaces = {
      "log lines": harness.logLines.join("\n") + capture.text(),
      emails: emails.join("\n"),
      "pages and JSON": responses.map((r) => r.body).join("\n"),
      headers: responses.map((r) => JSON.stringify(r.headers)).join("\n"),
    };
    assert.ok(harness.logLines.length > 20 && capture.lines().length >= 2, "the scenarios must actually have logged");
    assert.ok(emails.length >= tokens.length, "the scenarios must actually have emailed");
    for (const token of tokens) {
      const pieces = [token, encodeURIComponent(token), token.slice(20, 60), Buffer.from(token).toString("base64").slice(0, 40)];
      for (const [surface, text] of Object.entries(surfaces)) {
        for (const piece of pieces) assert.ok(!text.includes(piece), `a piece of a task token reached the ${surface}`);
      }
    }
    for (const line of capture.lines()) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line.slice(0, 80)}`);
  });

  it("does log the outcome, transport and a short request reference for each call", async () => {
    const { path, requestId } = await harness.requestApproval();
    harness.logLines.length = 0;
    await harness.call("httpApi", formPost(path, { decision: "approve" }));
    const entry = JSON.parse(harness.logLines.at(-1)!);
    assert.equal(entry.transport, "httpApi");
    assert.equal(entry.outcome, "decided");
    assert.equal(entry.statusCode, 200);
    assert.equal(entry.requestRef, requestId.slice(0, 8));
    assert.ok(!harness.logLines.join("").includes(requestId), "the full id is a bearer link and is not logged");
  });
});
