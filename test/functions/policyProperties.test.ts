import { strict as assert } from "node:assert";
import fc from "fast-check";
import { InvalidApprovalRequest, type RequestApprovalPayload } from "../../functions/requestApproval/payload";
import { newApprovalRequest } from "../../functions/requestApproval/requestApproval";
import type { ApprovalRequest, Decision } from "../../functions/shared/approvalRequest";
import { transition, type LifecycleEvent } from "../../functions/shared/lifecycle";
import type { ApprovalPolicy, PolicyRule } from "../../functions/shared/policy";

/**
 * Issue 23's lifecycle properties (fast-check), on the pure lifecycle with random policies and random
 * sequences of votes, escalations, clock steps and timeouts. Each property is checked against an oracle
 * written here independently of functions/shared/policy.ts:
 * - no sequence settles a request the policy does not allow, or keeps open one it settles;
 * - stages open in order: nobody of a later stage votes before the earlier ones hold;
 * - a vote never counts twice; the requester never counts (nor is asked, nor votes);
 * - a request whose policy can never be satisfied (separation of duties) is refused before anything is stored;
 * - the timeout ends it as the policy says: rejected by "timeout", or expired.
 */
const POOL = ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"];
const START = Date.parse("2026-12-01T10:00:00.000Z");
const TIMEOUT_SECONDS = 24 * 3600;

const addresses = fc.uniqueArray(fc.constantFrom(...POOL), { minLength: 1, maxLength: 4 });
const rule = (name: string) =>
  addresses.chain((members) =>
    fc.record({
      group: fc.constant(name),
      members: fc.constant(members),
      required: fc.integer({ min: 1, max: members.length }),
      escalation: fc.option(fc.record({ after: fc.integer({ min: 1, max: 120 }), backup: addresses }), { nil: undefined }),
    }).map(({ escalation, ...base }): PolicyRule => (escalation ? { ...base, escalateAfterMinutes: escalation.after, escalateTo: `${name}-backup`, escalationMembers: escalation.backup } : base)),
  );
const policy: fc.Arbitrary<ApprovalPolicy> = fc
  .integer({ min: 1, max: 3 })
  .chain((stages) => fc.tuple(...Array.from({ length: stages }, (_, stage) => fc.integer({ min: 1, max: 2 }).chain((rules) => fc.tuple(...Array.from({ length: rules }, (_, index) => rule(`g${stage + 1}${index + 1}`)))))))
  .chain((stages) => fc.record({ onTimeout: fc.constantFrom("expire" as const, "reject" as const) }).map(({ onTimeout }) => ({ name: "p", stages: stages.map((rules) => ({ rules })), onTimeout, requireReason: "none" as const })));

type Step = { type: "vote"; approver: string; decision: Decision } | { type: "wait"; minutes: number } | { type: "escalate" } | { type: "expired" };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant("vote" as const), approver: fc.constantFrom(...POOL), decision: fc.constantFrom<Decision>("approved", "approved", "approved", "rejected") }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("wait" as const), minutes: fc.integer({ min: 1, max: 90 }) }) },
  { weight: 2, arbitrary: fc.constant({ type: "escalate" as const }) },
  { weight: 1, arbitrary: fc.constant({ type: "expired" as const }) },
);

/** The oracle: who may count toward a rule, and whether every rule of every stage holds with these approvals. */
function eligible(rule: PolicyRule, escalated: boolean, requester: string | undefined): Set<string> {
  return new Set([...rule.members, ...(escalated ? rule.escalationMembers ?? [] : [])].filter((address) => address !== requester));
}
function everyRuleHolds(policy: ApprovalPolicy, approvals: string[], escalated: (stage: number, group: string) => boolean, requester: string | undefined): boolean {
  return policy.stages.every((stage, index) => stage.rules.every((rule) => new Set(approvals.filter((address) => eligible(rule, escalated(index + 1, rule.group), requester).has(address))).size >= rule.required));
}
function stagesThatHold(policy: ApprovalPolicy, approvals: string[], escalated: (stage: number, group: string) => boolean, requester: string | undefined): number {
  let held = 0;
  for (const [index, stage] of policy.stages.entries()) {
    if (!stage.rules.every((rule) => new Set(approvals.filter((address) => eligible(rule, escalated(index + 1, rule.group), requester).has(address))).size >= rule.required)) break;
    held++;
  }
  return held;
}

function newRequest(chosen: ApprovalPolicy, requester: string | undefined): ApprovalRequest {
  const payload: RequestApprovalPayload = { kind: "request", taskToken: "token", execution: { id: "arn:aws:states:eu-west-1:1:execution:m:e", name: "e" }, stateMachine: { name: "m" }, input: { title: "t", policy: "p", ...(requester ? { requestedBy: requester } : {}) } };
  const deps = { callbackUrl: "https://x.io", approvalTimeoutSeconds: TIMEOUT_SECONDS, auditRetentionDays: 1, subjectTemplate: "{title}", approverEmails: POOL, requiredApprovals: 1, allowSelfApproval: false, policies: { p: chosen } };
  return newApprovalRequest(payload, deps, new Date(START));
}

