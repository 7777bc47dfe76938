import { strict as assert } from "node:assert";
import { InvalidApprovalRequest } from "../../functions/requestApproval/payload";
import { requestRefFor } from "../../functions/shared/approvalRequest";
import { parseStackConfig } from "../../stacks/config";
import { ALL_TRANSPORTS, formPost, jsonPost, type HttpCall } from "../support/events";
import { executionArnOf, headingOf, jsonOf, linkPathIn, startHarness, uniqueExecutionName, type Harness, type RequestedApproval } from "../support/harness";

/**
 * Issue 23 on every transport: approval policies (groups, stages, rules), escalation on the reminders'
 * schedule, a timeout outcome, required reasons, and an input that cannot weaken its policy. The real
 * handlers run against dynalite and the AWS stand-in (test/support/harness.ts); the policies are read by the
 * real stack config reader, as `pulumi up` reads them.
 */
const LEE = "lee@example.com";
const SAM = "sam@example.com";
const RAY = "ray@example.com";
const RITA = "rita@example.com";
const RON = "ron@example.com";
const OLGA = "olga@example.com";
const REQUESTER = "req@example.com";
const APPROVERS = [LEE, SAM, RAY, RITA, RON, OLGA, REQUESTER];

const stack = parseStackConfig({
  approverEmails: JSON.stringify(APPROVERS),
  approverGroups: JSON.stringify({ leads: [LEE], security: [SAM], sre: [RAY, RITA, RON, REQUESTER], oncall: [OLGA] }),
  approvalPolicies: JSON.stringify({
    change: {
      stages: [{ rules: [{ group: "leads", required: 1 }] }, { rules: [{ group: "security", required: 1 }, { group: "sre", required: 2, escalateAfterMinutes: 30, escalateTo: "oncall" }] }],
      requireReason: "reject",
    },
    strict: { stages: [{ rules: [{ group: "leads", required: 1 }] }], onTimeout: "reject" },
  }),
});
const STACK = { approverEmails: APPROVERS, requiredApprovals: 1, allowSelfApproval: false, approvalPolicies: stack.approvalPolicies };
const CHANGE = { title: "Rotate the database credentials", policy: "change", requestedBy: REQUESTER };

