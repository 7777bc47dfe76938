import { strict as assert } from "node:assert";
import type { HttpResponse } from "../../functions/decision/decision";
import { handler as decisionHandler } from "../../functions/decision/index";
import { handler as requestHandler } from "../../functions/requestApproval/index";
import { ALL_TRANSPORTS, EVENT_BUILDERS, formPost, jsonPost } from "../support/events";
import { captureOutput } from "../support/capture";
import { APPROVAL_TIMEOUT_SECONDS, executionArnOf, fakeTaskToken, linkPathIn, startHarness, uniqueExecutionName, type Harness, type RequestedApproval } from "../support/harness";

/**
 * Runs every scenario, through the real Lambda entry points too, and proves that no task token (nor
 * a recognisable piece of one) reaches a log line, an email, a link, a page, a JSON answer or a
 * response header; and that no link id reaches a log line, a return value, a table item, the
 * workflow's output, a page or a header (only the approver's own email carries it).
 */
describe("the task token and the link ids stay secret", () => {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());

  it("appear in no log, email, URL, page, header, item or output across all scenarios and transports", async () => {
    const tokens: string[] = [];
    const responses: HttpResponse[] = [];
    const results: unknown[] = [];
    const outputs: unknown[] = [];
    const capture = captureOutput();
    const previousEnvironment = Object.fromEntries(Object.keys(harness.env).map((name) => [name, process.env[name]]));
    try {
      for (const transport of ALL_TRANSPORTS) {
        const scenarios: Array<(path: string, approval: RequestedApproval) => Promise<HttpResponse[]>> = [
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
          async (path, approval) => {
            harness.standIn.finishTask(approval.taskToken, "timedOut");
            return [await harness.call(transport, formPost(path, { decision: "approve" })), await harness.call(transport, { method: "GET", path })];
          },
          async (path) => {
            harness.standIn.injectFaults("SendTaskSuccess", "throttle", "throttle" /* both of the decision function's attempts */);
            return [await harness.call(transport, formPost(path, { decision: "approve" })), await harness.call(transport, { method: "DELETE", path }), await harness.call(transport, { method: "GET", path })];
          },
          async (path) => {
            harness.standIn.injectFaults("SendTaskSuccess", "applyThenDropReply");
            return [await harness.call(transport, jsonPost(path, { decision: "approve" }))];
          },
          async (_path, approval) => {
            await harness.timeOut(approval);
            return [await harness.call(transport, { method: "GET", path: approval.path })];
          },
        ];
        for (const scenario of scenarios) {
          const approval = await harness.requestApproval();
          tokens.push(approval.taskToken);
          results.push(approval.result);
          responses.push(...(await scenario(approval.path, approval)));
          outputs.push(approval.receivedOutput());
        }
      }

      // The real Lambda entry points, configured from process.env and logging to stdout as in AWS.
      Object.assign(process.env, harness.env);
      const entryToken = "AQCEAAAAKgAAAAMAAAAAentrypoint" + fakeTaskToken().slice(20);
      tokens.push(entryToken);
      const executionName = uniqueExecutionName("entry-point");
      const executionArn = executionArnOf(executionName);
      harness.standIn.startExecution(executionArn, { title: "t" });
      const received = harness.standIn.waitForTaskToken(entryToken, executionArn);
      const result = await requestHandler({ taskToken: entryToken, execution: { id: executionArn, name: executionName }, stateMachine: { name: "s" }, input: { title: "t" } }, { awsRequestId: "lambda-1" });
      results.push(result);
      const path = linkPathIn(harness.standIn.emails.at(-1)!)!;
      responses.push(await decisionHandler(EVENT_BUILDERS.functionUrl(formPost(path, { decision: "approve" })), { awsRequestId: "lambda-2" }));
      outputs.push(JSON.parse(await received));
    } finally {
      capture.restore();
      for (const [name, value] of Object.entries(previousEnvironment)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }

    const emails = harness.standIn.emails.map((email) => `${email.subject}\n${email.message}`);
    const linkIds = harness.standIn.emails.map(linkPathIn).filter((path): path is string => path !== undefined).map((path) => path.slice("/requests/".length));
    const logs = harness.logLines.join("\n") + capture.text();
    const pages = responses.map((response) => response.body).join("\n");
    const headers = responses.map((response) => JSON.stringify(response.headers)).join("\n");
    assert.ok(harness.logLines.length > 20 && capture.lines().length >= 2, "the scenarios must actually have logged");
    assert.ok(linkIds.length >= tokens.length, "the scenarios must actually have emailed links");
    assert.ok(outputs.filter(Boolean).length >= 4, "some scenarios must actually have reached the workflow");

    const tokenSurfaces = { "log lines": logs, emails: emails.join("\n"), "pages and JSON": pages, headers };
    for (const token of tokens) {
      const pieces = [token, encodeURIComponent(token), token.slice(20, 60), Buffer.from(token).toString("base64").slice(0, 40)];
      for (const [surface, text] of Object.entries(tokenSurfaces)) {
        for (const piece of pieces) assert.ok(!text.includes(piece), `a piece of a task token reached the ${surface}`);
      }
    }
    const linkSurfaces = { "log lines": logs, "pages and JSON": pages, headers, "return values": JSON.stringify(results), "workflow outputs": JSON.stringify(outputs), "table items": JSON.stringify(await harness.items()) };
    for (const linkId of linkIds) {
      for (const [surface, text] of Object.entries(linkSurfaces)) assert.ok(!text.includes(linkId), `a link id reached the ${surface}`);
    }
    for (const line of capture.lines()) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line.slice(0, 80)}`);
  });

  it("does log the outcome, transport and request reference for each call, but never the link", async () => {
    const approval = await harness.requestApproval();
    harness.logLines.length = 0;
    await harness.call("httpApi", formPost(approval.path, { decision: "approve" }));
    const entry = JSON.parse(harness.logLines.at(-1)!);
    assert.equal(entry.message, "Decision request handled");
    assert.equal(entry.transport, "httpApi");
    assert.equal(entry.outcome, "voteRecorded:approved");
    assert.equal(entry.statusCode, 200);
    assert.equal(entry.requestRef, approval.requestRef);
    assert.ok(!harness.logLines.join("").includes(approval.path.slice("/requests/".length)), "the link id is a bearer capability and is not logged");
  });
});
