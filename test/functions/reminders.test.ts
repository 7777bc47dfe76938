import { strict as assert } from "node:assert";
import { createHandler, dependenciesFromEnvironment } from "../../functions/requestApproval/index";
import { composeReminderEmail, dueReminders, reminderKey, reminderMinutesFromEnvironment } from "../../functions/requestApproval/reminders";
import type { ApprovalRequest } from "../../functions/shared/approvalRequest";
import { createLogger } from "../../functions/shared/logger";
import type { PublishedEmail } from "../../local/awsStandIn";
import { jsonPost } from "../support/events";
import { APPROVAL_TIMEOUT_SECONDS, CALLBACK_URL, linkPathIn, startHarness, type Harness, type RequestedApproval } from "../support/harness";

const [ANN, BOB, CY] = ["ann@example.com", "bob@example.com", "cy@example.com"];
const REMIND = { kind: "remind" };

describe("reminders (request-approval function, dynalite + AWS stand-in)", () => {
  describe("which reminder times are due", () => {
    const created = new Date("2026-11-22T10:00:00.000Z");
    const request = { createdAt: created.toISOString(), expiresAt: new Date(created.getTime() + 3600_000).toISOString(), notified: [] as string[] };
    const at = (minutesAfterCreation: number) => new Date(created.getTime() + minutesAfterCreation * 60_000);

    it("is due once the time before expiry has come, until the request expires", () => {
      assert.deepEqual(dueReminders(request, [30, 10], at(29)), []);
      assert.deepEqual(dueReminders(request, [30, 10], at(30)), [30]);
      assert.deepEqual(dueReminders(request, [30, 10], at(55)), [30, 10], "a late run finds both; one reminder is sent for them");
      assert.deepEqual(dueReminders(request, [30, 10], at(60)), [], "nothing once expired");
    });

    it("is not due again once recorded, and never for a time before the request was asked", () => {
      assert.deepEqual(dueReminders({ ...request, notified: [reminderKey(30)] }, [30, 10], at(40)), []);
      assert.deepEqual(dueReminders(request, [90, 10], at(1)), [], "a reminder 90 minutes before a one-hour expiry would follow the request at once");
    });

    it("reads the minutes from the environment, largest first, and refuses anything else", () => {
      assert.deepEqual(reminderMinutesFromEnvironment({}), []);
      assert.deepEqual(reminderMinutesFromEnvironment({ REMINDER_MINUTES_BEFORE_EXPIRY: "10, 60,10" }), [60, 10]);
      assert.throws(() => reminderMinutesFromEnvironment({ REMINDER_MINUTES_BEFORE_EXPIRY: "60,soon" }), /REMINDER_MINUTES_BEFORE_EXPIRY is "60,soon"/);
      assert.throws(() => reminderMinutesFromEnvironment({ REMINDER_MINUTES_BEFORE_EXPIRY: "0" }), /at least 1/);
    });

    it("says it is a reminder, how long is left and the votes so far, and carries the approver's same link", () => {
      const stored = { title: "Deploy", approvers: [ANN, BOB], requiredApprovals: 2, votes: [{ approver: ANN, decision: "approved" }], expiresAt: at(60).toISOString(), createdAt: created.toISOString(), stateMachineName: "m", executionName: "e", id: "req-x" } as unknown as ApprovalRequest;
      const email = composeReminderEmail(stored, BOB, "L".repeat(32), CALLBACK_URL, "Approval needed: {title}", at(50));
      assert.equal(email.subject, "Reminder: Approval needed: Deploy");
      assert.deepEqual(email.recipients, [BOB]);
      assert.match(email.message, /^Reminder: this request expires in 10 minutes and you have not voted yet \(1 of 2 approvals so far\)/);
      assert.ok(email.message.includes(`${CALLBACK_URL}/requests/${"L".repeat(32)}\n`));
    });
  });

  describe("the remind entry", () => {
    let harness: Harness;
    let remind: (event?: unknown) => Promise<unknown>;
    before(async () => (harness = await startHarness({ approverEmails: [ANN, BOB, CY], requiredApprovals: 2 })));
    after(async () => harness.close());
    beforeEach(() => {
      harness.configure({ approverEmails: [ANN, BOB, CY], requiredApprovals: 2 });
      remind = withReminders("30,10");
    });

    /** The request function as deployed with reminderMinutesBeforeExpiry, on the harness's clock. */
    function withReminders(minutes: string | undefined, approverEmails = harness.config.approverEmails) {
      const env = { ...harness.env, APPROVER_EMAILS: approverEmails.join(","), ...(minutes === undefined ? {} : { REMINDER_MINUTES_BEFORE_EXPIRY: minutes }) };
      const handler = createHandler({ ...dependenciesFromEnvironment(env), now: () => harness.clock.now, logger: createLogger({ service: "request-approval", write: (line) => harness.logLines.push(line) }) });
      return (event: unknown = REMIND) => handler(event, { awsRequestId: "reminder-test" });
    }
    const remindersOf = (approval: RequestedApproval) => harness.standIn.emails.filter((email) => email.subject.startsWith("Reminder:") && email.message.includes(`Reference:  ${approval.requestRef}\n`));
    const minutesBeforeExpiry = (approval: RequestedApproval, minutes: number) => async () => {
      const expiresAt = Date.parse((await harness.stored(approval.requestRef)).expiresAt);
      harness.clock.now = new Date(expiresAt - minutes * 60_000);
    };
    const vote = (approval: RequestedApproval, approver: string, decision: "approve" | "reject") => harness.call("functionUrl", jsonPost(approval.links[approver], { decision }));
    const linkOf = (email: PublishedEmail) => linkPathIn(email);

    it("reminds each approver who has not voted, once per reminder time, with their same link", async () => {
      harness.clock.now = new Date();
      const approval = await harness.requestApproval({ title: "Remind me" });
      assert.equal((await vote(approval, ANN, "approve")).statusCode, 200);

      await remind();
      assert.equal(remindersOf(approval).length, 0, "nothing before the first reminder time");

      await minutesBeforeExpiry(approval, 30)();
      await remind();
      const first = remindersOf(approval);
      assert.deepEqual(first.map((email) => email.recipients[0]).sort(), [BOB, CY], "ann voted: she is not reminded");
      for (const email of first) assert.equal(linkOf(email), approval.links[email.recipients[0]], "the same link as in the request email");
      assert.ok((await harness.stored(approval.requestRef)).notified.includes(reminderKey(30)));

      harness.clock.advanceSeconds(60);
      await remind();
      assert.equal(remindersOf(approval).length, 2, "a reminder time is sent once");

      await minutesBeforeExpiry(approval, 10)();
      await remind();
      assert.equal(remindersOf(approval).length, 4, "the second reminder time reminds again");
    });

    it("sends once when two runs overlap (the claim is a version-conditioned write)", async () => {
      harness.clock.now = new Date();
      const approval = await harness.requestApproval({ title: "Overlapping runs" });
      await minutesBeforeExpiry(approval, 29)();
      const other = withReminders("30,10");
      await Promise.all([remind(), other(), remind(), other()]);
      assert.equal(remindersOf(approval).length, 3, "one reminder for each of the three approvers");
    });

    it("sends one reminder when several times have passed at once", async () => {
      harness.clock.now = new Date();
      const approval = await harness.requestApproval({ title: "Late schedule" });
      await minutesBeforeExpiry(approval, 5)();
      await remind();
      assert.equal(remindersOf(approval).length, 3);
      const notified = (await harness.stored(approval.requestRef)).notified;
      assert.ok(notified.includes(reminderKey(30)) && notified.includes(reminderKey(10)));
    });

    it("never reminds after the request settled", async () => {
      harness.clock.now = new Date();
      const settled = await harness.requestApproval({ title: "Settled" });
      assert.equal((await vote(settled, ANN, "reject")).statusCode, 200);
      await minutesBeforeExpiry(settled, 10)();
      await remind();
      assert.equal(remindersOf(settled).length, 0);
    });

    it("reads each request again before reminding: one settled since the index listed it is not reminded", async () => {
      harness.clock.now = new Date();
      const settled = await harness.requestApproval({ title: "Settled since listed" });
      assert.equal((await vote(settled, ANN, "reject")).statusCode, 200);
      await minutesBeforeExpiry(settled, 10)();
      const item = await harness.stored(settled.requestRef);
      // The status index is eventually consistent: it may still list the request as pending.
      const stale = createHandler({
        ...dependenciesFromEnvironment({ ...harness.env, REMINDER_MINUTES_BEFORE_EXPIRY: "30,10" }),
        pendingRequests: async () => [{ id: item.id, createdAt: item.createdAt, expiresAt: item.expiresAt }],
        now: () => harness.clock.now,
        logger: createLogger({ service: "request-approval", write: () => undefined }),
      });
      await stale(REMIND, { awsRequestId: "stale-index" });
      assert.equal(remindersOf(settled).length, 0);
    });

    it("never reminds a request past its expiry", async () => {
      harness.clock.now = new Date();
      const expired = await harness.requestApproval({ title: "Expired" });
      harness.clock.advanceSeconds(APPROVAL_TIMEOUT_SECONDS + 1);
      await remind();
      assert.equal(remindersOf(expired).length, 0);
    });

    it("does not remind an approver removed from the stack since", async () => {
      harness.clock.now = new Date();
      const approval = await harness.requestApproval({ title: "Removed approver" });
      await minutesBeforeExpiry(approval, 30)();
      await withReminders("30,10", [ANN, BOB])();
      assert.deepEqual(remindersOf(approval).map((email) => email.recipients[0]).sort(), [ANN, BOB]);
    });

    it("does nothing without reminderMinutesBeforeExpiry", async () => {
      harness.clock.now = new Date();
      const approval = await harness.requestApproval({ title: "No reminders" });
      await minutesBeforeExpiry(approval, 1)();
      assert.deepEqual(await withReminders(undefined)(), { requests: 0, emailsSent: 0 });
      assert.equal(remindersOf(approval).length, 0);
    });

    it("logs no link", async () => {
      harness.clock.now = new Date();
      const approval = await harness.requestApproval({ title: "Logs" });
      await minutesBeforeExpiry(approval, 30)();
      await remind();
      const log = harness.logLines.join("\n");
      for (const path of Object.values(approval.links)) assert.ok(!log.includes(path.slice("/requests/".length)));
    });
  });
});