describe("approval policies on every transport (dynalite + AWS stand-in)", function () {
  this.timeout(120_000);
  let harness: Harness;
  before(async () => (harness = await startHarness(STACK)));
  after(async () => harness.close());

  /** Every approver's link for this execution so far, from every email the stand-in received (stage openings come later). */
  const linksOf = (approval: RequestedApproval) => {
    const links: Record<string, string> = {};
    for (const email of harness.standIn.emails.filter((sent) => sent.message.includes(`\nExecution:  ${approval.executionName}\n`))) {
      const path = linkPathIn(email);
      if (path) links[email.recipients[0]] = path;
    }
    return links;
  };
  const emailsTo = (approval: RequestedApproval, address: string) => harness.standIn.emails.filter((email) => email.recipients.includes(address) && email.message.includes(approval.requestRef));

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      const vote = (approval: RequestedApproval, approver: string, decision: "approve" | "reject", comment = "") => {
        const path = linksOf(approval)[approver];
        assert.ok(path, `${approver} has a link`);
        return harness.call(transport, jsonPost(path, { decision, comment }));
      };
      /** Stage 1 (the lead) approves, and the scheduled path asks stage 2. */
      const throughStageOne = async (input: Record<string, unknown> = CHANGE) => {
        const approval = await harness.requestApproval(input);
        assert.deepEqual(Object.keys(approval.links), [LEE], "only stage 1 is asked at first");
        assert.equal((await vote(approval, LEE, "approve")).statusCode, 200);
        await harness.remind();
        return approval;
      };

      it("settles a two-stage policy (1 lead, then 1 security AND 2 sre) only when every rule of every stage holds", async () => {
        const sendTaskSuccess = harness.counter("SendTaskSuccess");
        const approval = await throughStageOne();
        assert.deepEqual(Object.keys(linksOf(approval)).sort(), [LEE, RAY, RITA, RON, SAM].sort(), "stage 2 asked on the schedule; the requester never");
        const page = await harness.call(transport, { method: "GET", path: linksOf(approval)[RAY] });
        assert.match(page.body, /Stage 2 \(open\): security: 0 of 1, sre: 0 of 2/);
        assert.match(page.body, /Stage 1 \(approved\): leads: 1 of 1 ✓/);
        assert.equal(jsonOf(await vote(approval, RAY, "approve")).status, "pending");
        assert.equal(jsonOf(await vote(approval, RITA, "approve")).status, "pending", "sre holds, security does not: still open");
        assert.equal(sendTaskSuccess(), 0);
        const progress = await harness.call(transport, { method: "GET", path: linksOf(approval)[SAM] });
        assert.match(progress.body, /security: 0 of 1, sre: 2 of 2 ✓/);
        assert.equal((await vote(approval, SAM, "approve")).statusCode, 200);
        const output = await approval.received;
        assert.equal(sendTaskSuccess(), 1);
        assert.equal(output.decision, "approved");
        assert.equal(output.decidedBy, SAM);
        assert.equal(output.policy, "change");
        assert.deepEqual(output.stages?.map((stage) => [stage.stage, stage.result]), [[1, "approved"], [2, "approved"]]);
        assert.deepEqual(output.stages?.[1].rules.map((rule) => [rule.group, rule.result, rule.countedApprovers]), [["security", "satisfied", [SAM]], ["sre", "satisfied", [RAY, RITA]]]);
        assert.deepEqual(output.approvals.map((entry) => entry.approver), [LEE, RAY, RITA, SAM]);
        assert.deepEqual(output.escalations, []);
      });

      it("rejects on a rejection in stage 2, with the required reason in approvals[] and the notice", async () => {
        const approval = await throughStageOne();
        await vote(approval, RAY, "approve");
        const rejected = await vote(approval, RON, "reject", "the rollback plan is missing");
        assert.equal(rejected.statusCode, 200);
        const output = await approval.received;
        assert.equal(output.decision, "rejected");
        assert.equal(output.decidedBy, RON);
        assert.equal(output.comment, "the rollback plan is missing");
        assert.deepEqual(output.approvals.at(-1), { approver: RON, decision: "rejected", decidedAt: output.decidedAt, comment: "the rollback plan is missing", channel: "email" });
        assert.deepEqual(output.stages?.map((stage) => stage.result), ["approved", "rejected"]);
        const notice = emailsTo(approval, SAM).find((email) => email.subject.startsWith("Rejected"));
        assert.ok(notice && notice.message.includes("the rollback plan is missing"), "the notice carries the reason");
      });

      it("refuses a rejection without the reason the policy requires (400 on the page and the JSON API), recording nothing", async () => {
        const approval = await throughStageOne();
        const before = await harness.stored(approval.requestRef);
        const json = await vote(approval, RON, "reject", "   ");
        assert.equal(json.statusCode, 400);
        assert.equal(jsonOf(json).error, "reason_required");
        const form = await harness.call(transport, formPost(linksOf(approval)[RON], { decision: "reject", comment: "" }, { "Sec-Fetch-Site": "same-origin" }));
        assert.equal(form.statusCode, 400);
        assert.match(headingOf(form), /A reason is required to reject/);
        assert.deepEqual(await harness.stored(approval.requestRef), before, "nothing recorded");
        assert.equal((await vote(approval, RON, "approve")).statusCode, 200, "an approval needs no reason under requireReason: reject");
      });

      it("escalates an unsatisfied rule to its backup group after the delay; the backup's approval counts; the asked and the requester are told", async () => {
        const approval = await throughStageOne();
        await vote(approval, SAM, "approve");
        await vote(approval, RAY, "approve");
        await harness.remind();
        assert.equal(linksOf(approval)[OLGA], undefined, "not before the delay");
        harness.clock.advanceSeconds(31 * 60);
        await harness.remind();
        assert.ok(linksOf(approval)[OLGA], "the backup group gets its own link");
        const told = emailsTo(approval, REQUESTER).concat(emailsTo(approval, SAM)).filter((email) => email.subject.startsWith("Escalated"));
        assert.equal(told.length, 2, "the requester and the asked approvers hear of it");
        assert.match(told[0].message, /sre did not reach its approvals in time, so oncall is asked too/);
        await harness.remind();
        assert.equal(emailsTo(approval, OLGA).filter((email) => linkPathIn(email)).length, 1, "asked once, however often the schedule runs");
        assert.equal((await vote(approval, OLGA, "approve")).statusCode, 200);
        const output = await approval.received;
        assert.equal(output.decision, "approved");
        assert.equal(output.decidedBy, OLGA);
        assert.deepEqual(output.stages?.[1].rules[1], { group: "sre", required: 2, result: "satisfied", countedApprovers: [RAY, OLGA], escalatedTo: "oncall" });
        assert.deepEqual(output.escalations?.map(({ stage, group, escalateTo, asked }) => ({ stage, group, escalateTo, asked })), [{ stage: 2, group: "sre", escalateTo: "oncall", asked: [OLGA] }]);
      });

      it("ends rejected with decidedBy \"timeout\" when the policy rejects on timeout; the links then show it", async () => {
        const approval = await harness.requestApproval({ title: "Strict", policy: "strict", requestedBy: REQUESTER });
        const answer = (await harness.timeOut(approval)) as { status: string; approval: { decision: string; decidedBy: string; comment: string; policy: string } };
        assert.equal(answer.status, "REJECTED");
        assert.equal(answer.approval.decision, "rejected");
        assert.equal(answer.approval.decidedBy, "timeout");
        assert.match(answer.approval.comment, /No person decided/);
        assert.equal(answer.approval.policy, "strict");
        const page = await harness.call(transport, { method: "GET", path: approval.links[LEE], headers: { Accept: "application/json" } });
        assert.equal(jsonOf(page).status, "rejected");
        assert.equal(jsonOf(page).decidedBy, "timeout");
        const late = await vote(approval, LEE, "approve");
        assert.equal(late.statusCode, 409);
        // A policy that expires (the default) still ends "expired", as today.
        const expiring = await harness.requestApproval(CHANGE);
        const expired = (await harness.timeOut(expiring)) as { status: string; approval: { decision: string } };
        assert.deepEqual([expired.status, expired.approval], ["EXPIRED", { decision: "expired" }]);
      });

      it("never lets an input weaken its policy: no lower count, no skipped stage; an unknown policy or too few approvers is refused before any email", async () => {
        const published = harness.counter("Publish");
        const macs = harness.counter("GenerateMac");
        const refusedName = uniqueExecutionName("weakened");
        await assert.rejects(
          harness.requestApproval({ ...CHANGE, approvers: [LEE, SAM, RAY], requiredApprovals: 0, stages: [] }, { executionName: refusedName }),
          (error: Error) => error instanceof InvalidApprovalRequest && /stage 2: group sre needs 2 approvals, but only 1 approver can vote for it/.test(error.message),
        );
        await assert.rejects(harness.requestApproval({ ...CHANGE, policy: "lenient" }), (error: Error) => error instanceof InvalidApprovalRequest && /Input policy is "lenient": it must name one of this stack's approval policies \(change, strict\)/.test(error.message));
        await assert.rejects(harness.requestApproval({ ...CHANGE, approvers: [LEE, "mallory@example.com"] }), (error: Error) => error instanceof InvalidApprovalRequest && /mallory@example\.com, which is not an approver of policy change/.test(error.message));
        assert.equal(published(), 0, "no email went out");
        assert.equal(macs(), 0, "no link was made");
        await assert.rejects(harness.stored(requestRefFor(executionArnOf(refusedName))), /No request item/);

        // Narrowed to exactly enough approvers, with fields that try to lower the bar: every stage and count still applies.
        const narrowed = await throughStageOne({ ...CHANGE, approvers: [LEE, SAM, RAY, RITA], requiredApprovals: 1, stages: [{ rules: [] }] });
        assert.deepEqual(Object.keys(linksOf(narrowed)).sort(), [LEE, RAY, RITA, SAM].sort(), "ron was narrowed away");
        await vote(narrowed, SAM, "approve");
        assert.equal(jsonOf(await vote(narrowed, RAY, "approve")).status, "pending", "still 2 of sre");
        const call: HttpCall = jsonPost(linksOf(narrowed)[RITA], { decision: "approve" });
        assert.equal((await harness.call(transport, call)).statusCode, 200);
        assert.equal((await narrowed.received).decision, "approved");
      });
    });
  }
});
