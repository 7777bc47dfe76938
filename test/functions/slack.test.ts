import { strict as assert } from "node:assert";
import fc from "fast-check";
import type { ApprovalRequest } from "../../functions/shared/approvalRequest";
import { createHandler as createRequestHandler, dependenciesFromEnvironment as requestDependencies } from "../../functions/requestApproval/index";
import { MAX_BODY_BYTES } from "../../functions/decision/httpEvent";
import { askInSlack } from "../../functions/requestApproval/slackAsk";
import { executionStatusChangeEvent } from "../../functions/requestApproval/withdrawal";
import { createLogger } from "../../functions/shared/logger";
import { DynamoDbRequestStore } from "../../functions/shared/requestStore";
import { slackFromEnvironment } from "../../functions/shared/slack/environment";
import { slackSignature } from "../../functions/shared/slack/signature";
import { SlackStandIn, STAND_IN_TEAM_ID, type SignedInteraction, type StandInSlackMessage } from "../../local/slackStandIn";
import { parseStackConfig } from "../../stacks/config";
import { ALL_TRANSPORTS, jsonPost } from "../support/events";
import { CALLBACK_URL, jsonOf, startHarness, type Harness, type RequestedApproval } from "../support/harness";

/**
 * Issue 22 on every transport, with the real handlers, dynalite, the AWS stand-in (Secrets Manager holds the
 * Slack secret) and the Slack stand-in (the Web API and signed interaction payloads, as Slack sends them).
 */
const ANN = "ann@example.com";
const BOB = "bob@example.com";
const CY = "cy@example.com"; // an approver with no Slack account: email only
const DEE = "dee@example.com"; // the requester, who is in Slack too
const EVE = "eve@example.com"; // in the workspace, no approver
const STACK = { approverEmails: [ANN, BOB, CY, DEE], requiredApprovals: 1, allowSelfApproval: false };
const SLACK_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf";

