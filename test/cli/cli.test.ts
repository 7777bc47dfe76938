import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { requestRefFor } from "../../functions/shared/approvalRequest";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";
import { stackClient } from "../../cli/stack";
import { assertNothingSecret, assertOneLineError, cleanEnvironment, linksOf, localCli, nextExecution, runCli, StartedExecutions, vote } from "./support";

const [ANN, BOB, CY, DEE] = ["ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"];
const WAIT = ["--wait", "--poll-seconds", "0.2"];

/** The `human-approval` CLI as a child process against the local mode, for every command and exit code. */
describe("the human-approval CLI against the local mode", function () {
  this.timeout(60_000);

  describe("a 2-of-3 stack", () => {
    let local: LocalApprovals;
    let cli: ReturnType<typeof localCli>;
    const started = new StartedExecutions();
    const printed: string[] = [];
    const allLinks: string[] = [];
    before(async () => {
      local = await startLocalApprovals({ transport: "httpApi", approvalTimeoutSeconds: 3600, approverEmails: [ANN, BOB, CY], requiredApprovals: 2, onExecution: started.add });
      cli = localCli(local);
    });
    after(async () => {
      try {
        // Nothing the CLI printed, in any test, held a link id or a task token.
        assertNothingSecret(printed.join("\n"), allLinks);
      } finally {
        await local.close();
      }
    });
    const run = async (...args: string[]) => {
      const result = await cli.run(...args);
      printed.push(result.stdout, result.stderr);
      return result;
    };
    /** Starts `request --wait` in a child process and returns it with the execution it started and its links. */
    async function waitingRequest(...args: string[]) {
      const execution = nextExecution(started);
      const child = cli.start("request", ...args, ...WAIT);
      const links = await linksOf(await execution);
      allLinks.push(...Object.values(links));
      return { child, execution: await execution, links, done: child.done.then((result) => (printed.push(result.stdout, result.stderr), result)) };
    }
    const stored = async (requestRef: string) => {
      const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
      return (await documents.send(new GetCommand({ TableName: local.tableName, Key: { id: requestRef } }))).Item!;
    };

    it("request --wait: exits 0 when approved, with who decided, their comment and every vote", async () => {
      const { links, done, execution } = await waitingRequest("--title", "Deploy 2026.11 to production", "--requested-by", DEE, "--description", "Tag v2026.11.0");
      assert.equal(await vote(links[ANN], "approve", "fine by me"), 200);
      assert.equal(await vote(links[BOB], "approve", "ship it"), 200);
      const result = await done;
      assert.equal(result.code, 0, result.stderr);
      const requestRef = requestRefFor(execution.executionArn);
      assert.match(result.stdout, new RegExp(`^Approval requested: Deploy 2026.11 to production\\n  reference  ${requestRef}\\n  execution  ${execution.executionArn.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n`));
      assert.match(result.stdout, /asked {6}ann@example\.com, bob@example\.com, cy@example\.com \(needs 2 approvals\)/);
      assert.match(result.stdout, /Approved by bob@example\.com: "ship it"/);
      assert.match(result.stdout, /ann@example\.com approved at .*: "fine by me"/);
      assert.equal(result.stderr, "");
      assert.ok(!/\r|\x1b\[|Waiting \d/.test(result.stdout), "no progress line when stdout is not a terminal");
    });

    it("request --wait: exits 20 when rejected, at the first rejection", async () => {
      const { links, done } = await waitingRequest("--title", "Drop the old table");
      assert.equal(await vote(links[CY], "reject", "not before the backup"), 200);
      const result = await done;
      assert.equal(result.code, 20, result.stderr);
      assert.match(result.stdout, /Rejected by cy@example\.com: "not before the backup"/);
    });

    it("request --wait --json: one JSON document with the decision, whatever the exit code", async () => {
      const { links, done, execution } = await waitingRequest("--title", "Rotate keys", "--approvers", `${ANN},${BOB}`, "--json");
      assert.equal(await vote(links[ANN], "approve"), 200);
      assert.equal(await vote(links[BOB], "approve", "ok"), 200);
      const result = await done;
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.equal(json.requestRef, requestRefFor(execution.executionArn));
      assert.equal(json.executionArn, execution.executionArn);
      assert.deepEqual([json.outcome, json.decision, json.decidedBy, json.comment], ["approved", "approved", BOB, "ok"]);
      assert.deepEqual(json.approvals.map((v: { approver: string }) => v.approver), [ANN, BOB]);
      assert.match(json.inputDigest, /^sha256:/);
      assert.deepEqual(Object.keys(links).sort(), [ANN, BOB], "only the approvers named with --approvers were asked");
    });

    it("request --details-file: the file's JSON is the input's details", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "cli-"));
      const file = path.join(dir, "release.json");
      writeFileSync(file, JSON.stringify({ version: "2026.11.0", changes: 42 }));
      const execution = nextExecution(started);
      const result = await run("request", "--title", "With details", "--details-file", file, "--json");
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.equal(json.outcome, "pending");
      assert.deepEqual(json.approvers, [ANN, BOB, CY]);
      const input = JSON.parse(String((local.standIn.historyOf((await execution).executionArn)[0] as unknown as { executionStartedEventDetails: { input: string } }).executionStartedEventDetails.input));
      assert.deepEqual(input, { title: "With details", details: { version: "2026.11.0", changes: 42 } });
      allLinks.push(...Object.values(await linksOf(await execution)));
    });

    it("list: the pending requests through the status index, with votes so far, requester, expiry, requestRef and execution", async () => {
      const execution = nextExecution(started);
      const requested = await run("request", "--title", "Partially approved", "--requested-by", DEE);
      assert.equal(requested.code, 0, requested.stderr);
      assert.match(requested.stdout, /Waiting for the approvers; see it with: human-approval show req-/);
      const links = await linksOf(await execution);
      allLinks.push(...Object.values(links));
      assert.equal(await vote(links[ANN], "approve"), 200);
      const requestRef = requestRefFor((await execution).executionArn);

      const result = await run("list");
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^\d+ pending requests?, newest first:/);
      const entry = result.stdout.split("\n").findIndex((line) => line.startsWith(`${requestRef}  Partially approved`));
      assert.ok(entry > 0, result.stdout);
      const [, details, executionLine] = result.stdout.split("\n").slice(entry, entry + 3);
      assert.match(details, /requested by dee@example\.com; 1 of 2 approvals \(ann@example\.com approved\); expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in \d+ minutes\)/);
      assert.equal(executionLine.trim(), `execution ${(await execution).executionArn}`);

      const json = JSON.parse((await run("list", "--json")).stdout);
      const item = json.find((view: { requestRef: string }) => view.requestRef === requestRef);
      assert.deepEqual([item.state, item.title, item.requestedBy, item.approvals, item.requiredApprovals, item.votes.length, item.votes[0].approver], ["pending", "Partially approved", DEE, 1, 2, 1, ANN]);
      assert.ok(!json.some((view: { state: string }) => view.state !== "pending"), "settled requests are not listed as pending");

      const approved = JSON.parse((await run("list", "--status", "approved", "--json")).stdout);
      assert.ok(approved.length >= 2 && approved.every((view: { state: string }) => view.state === "approved"));
    });

    it("show: one request by requestRef or execution ARN, as text or JSON; an unknown one is a one-line error", async () => {
      const execution = nextExecution(started);
      const detailsFile = path.join(mkdtempSync(path.join(tmpdir(), "show-")), "details.json");
      writeFileSync(detailsFile, JSON.stringify({ service: "checkout" }));
      await run("request", "--title", "Show me", "--requested-by", DEE, "--details-file", detailsFile);
      const { executionArn } = await execution;
      const links = await linksOf(await execution);
      allLinks.push(...Object.values(links));
      assert.equal(await vote(links[BOB], "reject", "no"), 200);
      await (await execution).outcome;
      const requestRef = requestRefFor(executionArn);

      const text = await run("show", requestRef);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^Show me\n {2}reference {5}req-/);
      assert.match(text.stdout, /state {9}rejected/);
      assert.match(text.stdout, /decision {6}rejected by bob@example\.com at .*: "no"/);
      assert.match(text.stdout, /execution {5}arn:aws:states:.* \(SUCCEEDED\)/);
      assert.match(text.stdout, /Details:\n(.*\n)*\s+service: checkout/, "show prints the input fields the approvers were shown");

      const json = JSON.parse((await run("show", executionArn, "--json")).stdout);
      assert.deepEqual([json.requestRef, json.state, json.decision, json.decidedBy, json.executionStatus], [requestRef, "rejected", "rejected", BOB, "SUCCEEDED"]);
      assert.equal(json.taskToken, undefined);

      // The CLI names the attributes it reads: the task token is never even fetched.
      const client = stackClient({ local: local.stackOutputs.endpoints, sources: [] });
      try {
        const record = (await client.getRequest(local.tableName, requestRef)) as Record<string, unknown>;
        assert.equal(record.title, "Show me");
        assert.ok(!("taskToken" in record) && !("ttl" in record), Object.keys(record).join(", "));
        const listed = (await client.listRequests(local.tableName, "REJECTED")) as Array<Record<string, unknown>>;
        assert.ok(listed.length > 0 && listed.every((item) => !("taskToken" in item)));
      } finally {
        client.close();
      }

      assertOneLineError(await run("show", "req-AAAAAAAAAAAAAAAAAAAA"), /No request req-AAAAAAAAAAAAAAAAAAAA in the table/);
      assertOneLineError(await run("show", "not-a-reference"), /neither a requestRef .* nor an execution ARN/);
    });

    it("withdraw: stops the execution, the request is recorded withdrawn, the approvers told, every link 410; the waiting pipeline exits 22", async () => {
      const { links, done, execution } = await waitingRequest("--title", "Withdraw me");
      assert.equal(await vote(links[ANN], "approve"), 200);
      const requestRef = requestRefFor(execution.executionArn);
      const withdrawn = await run("withdraw", requestRef, "--reason", "Release 2026.11 was called off");
      assert.equal(withdrawn.code, 0, withdrawn.stderr);
      assert.match(withdrawn.stdout, /^Withdrawn: Withdraw me \(req-/);
      assert.match(withdrawn.stdout, /The approvers are told, and every link now shows that it was withdrawn\./);

      const waiting = await done;
      assert.equal(waiting.code, 22, waiting.stderr);
      assert.match(waiting.stdout, /Withdrawn: Release 2026\.11 was called off/);

      const item = await stored(requestRef);
      assert.deepEqual([item.status, item.closedReason], ["WITHDRAWN", "Release 2026.11 was called off"]);
      for (const link of Object.values(links)) assert.equal((await fetch(link)).status, 410);
      const notice = local.standIn.emails.find((email) => email.subject.startsWith("Withdrawn:") && email.message.includes(requestRef));
      assert.ok(notice, "the approvers get a notice");
      assert.deepEqual([...notice!.recipients].sort(), [ANN, BOB, CY]);

      assertOneLineError(await run("withdraw", requestRef), /Nothing to withdraw: the request req-\S+ is withdrawn/);
    });

    it("withdraw --json by execution ARN", async () => {
      const execution = nextExecution(started);
      await run("request", "--title", "Withdraw by ARN");
      const { executionArn } = await execution;
      allLinks.push(...Object.values(await linksOf(await execution)));
      const result = await run("withdraw", executionArn, "--json");
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { requestRef: requestRefFor(executionArn), executionArn, outcome: "withdrawn", reason: "Withdrawn with the human-approval CLI.", recorded: true });
    });

    it("refuses an approver who is not in the stack's list: the execution's cause, one line, exit 64, and no 'requested' line", async () => {
      const result = await run("request", "--title", "Wrong approver", "--approvers", `${ANN},mallory@example.com`);
      assertOneLineError(result, /The approval request was refused: Input approvers lists mallory@example\.com, which is not an approver of this stack/);
      assert.equal(result.stdout, "", "nothing on stdout: the request was never asked");
      const json = await run("request", "--title", "Wrong approver", "--approvers", "mallory@example.com", "--json");
      assertOneLineError(json, /The approval request was refused/);
      const answer = JSON.parse(json.stdout);
      assert.deepEqual(Object.keys(answer).sort(), ["error", "executionArn", "requestRef"]);
      assert.match(answer.error, /^The approval request was refused: Input approvers lists mallory@example\.com/);
      assert.equal(answer.requestRef, requestRefFor(answer.executionArn));
    });

    it("--json: every command prints one documented object, {error} when it fails, with the error as one line on stderr", async () => {
      const errorOf = async (pattern: RegExp, ...args: string[]) => {
        const result = await run(...args, "--json");
        assertOneLineError(result, pattern);
        const answer = JSON.parse(result.stdout);
        assert.equal(`human-approval: error: ${answer.error}`, result.stderr.trim(), "the same words on stdout and stderr");
        return answer;
      };
      assert.deepEqual(Object.keys(await errorOf(/--status is "maybe"/, "list", "--status", "maybe")), ["error"]);
      assert.deepEqual(Object.keys(await errorOf(/No request req-AAAAAAAAAAAAAAAAAAAA/, "show", "req-AAAAAAAAAAAAAAAAAAAA")), ["error"]);
      assert.deepEqual(Object.keys(await errorOf(/No request req-AAAAAAAAAAAAAAAAAAAA in the table .*nothing to withdraw/, "withdraw", "req-AAAAAAAAAAAAAAAAAAAA")), ["error"]);
      assert.deepEqual(Object.keys(await errorOf(/request needs --title/, "request")), ["error"]);
      // And the successes: request (no --wait) the pending outcome, list an array, show one request.
      const execution = nextExecution(started);
      const requested = await run("request", "--title", "JSON shapes", "--json");
      assert.equal(requested.code, 0, requested.stderr);
      assert.equal(requested.stderr, "");
      allLinks.push(...Object.values(await linksOf(await execution)));
      const pending = JSON.parse(requested.stdout);
      assert.deepEqual(Object.keys(pending).sort(), ["approvers", "executionArn", "expiresAt", "outcome", "requestRef", "requiredApprovals"]);
      assert.equal(pending.outcome, "pending");
      const listed = await run("list", "--json");
      assert.ok(Array.isArray(JSON.parse(listed.stdout)) && listed.stderr === "");
      const shown = await run("show", pending.requestRef, "--json");
      assert.deepEqual([JSON.parse(shown.stdout).requestRef, shown.stderr], [pending.requestRef, ""]);
    });

    it("two CLI processes at once both answer correctly (no shared npm cache in the way): one approved, one rejected, a list between", async function () {
      this.timeout(180_000);
      const executions = [nextExecution(started)];
      const first = cli.start("request", "--title", "Concurrent A", ...WAIT, "--json");
      await executions[0];
      executions.push(nextExecution(started));
      const second = cli.start("request", "--title", "Concurrent B", ...WAIT, "--json");
      const [a, b] = await Promise.all(executions);
      const [linksA, linksB] = await Promise.all([linksOf(a), linksOf(b)]);
      allLinks.push(...Object.values(linksA), ...Object.values(linksB));
      // Two more processes while both wait: a list and a show, at the same moment.
      const [listed, shown] = await Promise.all([run("list", "--json"), run("show", requestRefFor(b.executionArn), "--json")]);
      assert.equal(listed.code, 0, listed.stderr);
      const pendingRefs = JSON.parse(listed.stdout).map((view: { requestRef: string }) => view.requestRef);
      assert.ok(pendingRefs.includes(requestRefFor(a.executionArn)) && pendingRefs.includes(requestRefFor(b.executionArn)), listed.stdout);
      assert.deepEqual([shown.code, JSON.parse(shown.stdout).state], [0, "pending"]);
      await Promise.all([vote(linksA[ANN], "approve"), vote(linksA[BOB], "approve"), vote(linksB[CY], "reject", "not now")]);
      const [resultA, resultB] = await Promise.all([first.done, second.done]);
      printed.push(resultA.stdout, resultA.stderr, resultB.stdout, resultB.stderr);
      assert.deepEqual([resultA.code, JSON.parse(resultA.stdout).outcome, JSON.parse(resultA.stdout).requestRef], [0, "approved", requestRefFor(a.executionArn)], resultA.stderr);
      assert.deepEqual([resultB.code, JSON.parse(resultB.stdout).outcome, JSON.parse(resultB.stdout).comment], [20, "rejected", "not now"], resultB.stderr);
    });

    it("works with the AWS_ENDPOINT_URL_* variables and explicit names instead of --local", async () => {
      const env = cleanEnvironment({
        AWS_ENDPOINT_URL_SFN: local.stackOutputs.endpoints.sfn,
        AWS_ENDPOINT_URL_DYNAMODB: local.stackOutputs.endpoints.dynamodb,
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        HUMAN_APPROVAL_TABLE: local.stackOutputs.approvalsTable,
      });
      const listed = await runCli(["list", "--json"], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(JSON.parse(listed.stdout).length >= 1);
      const execution = nextExecution(started);
      const requested = await runCli(["request", "--title", "Through the endpoints", "--state-machine-arn", local.stackOutputs.stateMachineArn, "--json"], env);
      assert.equal(requested.code, 0, requested.stderr);
      allLinks.push(...Object.values(await linksOf(await execution)));
    });

    it("reads the stack from pulumi stack output --json, and names a missing output", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "cli-"));
      const { endpoints: _endpoints, ...outputs } = local.stackOutputs;
      const env = cleanEnvironment({ AWS_ENDPOINT_URL_DYNAMODB: local.stackOutputs.endpoints.dynamodb, AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" });
      writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
      const listed = await runCli(["list", "--stack-outputs", path.join(dir, "outputs.json")], env);
      assert.equal(listed.code, 0, listed.stderr);

      const { stateMachineArn: _machine, ...withoutMachine } = outputs;
      writeFileSync(path.join(dir, "partial.json"), JSON.stringify(withoutMachine));
      assertOneLineError(await runCli(["request", "--title", "x", "--stack-outputs", path.join(dir, "partial.json")], env), /Missing the stack's stateMachineArn: the stack outputs file .*partial\.json has no stateMachineArn\. Pass --state-machine-arn/);
      writeFileSync(path.join(dir, "broken.json"), "{ not json");
      assertOneLineError(await runCli(["list", "--stack-outputs", path.join(dir, "broken.json")], env), /is not JSON/);
      assertOneLineError(await runCli(["list", "--stack-outputs", path.join(dir, "absent.json")], env), /no such file/);
      assertOneLineError(await runCli(["list"], env), /Missing the stack's approvalsTable: no stack given/);
    });

    it("--stack-outputs takes the file the local mode serves at /stack-outputs, with no AWS setting at all", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "cli-"));
      const file = path.join(dir, "local-outputs.json");
      writeFileSync(file, await (await fetch(`${local.origin}/stack-outputs`)).text());
      const listed = await runCli(["list", "--json", "--stack-outputs", file], cleanEnvironment());
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(Array.isArray(JSON.parse(listed.stdout)));
      // Endpoints elsewhere than this machine are not taken for the local mode: the SDK's own chain applies.
      const outputs = JSON.parse(await (await fetch(`${local.origin}/stack-outputs`)).text());
      writeFileSync(file, JSON.stringify({ ...outputs, endpoints: { dynamodb: "http://example.com:8000", sfn: "http://example.com:8001" } }));
      const refused = await runCli(["list", "--json", "--stack-outputs", file], cleanEnvironment({ AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x", AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" }));
      assert.equal(refused.code, 70, refused.stderr);
    });
  });

  describe("a request nobody decides before the approval timeout", () => {
    let local: LocalApprovals;
    const started = new StartedExecutions();
    before(async () => (local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 3600, approverEmails: [ANN], onExecution: started.add })));
    after(async () => local.close());

    it("request --wait: exits 21 when nobody decided in time", async () => {
      const execution = nextExecution(started);
      const waiting = localCli(local).run("request", "--title", "Nobody looks", ...WAIT);
      // The timeout passes once the email is out (no real two-second timer to race on a loaded machine).
      const asked = await execution;
      await asked.emails;
      asked.timeOut();
      const result = await waiting;
      assert.equal(result.code, 21, result.stderr);
      assert.match(result.stdout, /Expired: Nobody decided before the approval timeout\./);
    });
  });

  describe("bad input: one line on stderr, exit 64, never a stack trace (no stack needed)", () => {
    const env = cleanEnvironment({ HUMAN_APPROVAL_LOCAL_URL: "http://127.0.0.1:9" });
    const cases: Array<[string, string[], RegExp]> = [
      ["no command", [], /No command given: use one of request, list, show, withdraw/],
      ["an unknown command", ["approve"], /Unknown command "approve"/],
      ["an unknown flag", ["request", "--title", "x", "--colour", "blue"], /Unknown option --colour for request \(human-approval request --help\)/],
      ["a flag without its value", ["request", "--title"], /--title.*argument missing|Option '--title <value>' argument missing/],
      ["no title", ["request", "--wait"], /request needs --title/],
      ["a bad approver address", ["request", "--title", "x", "--approvers", "ann@example.com,bob"], /--approvers is "ann@example\.com,bob": it must be email addresses.*bad entry: bob/],
      ["a bad requester", ["request", "--title", "x", "--requested-by", "me"], /--requested-by is "me"/],
      ["a bad poll interval", ["request", "--title", "x", "--wait", "--poll-seconds", "soon"], /--poll-seconds is "soon"/],
      ["a bad status", ["list", "--status", "maybe"], /--status is "maybe": it must be one of PENDING/],
      ["show without a reference", ["show"], /show needs one requestRef/],
      ["the local mode not running", ["list", "--local"], /The local mode does not answer at http:\/\/127\.0\.0\.1:9/],
    ];
    for (const [what, args, pattern] of cases) {
      it(what, async () => assertOneLineError(await runCli(args, env), pattern));
    }

    it("a details file that is not JSON", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "cli-"));
      writeFileSync(path.join(dir, "details.json"), "version: 1");
      const env2 = cleanEnvironment({ HUMAN_APPROVAL_STATE_MACHINE_ARN: "arn:aws:states:eu-west-1:123456789012:stateMachine:m" });
      assertOneLineError(await runCli(["request", "--title", "x", "--details-file", path.join(dir, "details.json")], env2), /The details file .*details\.json is not JSON: Unexpected token/);
    });

    it("--json errors are JSON too", async () => {
      const result = await runCli(["list", "--status", "maybe", "--json"], env);
      assert.equal(result.code, 64);
      assert.match(JSON.parse(result.stdout).error, /--status is "maybe"/);
    });

    it("--help prints the usage and exits 0", async () => {
      const result = await runCli(["--help"], env);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /Exit codes: 0 approved \(or done\), 20 rejected, 21 expired, 22 withdrawn,\n +64 usage or configuration error .*\n +70 failure/);
      const request = await runCli(["request", "--help"], env);
      assert.match(request.stdout, /--poll-seconds <n>/);
    });
  });
});
