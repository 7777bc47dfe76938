import { strict as assert } from "node:assert";
import * as path from "node:path";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import type { Transport } from "../../functions/decision/httpEvent";
import type { PublishedEmail } from "../../local/awsStandIn";
import { reviewUrlIn, startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";
import { readPolicyFile } from "../../local/policyFile";

/**
 * The local mode with approval policies (`npm start -- --policy local/examples/two-stage-policy.yaml`), over real
 * HTTP and through the real state machine definition: a two-stage policy settles only when every rule holds, and a
 * policy that rejects on timeout ends on the Rejected path with decidedBy "timeout".
 */
const EXAMPLE = path.join(__dirname, "../../local/examples/two-stage-policy.yaml");
const [LEE, SAM, RAY, RITA] = ["lee@example.com", "sam@example.com", "ray@example.com", "rita@example.com"];
const INPUT_STATES = [STATE_NAMES.inspectInput, STATE_NAMES.isObject, STATE_NAMES.unwrapInput];
const vote = (decision: "approve" | "reject", comment = "") => ({ method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision, comment }) });

/** JSON answers here are checked field by field. */
const json = (response: Response): Promise<any> => response.json();

/** Each approver's link for this execution, from every email so far. */
function linksOf(local: LocalApprovals, execution: LocalExecution): Record<string, string> {
  const links: Record<string, string> = {};
  for (const email of execution.allEmails()) {
    const url = reviewUrlIn(email.message, local.callbackUrl);
    if (url) links[email.recipients[0]] = url;
  }
  return links;
}

describe("local mode with approval policies (npm start -- --policy)", function () {
  this.timeout(60_000);
  const example = readPolicyFile(EXAMPLE);

  it("reads the example: its groups are the approvers, its first policy the default, with the stack's own checks", () => {
    assert.deepEqual(example.approverEmails, [LEE, SAM, RAY, RITA, "ron@example.com", "olga@example.com"]);
    assert.equal(example.defaultPolicy, "change");
    assert.deepEqual(example.approvalPolicies.change.stages.map((stage) => stage.rules.map((rule) => `${rule.required} of ${rule.group}`)), [["1 of leads"], ["1 of security", "2 of sre"]]);
  });

  for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
    describe(`over ${transport}`, () => {
      let local: LocalApprovals;
      before(async () => (local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400, approverEmails: example.approverEmails, approvalPolicies: example.approvalPolicies })));
      after(async () => local.close());

      it("runs the two-stage example: stage 2 is asked once stage 1 holds, and it settles only when security AND 2 of sre approved", async () => {
        const execution = local.startExecution({ title: "Rotate keys", policy: "change", requestedBy: "dev@example.com" });
        const first = await execution.emails;
        assert.deepEqual(first.map((email) => email.approver), [LEE]);
        assert.equal((await fetch(first[0].reviewUrl, vote("approve"))).status, 200);
        await local.remind();
        const links = linksOf(local, execution);
        assert.ok(links[SAM] && links[RAY] && links[RITA], "stage 2 asked");
        for (const approver of [RAY, SAM]) assert.equal((await json(await fetch(links[approver], vote("approve")))).status, "pending");
        const last = await json(await fetch(links[RITA], vote("approve")));
        assert.equal(last.status, "approved");
        const outcome = await execution.outcome;
        assert.deepEqual(outcome.path, [...INPUT_STATES, STATE_NAMES.requestApproval, STATE_NAMES.verifyDecision, STATE_NAMES.choice, STATE_NAMES.approved]);
        const approval = (outcome.output as { approval: { decision: string; decidedBy: string; policy: string; stages: Array<{ result: string }> } }).approval;
        assert.deepEqual([approval.decision, approval.decidedBy, approval.policy, approval.stages.map((stage) => stage.result)], ["approved", RITA, "change", ["approved", "approved"]]);
      });
    });
  }

  it("ends a policy that rejects on timeout on the Rejected path, decidedBy \"timeout\", and tells the approvers", async () => {
    const local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 2, approverEmails: example.approverEmails, approvalPolicies: example.approvalPolicies });
    try {
      const execution = local.startExecution({ title: "Nobody looks", policy: "change" });
      await execution.emails;
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "SUCCEEDED");
      assert.deepEqual(outcome.path, [...INPUT_STATES, STATE_NAMES.requestApproval, STATE_NAMES.notifyExpiry, STATE_NAMES.timeoutOutcome, STATE_NAMES.rejectedOnTimeout, STATE_NAMES.rejected]);
      const approval = (outcome.output as { approval: { decision: string; decidedBy: string; comment: string } }).approval;
      assert.deepEqual([approval.decision, approval.decidedBy], ["rejected", "timeout"]);
      assert.match(approval.comment, /No person decided/);
      const notice = await local.standIn.nextEmail((email: PublishedEmail) => email.subject.includes("Rejected:") && execution.allEmails().some((own) => own.messageId === email.messageId));
      assert.match(notice.message, /Rejected by timeout/);
      assert.match(notice.message, /rejected on timeout \(no person decides\)/);
    } finally {
      await local.close();
    }
  });
});