describe("Slack: decide in a direct message (dynalite + AWS stand-in + Slack stand-in)", function () {
  this.timeout(120_000);
  let harness: Harness;
  let slack: SlackStandIn;
  before(async () => {
    harness = await startHarness(STACK);
    slack = new SlackStandIn([ANN, BOB, DEE, EVE]);
    await slack.listen();
    slack.now = () => harness.clock.now;
    harness.standIn.secrets.set(SLACK_SECRET_ARN, slack.secretString);
    Object.assign(harness.env, { SLACK_SECRET_ARN, SLACK_API_URL: slack.apiUrl });
    harness.configure({});
  });
  after(async () => {
    await slack?.close();
    await harness?.close();
  });
  afterEach(() => harness.configure(STACK));

  const ask = (input: Record<string, unknown> = {}) => harness.requestApproval({ title: "Deploy release 42", details: { version: "42" }, ...input });
  const messageOf = (approver: string, approval: RequestedApproval): StandInSlackMessage => {
    const found = slack.messagesFor(approver).find((message) => JSON.stringify(message.postedBlocks).includes(approval.requestRef));
    assert.ok(found, `a Slack message to ${approver}`);
    return found;
  };
  const buttonsIn = (message: StandInSlackMessage) => JSON.stringify(message.blocks).includes('"type":"actions"');
  const memberId = (email: string) => slack.members.find((member) => member.email === email)!.id;

  it("asks each approver in Slack once, besides the email; an approver without Slack gets the email, and the record says who was reached how", async () => {
    const posted = slack.callCount("chat.postMessage");
    const input = { title: "Deploy release 42", details: { version: "42" }, requestedBy: DEE, description: "Rolls out\u202Etxt.exe", approvers: [ANN, BOB, CY] };
    const approval = await harness.requestApproval(input);
    assert.deepEqual(approval.emails.map((email) => email.recipients[0]).sort(), [ANN, BOB, CY, DEE], "every approver is emailed, and the requester is told");
    assert.equal(slack.callCount("chat.postMessage") - posted, 2, "ANN and BOB are in Slack; CY is not; DEE asked and is not asked to vote");
    const stored = await harness.stored(approval.requestRef);
    assert.deepEqual(stored.slackMessages?.map(({ approver, unreached }) => [approver, unreached !== undefined]).sort(), [[ANN, false], [BOB, false], [CY, true]]);
    const text = JSON.stringify(messageOf(ANN, approval).blocks);
    for (const shown of ["Deploy release 42", `Requested by: ${DEE}`, "Expires:", "Fingerprint:", "version: 42", "[U+202E]", '"action_id":"approve"', '"action_id":"reject"']) assert.ok(text.includes(shown), shown);
    assert.ok(text.includes(`${CALLBACK_URL}${approval.links[ANN]}`), "the review-page button is ANN's own link");
    assert.ok(!text.includes(approval.links[BOB]), "and nobody else's");
    assert.ok(!text.includes("\u202E"), "no spoofing character reaches Slack as such");
    assert.ok(harness.logLines.some((line) => line.includes('"message":"Approval asked in Slack"') && line.includes(`"slack":"`) && line.includes(`"not-in-slack":"${CY}"`)), "the logs say which channel reached whom");

    const before = slack.callCount("chat.postMessage");
    await harness.requestApproval(input, { retryOf: approval });
    assert.equal(slack.callCount("chat.postMessage"), before, "a retried invocation sends no second message");
  });

  it("Slack down, or its secret unreadable, when asking: the request goes on by email, and the record says why Slack did not reach them", async () => {
    const asked = await ask({ approvers: [ANN] });
    slack.failures.set("chat.postMessage", "internal_error");
    const approval = await ask({ approvers: [ANN] });
    assert.equal(approval.emails.length, 1);
    assert.deepEqual((await harness.stored(approval.requestRef)).slackMessages, [{ approver: ANN, unreached: "Slack chat.postMessage: internal_error" }]);

    harness.standIn.secrets.delete(SLACK_SECRET_ARN);
    harness.configure({}); // a new container: the secret is read again
    try {
      const unread = await ask({ approvers: [ANN] });
      assert.equal(unread.emails.length, 1);
      assert.deepEqual((await harness.stored(unread.requestRef)).slackMessages, [{ approver: ANN, unreached: "the Slack secret could not be read" }]);
      const press = await harness.call("functionUrl", slack.interaction(messageOf(ANN, asked), "approve"));
      assert.equal(press.statusCode, 503, "a press while the secret cannot be read: try again, nothing recorded");
      assert.equal(jsonOf(press).error, "temporarily_unavailable");
      assert.equal((await harness.stored(asked.requestRef)).votes.length, 0);
    } finally {
      harness.standIn.secrets.set(SLACK_SECRET_ARN, slack.secretString);
      harness.configure({});
    }
  });

  it("addresses are compared in their one normalised form: a look-alike member (the Kelvin sign) is never sent an approver's message, and cannot vote", async () => {
    const [KIM, KATE] = ["kim@example.com", "kate@example.com"];
    harness.configure({ ...STACK, approverEmails: [...STACK.approverEmails, KIM, KATE] });
    // Members whose addresses lower-case to an approver's: the stand-in's lookup (like a careless one) finds them.
    const kimLookAlike = slack.addMember({ id: "U0KELVIN1", email: "\u212Aim@example.com" });
    slack.addMember({ id: "U0KATE001", email: KATE });
    const kateLookAlike = slack.addMember({ id: "U0KELVIN2", email: "\u212Aate@example.com" });
    const approval = await ask({ approvers: [KIM, KATE] });
    assert.equal(slack.messages.filter((message) => message.userId === kimLookAlike.id).length, 0, "the look-alike never gets KIM's link");
    assert.deepEqual((await harness.stored(approval.requestRef)).slackMessages?.find((record) => record.approver === KIM)?.unreached, "the Slack member's address is not exactly this one");
    const answer = await harness.call("httpApi", slack.interaction(messageOf(KATE, approval), "approve", { pressedBy: kateLookAlike.id }));
    assert.equal(jsonOf(answer).error, "wrong_approver");
    assert.equal((await harness.stored(approval.requestRef)).votes.length, 0);
  });

  it("an invocation that read the request before another one sent the messages (a concurrent retry) sends none: each message is claimed first", async () => {
    const approval = await ask({ approvers: [ANN, BOB] });
    const stale = { ...(await harness.stored(approval.requestRef)), notified: [] };
    const posted = slack.callCount("chat.postMessage");
    const deps = { store: new DynamoDbRequestStore(harness.env.TABLE_NAME), logger: createLogger({ service: "test", write: () => undefined }), callbackUrl: CALLBACK_URL, slack: { api: slackFromEnvironment(harness.env)!.api } };
    assert.equal(await askInSlack(deps, stale, async () => "L".repeat(32), harness.clock.now), 0);
    assert.equal(slack.callCount("chat.postMessage"), posted);
  });

  it("an approval policy's later stage is asked in Slack when it opens (on the reminders' schedule), once, and its Slack vote settles", async () => {
    const { approvalPolicies } = parseStackConfig({
      approverEmails: JSON.stringify(STACK.approverEmails),
      approverGroups: JSON.stringify({ leads: [ANN], release: [BOB, CY] }),
      approvalPolicies: JSON.stringify({ change: { stages: [{ rules: [{ group: "leads", required: 1 }] }, { rules: [{ group: "release", required: 1 }] }] } }),
    });
    harness.configure({ ...STACK, approvalPolicies });
    const approval = await ask({ policy: "change", requestedBy: DEE });
    assert.deepEqual(Object.keys(approval.links), [ANN], "stage 1 only");
    assert.equal(slack.messagesFor(BOB).filter((message) => JSON.stringify(message.postedBlocks).includes(approval.requestRef)).length, 0, "stage 2 is not asked yet");
    assert.equal(jsonOf(await harness.call("httpApi", slack.interaction(messageOf(ANN, approval), "approve"))).ok, true);
    assert.equal(approval.receivedOutput(), undefined, "stage 2 still to approve");

    await harness.remind();
    const stageTwo = messageOf(BOB, approval);
    assert.ok(buttonsIn(stageTwo), "BOB, asked by stage 2, has the buttons");
    assert.deepEqual((await harness.stored(approval.requestRef)).slackMessages?.map(({ approver, unreached }) => [approver, unreached !== undefined]).sort(), [[ANN, false], [BOB, false], [CY, true]], "CY, not in Slack, has the email");
    const posted = slack.callCount("chat.postMessage");
    await harness.remind();
    assert.equal(slack.callCount("chat.postMessage"), posted, "the next run sends no second message");

    assert.equal(jsonOf(await harness.call("restApi", slack.interaction(stageTwo, "approve"))).ok, true);
    const output = await approval.received;
    assert.equal(output.decision, "approved");
    assert.deepEqual(output.approvals.map(({ approver, channel }) => [approver, channel]), [[ANN, "slack"], [BOB, "slack"]]);
  });

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("a signed Approve settles: the workflow gets channel slack and verifiedBy slack:<team>; every asked approver's message shows the outcome, buttons gone", async () => {
        const approval = await ask({ approvers: [ANN, BOB] });
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        const responses = slack.callCount("response_url");
        const answer = await harness.call(transport, slack.interaction(messageOf(ANN, approval), "approve"));
        assert.equal(answer.statusCode, 200, answer.body);
        assert.equal(jsonOf(answer).ok, true);
        const output = await approval.received;
        assert.equal(output.decision, "approved");
        assert.equal(output.decidedBy, ANN);
        assert.equal(output.verifiedBy, `slack:${STAND_IN_TEAM_ID}`);
        assert.deepEqual(output.approvals.map(({ approver, channel, verifiedBy }) => ({ approver, channel, verifiedBy })), [{ approver: ANN, channel: "slack", verifiedBy: `slack:${STAND_IN_TEAM_ID}` }]);
        assert.equal(sendTaskSuccess(), 1);
        assert.equal((await harness.stored(approval.requestRef)).status, "APPROVED");
        assert.ok(slack.callCount("response_url") - responses >= 2, "response_url: once recorded, again when settled");
        for (const approver of [ANN, BOB]) {
          const message = messageOf(approver, approval);
          assert.ok(!buttonsIn(message), `${approver}'s buttons are gone`);
          assert.match(message.text, /^Approved: Deploy release 42/);
        }
      });

      it("a quorum of one email vote and one Slack vote settles", async () => {
        harness.configure({ ...STACK, requiredApprovals: 2 });
        const approval = await ask({ approvers: [ANN, BOB, CY] });
        const byEmail = await harness.call(transport, jsonPost(approval.links[CY], { decision: "approve", comment: "by email" }));
        assert.equal(byEmail.statusCode, 200);
        assert.equal(approval.receivedOutput(), undefined);
        const bySlack = await harness.call(transport, slack.interaction(messageOf(BOB, approval), "approve"));
        assert.equal(jsonOf(bySlack).ok, true, bySlack.body);
        const output = await approval.received;
        assert.equal(output.decision, "approved");
        assert.deepEqual(output.approvals.map(({ approver, channel }) => [approver, channel]), [[CY, "email"], [BOB, "slack"]]);
        assert.ok(!buttonsIn(messageOf(ANN, approval)), "ANN, who did not vote, sees the outcome too");
      });

      describe("what changes nothing, with a clear answer", () => {
        let approval: RequestedApproval;
        let before: ApprovalRequest;
        let sendTaskSuccess: () => number;
        beforeEach(async () => {
          approval = await ask({ requestedBy: DEE, approvers: [ANN, BOB] });
          before = await harness.stored(approval.requestRef);
          sendTaskSuccess = harness.counter("SendTaskSuccess");
        });
        const unchanged = async () => {
          const after = await harness.stored(approval.requestRef);
          assert.deepEqual(after.votes, before.votes);
          assert.equal(after.status, "PENDING");
          assert.equal(sendTaskSuccess(), 0);
        };
        const refused = async (interaction: SignedInteraction, statusCode: number, error: string) => {
          const answer = await harness.call(transport, interaction);
          assert.equal(answer.statusCode, statusCode, answer.body);
          assert.equal(jsonOf(answer).error, error);
          assert.match(jsonOf(answer).text, /Nothing was recorded/);
          await unchanged();
        };

        it("a bad signature", async () => refused(slack.interaction(messageOf(ANN, approval), "approve", { signingSecret: "not-the-signing-secret" }), 401, "invalid_signature"));
        it("an unsigned request", async () => {
          const { headers, ...rest } = slack.interaction(messageOf(ANN, approval), "approve");
          await refused({ ...rest, headers: { "Content-Type": headers["Content-Type"] } }, 401, "invalid_signature");
        });
        it("a signed body changed on the way", async () => {
          const signed = slack.interaction(messageOf(ANN, approval), "reject");
          await refused({ ...signed, body: signed.body.replace("reject", "approve") }, 401, "invalid_signature");
        });
        it("a timestamp older than five minutes (a captured request replayed later)", async () => {
          const old = Math.floor(harness.clock.now.getTime() / 1000) - 301;
          await refused(slack.interaction(messageOf(ANN, approval), "approve", { timestamp: old }), 401, "invalid_signature");
        });
        it("a Slack user who is not the message's approver", async () => refused(slack.interaction(messageOf(ANN, approval), "approve", { pressedBy: memberId(EVE) }), 200, "wrong_approver"));
        it("the requester, on an approver's message (the requester is never sent one)", async () => {
          assert.equal(slack.messagesFor(DEE).filter((message) => JSON.stringify(message.postedBlocks).includes(approval.requestRef)).length, 0);
          await refused(slack.interaction(messageOf(BOB, approval), "approve", { pressedBy: memberId(DEE) }), 200, "wrong_approver");
        });
        it("an approver removed from the stack since", async () => {
          harness.configure({ ...STACK, approverEmails: [BOB, CY, DEE] });
          await refused(slack.interaction(messageOf(ANN, approval), "approve"), 200, "not_an_approver");
        });
        it("a message this stack did not send (another channel's ts)", async () => {
          const forged = { ...messageOf(ANN, approval), ts: "1700000000.000001" };
          await refused(slack.interaction(forged, "approve"), 200, "not_an_approver");
        });
        it("a replay of a recorded press, and a press after settlement, are answered with the current state, never a second vote", async () => {
          const press = slack.interaction(messageOf(ANN, approval), "approve");
          assert.equal(jsonOf(await harness.call(transport, press)).ok, true);
          await approval.received;
          const replay = await harness.call(transport, press);
          assert.equal(jsonOf(replay).error, "already_voted");
          const late = await harness.call(transport, slack.interaction(messageOf(BOB, approval), "reject"));
          assert.equal(jsonOf(late).error, "already_decided");
          assert.match(jsonOf(late).text, /approved: it no longer takes votes/);
          assert.ok(messageOf(BOB, approval).replies.some((reply) => reply.includes("no longer takes votes")), "the presser is told in Slack");
          const stored = await harness.stored(approval.requestRef);
          assert.deepEqual(stored.votes.map((vote) => vote.approver), [ANN]);
          assert.equal(approval.deliveries(), 1);
        });
        it("a press after expiry", async () => {
          harness.clock.advanceSeconds(3601);
          await harness.timeOut(approval);
          const answer = await harness.call(transport, slack.interaction(messageOf(ANN, approval), "approve"));
          assert.equal(jsonOf(answer).error, "expired");
          assert.equal((await harness.stored(approval.requestRef)).votes.length, 0);
          assert.ok(!buttonsIn(messageOf(BOB, approval)), "the expiry updated every message");
          assert.match(messageOf(BOB, approval).text, /^Expired/);
        });
      });

      it("fuzz: malformed and unsigned payloads never throw, never answer 5xx, never vote", async () => {
        const approval = await ask({ approvers: [ANN, BOB] });
        const message = messageOf(ANN, approval);
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        const now = () => String(Math.floor(harness.clock.now.getTime() / 1000));
        const signed = (body: string) => ({ "X-Slack-Request-Timestamp": now(), "X-Slack-Signature": slackSignature(slack.signingSecret, now(), body) });
        const payloadOf = fc.oneof(
          fc.string(),
          fc.json(),
          // Slack-shaped, each field possibly wrong.
          fc.record({ type: fc.constantFrom("block_actions", "view_submission", 7), user: fc.constantFrom({ id: memberId(EVE) }, {}, null), team: fc.constantFrom({ id: "T1" }, "T1"), channel: fc.constantFrom({ id: message.channel }, { id: "../x" }), container: fc.constantFrom({ message_ts: message.ts }, { message_ts: 1 }), actions: fc.constantFrom([{ action_id: "approve", value: approval.requestRef }], [], [{ action_id: "approve" }], "x"), response_url: fc.constantFrom("http://169.254.169.254/latest", "https://hooks.slack.com/x", 3) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
        );
        await fc.assert(
          fc.asyncProperty(payloadOf, fc.boolean(), fc.constantFrom("application/x-www-form-urlencoded", "application/json", "text/plain"), fc.boolean(), async (payload, withField, contentType, sign) => {
            const body = withField ? new URLSearchParams({ payload }).toString() : payload;
            const answer = await harness.call(transport, { method: "POST", path: "/slack/interactions", headers: { "Content-Type": contentType, ...(sign ? signed(body) : {}) }, body });
            assert.ok(answer.statusCode < 500, `${answer.statusCode} ${answer.body}`);
            assert.equal(jsonOf(answer).ok, false, "nothing is recorded");
          }),
          { numRuns: 40 },
        );
        const stored = await harness.stored(approval.requestRef);
        assert.equal(stored.votes.length, 0);
        assert.equal(sendTaskSuccess(), 0);
      });
    });
  }

  it("a withdrawal (the execution stopped) updates every message to the outcome; a press after it records nothing", async () => {
    const approval = await ask({ approvers: [ANN, BOB] });
    harness.standIn.endExecution(approval.executionArn, "ABORTED", {}, { error: "Withdrawn", cause: "Release 42 was cancelled" });
    const requestFunction = createRequestHandler({ ...requestDependencies(harness.env), now: () => harness.clock.now, logger: createLogger({ service: "request-approval", write: (line) => harness.logLines.push(line) }) });
    const stateMachineArn = approval.executionArn.replace(":execution:", ":stateMachine:").replace(/:[^:]+$/, "");
    await requestFunction(executionStatusChangeEvent({ executionArn: approval.executionArn, stateMachineArn, name: approval.executionName, status: "ABORTED", error: "Withdrawn", cause: "Release 42 was cancelled" }), { awsRequestId: "withdrawal" });
    assert.equal((await harness.stored(approval.requestRef)).status, "WITHDRAWN");
    for (const approver of [ANN, BOB]) {
      assert.ok(!buttonsIn(messageOf(approver, approval)), approver);
      assert.match(messageOf(approver, approval).text, /^Withdrawn: /);
    }
    const late = await harness.call("httpApi", slack.interaction(messageOf(BOB, approval), "approve"));
    assert.equal(jsonOf(late).error, "withdrawn");
    assert.equal((await harness.stored(approval.requestRef)).votes.length, 0);
  });

  it("a press on the message of a large request works: Slack's payload echoes the whole message, far beyond a decision form's size", async () => {
    const approval = await ask({ approvers: [ANN, BOB], details: { notes: Array.from({ length: 12 }, (_, index) => `${index}: ${"\"quoted\" ".repeat(190)}`) } });
    const press = slack.interaction(messageOf(ANN, approval), "approve");
    assert.ok(Buffer.byteLength(press.body) > MAX_BODY_BYTES, `${Buffer.byteLength(press.body)} bytes`);
    assert.equal(jsonOf(await harness.call("httpApi", press)).ok, true);
    assert.equal((await approval.received).decision, "approved");
  });

  it("no signing secret, bot token, link or response_url reaches a log line", async () => {
    const approval = await ask({ approvers: [ANN, BOB] });
    await harness.call("functionUrl", slack.interaction(messageOf(ANN, approval), "approve", { signingSecret: "wrong" }));
    const press = slack.interaction(messageOf(ANN, approval), "approve");
    await harness.call("restApi", press);
    await approval.received;
    const logs = harness.logLines.join("\n");
    assert.ok(logs.includes("Slack interaction handled"));
    for (const secret of [slack.signingSecret, slack.botToken, ...Object.values(approval.links), "/hooks/", approval.taskToken]) assert.ok(!logs.includes(secret), `not logged: ${secret.slice(0, 12)}…`);
  });

  it("with Slack off, /slack/interactions is not found and nothing is sent to Slack", async () => {
    delete harness.env.SLACK_SECRET_ARN;
    harness.configure({});
    try {
      const posted = slack.callCount("chat.postMessage");
      const approval = await ask({ approvers: [ANN] });
      assert.equal(slack.callCount("chat.postMessage"), posted);
      assert.equal((await harness.stored(approval.requestRef)).slackMessages, undefined);
      const answer = await harness.call("httpApi", { method: "POST", path: "/slack/interactions", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "payload=%7B%7D" });
      assert.equal(answer.statusCode, 404);
    } finally {
      harness.env.SLACK_SECRET_ARN = SLACK_SECRET_ARN;
      harness.configure({});
    }
  });
});