describe("approval policy lifecycle properties (fast-check)", () => {
  it("refuses exactly the requests that separation of duties makes impossible, before anything is stored", () => {
    fc.assert(
      fc.property(policy, fc.option(fc.constantFrom(...POOL), { nil: undefined }), (chosen, requester) => {
        const possible = chosen.stages.every((stage) => stage.rules.every((rule) => eligible(rule, true, requester).size >= rule.required));
        let request: ApprovalRequest | undefined;
        try {
          request = newRequest(chosen, requester);
        } catch (error) {
          assert.ok(error instanceof InvalidApprovalRequest, String(error));
          assert.equal(possible, false, (error as Error).message);
          return;
        }
        assert.equal(possible, true);
        assert.ok(!request.approvers.includes(requester ?? ""), "the requester is never asked");
      }),
      { numRuns: 2000 },
    );
  });

  it("settles only what the policy allows, never keeps open what it settles; stages in order; one count per vote; the requester never counts", () => {
    fc.assert(
      fc.property(policy, fc.option(fc.constantFrom(...POOL), { nil: undefined }), fc.array(step, { maxLength: 40 }), (chosen, requester, steps) => {
        let request: ApprovalRequest;
        try {
          request = newRequest(chosen, requester);
        } catch {
          return; // the refusal is the property above
        }
        let now = START;
        const escalatedIn = (state: ApprovalRequest) => (stage: number, group: string) => (state.policyProgress?.escalations ?? []).some((escalation) => escalation.stage === stage && escalation.group === group);
        for (const next of steps) {
          if (next.type === "wait") {
            now += next.minutes * 60_000;
            continue;
          }
          const before = request;
          const event: LifecycleEvent = next.type === "vote" ? { type: "vote", approver: next.approver, decision: next.decision, comment: "" } : { type: next.type };
          const result = transition(before, event, { now: new Date(now), stackApprovers: POOL });
          const after = result.next ?? before;
          const escalated = escalatedIn(after);
          const approvals = after.votes.filter((vote) => vote.decision === "approved").map((vote) => vote.approver);
          const rejected = after.votes.some((vote) => vote.decision === "rejected");

          // One vote per approver; the requester never votes, is never asked, never counts.
          assert.equal(new Set(after.votes.map((vote) => vote.approver)).size, after.votes.length, "a vote never counts twice");
          assert.ok(!after.votes.some((vote) => vote.approver === requester), "the requester never votes");
          assert.ok(!after.approvers.includes(requester ?? ""), "the requester is never asked");
          const output = after.settlement?.output;
          for (const stage of output?.stages ?? []) for (const rule of stage.rules) {
            assert.equal(new Set(rule.countedApprovers).size, rule.countedApprovers.length, "counted once per rule");
            assert.ok(!rule.countedApprovers.includes(requester ?? ""), "the requester never counts");
          }

          if (next.type === "vote" && result.next && before.status === "PENDING") {
            // Stages in order: a vote is recorded only from someone asked, i.e. of a stage whose predecessors all hold, or a backup group asked.
            const held = stagesThatHold(chosen, before.votes.filter((vote) => vote.decision === "approved").map((vote) => vote.approver), escalated, requester);
            const askable = chosen.stages.slice(0, held + 1).some((stage, index) => stage.rules.some((rule) => eligible(rule, escalated(index + 1, rule.group), requester).has(next.approver)));
            assert.ok(askable, `${next.approver} voted before their stage opened`);
          }
          if (after.status === "SETTLING") {
            assert.ok(output);
            if (output.decision === "approved") {
              assert.ok(!rejected);
              assert.ok(everyRuleHolds(chosen, approvals, escalated, requester), "approved only when every rule of every stage holds");
            } else {
              assert.ok(rejected, "rejected only by a rejection");
            }
          }
          if (after.status === "PENDING" && before.status === "PENDING") {
            assert.ok(!rejected, "a rejection never leaves it open");
            assert.ok(!everyRuleHolds(chosen, approvals, escalated, requester), "never kept open once every rule holds");
          }
          if (next.type === "expired" && before.status === "PENDING") {
            if (chosen.onTimeout === "reject") assert.deepEqual([after.status, after.settlement?.output.decidedBy, after.settlement?.output.decision], ["REJECTED", "timeout", "rejected"]);
            else assert.equal(after.status, "EXPIRED");
          }
          if (next.type === "expired" && before.status !== "PENDING") {
            assert.deepEqual(after.settlement, before.settlement, "the timeout decides only an open request; a retried expiry changes nothing it decided");
            if (before.settlement?.output.decidedBy === "timeout") assert.equal(after.status, "REJECTED");
          }
          request = after;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("escalates only an unsatisfied rule of the open stage, once, after its delay, asking its backup group", () => {
    fc.assert(
      fc.property(policy, fc.array(step, { maxLength: 30 }), (chosen, steps) => {
        let request = newRequest(chosen, undefined);
        let now = START;
        for (const next of [...steps, { type: "escalate" as const }]) {
          if (next.type === "wait") {
            now += next.minutes * 60_000;
            continue;
          }
          const event: LifecycleEvent = next.type === "vote" ? { type: "vote", approver: next.approver, decision: next.decision, comment: "" } : { type: next.type };
          const result = transition(request, event, { now: new Date(now), stackApprovers: POOL });
          const after = result.next ?? request;
          const added = (after.policyProgress?.escalations ?? []).slice(request.policyProgress?.escalations.length ?? 0);
          for (const escalation of added) {
            assert.equal(next.type, "escalate", "only the scheduled path escalates");
            const stage = chosen.stages[escalation.stage - 1];
            const escalatedRule = stage.rules.find((candidate) => candidate.group === escalation.group)!;
            const openedAt = Date.parse(request.policyProgress!.stageOpenedAt[escalation.stage - 1]);
            assert.ok(now >= openedAt + escalatedRule.escalateAfterMinutes! * 60_000, "not before the delay");
            assert.equal(request.policyProgress!.stageOpenedAt.length, escalation.stage, "the open stage only");
            for (const address of escalation.asked) assert.ok(after.approvers.includes(address), "the backup group is asked");
            assert.equal((after.policyProgress?.escalations ?? []).filter((other) => other.stage === escalation.stage && other.group === escalation.group).length, 1, "once");
          }
          request = after;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
