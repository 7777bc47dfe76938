import { strict as assert } from "node:assert";
import fc from "fast-check";
import type { ApprovalOutput, ApprovalRequest, Decision, RequestStatus } from "../../functions/shared/approvalRequest";
import { effectiveState, leaseUntil, outcomeRecipients, transition, type DeliveryReport, type LifecycleEvent, type Transition } from "../../functions/shared/lifecycle";

const ANN = "ann@example.com";
const BOB = "bob@example.com";
const CAT = "cat@example.com";
const NOW = new Date("2026-11-22T10:00:00.000Z");
const EXPIRES = new Date(NOW.getTime() + 3600_000);
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const context = (now: Date = NOW, stackApprovers: string[] = [ANN, BOB, CAT]) => ({ now, stackApprovers });

function pendingRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: "req-AAAAAAAAAAAAAAAAAAAA",
    taskToken: "token",
    executionArn: "arn:aws:states:eu-west-1:1:execution:sm:run",
    executionName: "run",
    stateMachineName: "sm",
    title: "Deploy",
    inputDigest: "sha256:00",
    approvers: [ANN, BOB, CAT],
    requiredApprovals: 2,
    allowSelfApproval: false,
    createdAt: NOW.toISOString(),
    expiresAt: EXPIRES.toISOString(),
    status: "PENDING",
    version: 1,
    votes: [],
    notified: [],
    ttl: 0,
    ...overrides,
  };
}

const voteBy = (approver: string, decision: Decision = "approved", comment = ""): LifecycleEvent => ({ type: "vote", approver, decision, comment });

/** Applies events in order as the store would (each `next` replaces the request); returns the last request and step. */
function run(request: ApprovalRequest, events: Array<[LifecycleEvent, Date?]>): { request: ApprovalRequest; step: Transition } {
  let current = request;
  let step: Transition = { effects: [], answer: { type: "show" } };
  for (const [event, now] of events) {
    step = transition(current, event, context(now));
    current = step.next ?? current;
  }
  return { request: current, step };
}

/** A request the votes of ANN and BOB settled (approved), delivery not yet confirmed. */
function settlingRequest(): ApprovalRequest {
  return run(pendingRequest(), [[voteBy(ANN)], [voteBy(BOB)]]).request;
}

describe("lifecycle: effectiveState", () => {
  it("is pending only before the expiry instant", () => {
    assert.equal(effectiveState(pendingRequest(), NOW), "pending");
    assert.equal(effectiveState(pendingRequest(), at(3600_000 - 1)), "pending");
    assert.equal(effectiveState(pendingRequest(), EXPIRES), "expired");
    assert.equal(effectiveState(pendingRequest(), at(10 * 3600_000)), "expired");
  });
  it("follows the stored status for every other status, at any time", () => {
    const expected: Array<[RequestStatus, string]> = [["SETTLING", "settling"], ["APPROVED", "approved"], ["REJECTED", "rejected"], ["EXPIRED", "expired"], ["WITHDRAWN", "withdrawn"], ["CLOSED", "closed"]];
    for (const [status, state] of expected) {
      for (const now of [NOW, at(10 * 3600_000)]) assert.equal(effectiveState(pendingRequest({ status }), now), state, `${status} at ${now.toISOString()}`);
    }
  });
  it("calls an unknown status closed", () => {
    assert.equal(effectiveState(pendingRequest({ status: "SOMETHING" as RequestStatus }), NOW), "closed");
  });
});

describe("lifecycle: votes", () => {
  it("records an approval below the quorum, in lower case, with its details, and settles nothing", () => {
    const step = transition(pendingRequest(), { type: "vote", approver: "Ann@Example.com", decision: "approved", comment: "ok", sourceIp: "192.0.2.1", userAgent: "ua" }, context());
    assert.deepEqual(step.answer, { type: "voteRecorded" });
    assert.deepEqual(step.effects, []);
    assert.equal(step.next?.status, "PENDING");
    assert.equal(step.next?.version, 2);
    assert.deepEqual(step.next?.votes, [{ approver: ANN, decision: "approved", decidedAt: NOW.toISOString(), comment: "ok", inputDigest: pendingRequest().inputDigest, sourceIp: "192.0.2.1", userAgent: "ua" }]);
    assert.equal(step.next?.settlement, undefined);
  });

  it("settles on the quorum-th distinct approval, recording the output before delivering it", () => {
    const first = run(pendingRequest(), [[voteBy(ANN, "approved", "fine")]]).request;
    const step = transition(first, { ...voteBy(BOB, "approved", "ship it"), verifiedBy: "https://login.example.com" } as LifecycleEvent, context(at(1000)));
    const output = step.next?.settlement?.output;
    assert.ok(output);
    assert.equal(step.next?.status, "SETTLING");
    assert.deepEqual(output, {
      decision: "approved",
      decidedBy: BOB,
      decidedAt: at(1000).toISOString(),
      comment: "ship it",
      approvals: [
        { approver: ANN, decision: "approved", decidedAt: NOW.toISOString(), comment: "fine", channel: "email" },
        { approver: BOB, decision: "approved", decidedAt: at(1000).toISOString(), comment: "ship it", channel: "email", verifiedBy: "https://login.example.com" },
      ],
      requestRef: first.id,
      inputDigest: first.inputDigest,
      verifiedBy: "https://login.example.com",
    });
    assert.equal(step.next?.settlement?.leaseUntil, "2026-11-22T10:00:41.000Z", "the 40 s lease (twice the decision function's 20 s timeout) from the settling vote");
    assert.deepEqual(step.effects, [{ type: "deliver", output }]);
    assert.deepEqual(step.answer, { type: "voteRecorded" });
  });

  it("a delivery lease never takes more than half the time left before the expiry (at least the minimum)", () => {
    assert.equal(leaseUntil({ expiresAt: EXPIRES.toISOString() }, NOW), "2026-11-22T10:00:40.000Z", "an hour left: the whole 40 s lease");
    assert.equal(leaseUntil({ expiresAt: at(60_000).toISOString() }, NOW), at(30_000).toISOString(), "a minute left: half of it");
    assert.equal(leaseUntil({ expiresAt: at(4_000).toISOString() }, NOW), "2026-11-22T10:00:05.000Z", "seconds left: the 5 s minimum");
    const nearExpiry = transition(pendingRequest({ requiredApprovals: 1, expiresAt: at(60_000).toISOString() }), voteBy(CAT), context());
    assert.equal(nearExpiry.next?.settlement?.leaseUntil, at(30_000).toISOString(), "a vote a minute before the expiry leaves the sweeper half a minute");
  });

  it("a sweep resumes a delivery whose lease ran out, and leaves a running lease alone", () => {
    const settling = transition(pendingRequest({ requiredApprovals: 1 }), voteBy(CAT), context()).next!;
    assert.deepEqual(transition(settling, { type: "sweep" }, context(at(1000))), { effects: [], answer: { type: "show" } });
    assert.deepEqual(transition(settling, { type: "sweep" }, context(at(40_000 - 1))).effects, [], "the 40 s lease still runs");
    const swept = transition(settling, { type: "sweep" }, context(at(40_000)));
    assert.deepEqual(swept.effects, [{ type: "deliver", output: settling.settlement!.output }]);
    assert.equal(swept.next?.version, settling.version + 1);
  });

  it("settles at once with a quorum of one", () => {
    const step = transition(pendingRequest({ requiredApprovals: 1 }), voteBy(CAT), context());
    assert.equal(step.next?.status, "SETTLING");
    assert.equal(step.next?.settlement?.output.decidedBy, CAT);
  });

  it("lets the first rejection veto, before or after approvals", () => {
    const first = transition(pendingRequest(), voteBy(BOB, "rejected", "no"), context());
    assert.equal(first.next?.status, "SETTLING");
    assert.equal(first.next?.settlement?.output.decision, "rejected");
    assert.equal(first.next?.settlement?.output.comment, "no");
    const later = run(pendingRequest({ requiredApprovals: 3 }), [[voteBy(ANN)], [voteBy(BOB)], [voteBy(CAT, "rejected")]]).request;
    assert.equal(later.settlement?.output.decision, "rejected");
    assert.equal(later.settlement?.output.decidedBy, CAT);
    assert.deepEqual(later.settlement?.output.approvals.map((cast) => cast.decision), ["approved", "approved", "rejected"]);
  });

  it("answers a repeat calmly and a changed mind as a conflict, changing nothing either way", () => {
    const voted = run(pendingRequest(), [[voteBy(ANN, "approved")]]).request;
    assert.deepEqual(transition(voted, voteBy("ANN@example.com", "approved", "again"), context()), { effects: [], answer: { type: "alreadyRecorded" } });
    assert.deepEqual(transition(voted, voteBy(ANN, "rejected"), context()), { effects: [], answer: { type: "conflictingVote", previous: "approved" } });
    // Also once settled and delivered.
    const approved = { ...settlingRequest(), status: "APPROVED" as const };
    assert.deepEqual(transition(approved, voteBy(BOB, "approved"), context()), { effects: [], answer: { type: "alreadyRecorded" } });
    assert.deepEqual(transition(approved, voteBy(BOB, "rejected"), context()), { effects: [], answer: { type: "conflictingVote", previous: "approved" } });
  });

  it("refuses someone who was not asked", () => {
    assert.deepEqual(transition(pendingRequest({ approvers: [ANN, BOB] }), voteBy(CAT), context()), { effects: [], answer: { type: "notAsked" } });
    assert.deepEqual(transition(pendingRequest(), voteBy("eve@example.com"), context()), { effects: [], answer: { type: "notAsked" } });
  });

  it("refuses the requester's own vote (any letter case) unless self-approval was allowed", () => {
    const own = pendingRequest({ requestedBy: "Ann@Example.COM" });
    assert.deepEqual(transition(own, voteBy(ANN), context()), { effects: [], answer: { type: "selfApproval" } });
    assert.deepEqual(transition(own, voteBy("ANN@example.com", "rejected"), context()), { effects: [], answer: { type: "selfApproval" } });
    assert.deepEqual(transition({ ...own, allowSelfApproval: true }, voteBy(ANN), context()).answer, { type: "voteRecorded" });
    assert.deepEqual(transition(own, voteBy(BOB), context()).answer, { type: "voteRecorded" });
  });

  it("refuses new votes once settled, delivered, closed or past the expiry", () => {
    const settling = settlingRequest();
    for (const request of [settling, { ...settling, status: "APPROVED" as const }, pendingRequest({ status: "EXPIRED" }), pendingRequest({ status: "WITHDRAWN" }), pendingRequest({ status: "CLOSED" })]) {
      assert.deepEqual(transition(request, voteBy(CAT, "rejected"), context()), { effects: [], answer: { type: "notOpen" } }, request.status);
    }
    assert.deepEqual(transition(pendingRequest(), voteBy(ANN), context(EXPIRES)), { effects: [], answer: { type: "notOpen" } });
  });

  it("changes nothing on a view of an open request", () => {
    assert.deepEqual(transition(pendingRequest(), { type: "view" }, context()), { effects: [], answer: { type: "show" } });
    assert.deepEqual(transition(settlingRequest(), { type: "view" }, context()), { effects: [], answer: { type: "show" } }, "the lease is held");
  });
});

describe("lifecycle: delivery reports", () => {
  const delivered = (request: ApprovalRequest, report: DeliveryReport, now = at(500)) => transition(request, { type: "delivery", report }, context(now));

  it("delivered: records what the workflow received and tells the approvers and the requester", () => {
    const settling = { ...settlingRequest(), requestedBy: "Dan@example.com" };
    const output = settling.settlement!.output;
    const step = delivered(settling, { type: "delivered", output }, at(500));
    assert.equal(step.next?.status, "APPROVED");
    assert.equal(step.next?.deliveredAt, at(500).toISOString());
    assert.deepEqual(step.next?.settlement?.output, output);
    assert.deepEqual(step.effects, [{ type: "notifyOutcome", recipients: [ANN, BOB, CAT] }], "dan asked, but is no stack approver");
    const stackWithDan = transition(settling, { type: "delivery", report: { type: "delivered", output } }, context(at(500), [ANN, BOB, CAT, "dan@example.com"]));
    assert.deepEqual(stackWithDan.effects, [{ type: "notifyOutcome", recipients: [ANN, BOB, CAT, "dan@example.com"] }]);
  });

  it("delivered: a foreign output (someone else answered with the token) is never recorded as the approvers' decision", () => {
    const settling = settlingRequest();
    const theirs: ApprovalOutput = { ...settling.settlement!.output, decision: "approved", decidedBy: "ceo@example.com" };
    const step = delivered(settling, { type: "delivered", output: theirs });
    assert.equal(step.next?.status, "CLOSED");
    assert.match(step.next?.closedReason ?? "", /did not send/);
    assert.deepEqual(step.next?.settlement?.output, settling.settlement!.output, "the record keeps what the votes settled");
    assert.equal(effectiveState(step.next!, NOW), "closed");
  });

  it("delivered: our own output, whatever its key order, is recorded as delivered", () => {
    const settling = settlingRequest();
    const reordered = Object.fromEntries(Object.entries(settling.settlement!.output).reverse()) as ApprovalOutput;
    assert.equal(delivered(settling, { type: "delivered", output: reordered }).next?.status, settling.settlement!.output.decision === "approved" ? "APPROVED" : "REJECTED");
  });

  it("taskTimedOut: expired, with the reason, and no decision", () => {
    const step = delivered(settlingRequest(), { type: "taskTimedOut" });
    assert.equal(step.next?.status, "EXPIRED");
    assert.match(step.next?.closedReason ?? "", /timed out/);
    assert.equal(effectiveState(step.next!, NOW), "expired");
    assert.deepEqual(step.effects, [{ type: "notifyOutcome", recipients: [ANN, BOB, CAT] }], "the approvers hear it expired");
  });

  it("executionEnded: withdrawn when ABORTED, closed otherwise", () => {
    const aborted = delivered(settlingRequest(), { type: "executionEnded", executionStatus: "ABORTED" });
    assert.equal(aborted.next?.status, "WITHDRAWN");
    assert.match(aborted.next?.closedReason ?? "", /stopped/);
    const failed = delivered(settlingRequest(), { type: "executionEnded", executionStatus: "FAILED" });
    assert.equal(failed.next?.status, "CLOSED");
    assert.match(failed.next?.closedReason ?? "", /FAILED/);
    for (const step of [aborted, failed]) assert.deepEqual(step.effects.map((effect) => effect.type), ["notifyOutcome"], "the approvers hear how it ended");
  });

  it("notDelivered: keeps the settlement, frees the lease and says so", () => {
    const settling = settlingRequest();
    const step = delivered(settling, { type: "notDelivered", reason: "throttled" }, at(700));
    assert.equal(step.next?.status, "SETTLING");
    assert.deepEqual(step.next?.settlement?.output, settling.settlement!.output);
    assert.equal(step.next?.settlement?.leaseUntil, at(700).toISOString());
    assert.equal(step.next?.settlement?.lastFailure, "throttled");
    assert.deepEqual(step.answer, { type: "deliveryPending" });
    assert.deepEqual(step.effects, []);
  });

  it("is ignored by a request that is not settling", () => {
    const output = settlingRequest().settlement!.output;
    for (const request of [pendingRequest(), { ...settlingRequest(), status: "APPROVED" as const }]) {
      assert.deepEqual(delivered(request, { type: "delivered", output }), { effects: [], answer: { type: "show" } });
    }
  });
});

describe("lifecycle: resuming a delivery after its lease", () => {
  it("delivers the recorded output again once the lease has run out, on a view", () => {
    const settling = settlingRequest();
    const leaseEnd = new Date(settling.settlement!.leaseUntil);
    assert.equal(transition(settling, { type: "view" }, context(new Date(leaseEnd.getTime() - 1))).next, undefined);
    const step = transition(settling, { type: "view" }, context(leaseEnd));
    assert.deepEqual(step.effects, [{ type: "deliver", output: settling.settlement!.output }]);
    assert.equal(step.next?.settlement?.leaseUntil, new Date(leaseEnd.getTime() + 40_000).toISOString(), "a fresh 40 s lease");
    assert.deepEqual(step.next?.votes, settling.votes);
    assert.equal(step.next?.version, settling.version + 1);
  });

  it("on a vote, resumes the recorded output and records no new vote", () => {
    const settling = settlingRequest();
    const later = at(80_000); // twice the 40 s lease
    const newcomer = transition(settling, voteBy(CAT, "rejected"), context(later));
    assert.deepEqual(newcomer.answer, { type: "notOpen" });
    assert.deepEqual(newcomer.effects, [{ type: "deliver", output: settling.settlement!.output }]);
    assert.deepEqual(newcomer.next?.votes, settling.votes);
    const repeat = transition(settling, voteBy(BOB), context(later));
    assert.deepEqual(repeat.answer, { type: "alreadyRecorded" });
    assert.deepEqual(repeat.effects, [{ type: "deliver", output: settling.settlement!.output }]);
  });

  it("resumes right away after a failed delivery freed the lease", () => {
    const freed = transition(settlingRequest(), { type: "delivery", report: { type: "notDelivered", reason: "x" } }, context(at(10))).next!;
    assert.equal(transition(freed, { type: "view" }, context(at(10))).effects[0]?.type, "deliver");
  });
});

describe("lifecycle: the workflow's timeout and withdrawal", () => {
  it("expired: closes a pending or settling request and tells the approvers", () => {
    const pending = transition(pendingRequest(), { type: "expired" }, context(EXPIRES));
    assert.equal(pending.next?.status, "EXPIRED");
    assert.match(pending.next?.closedReason ?? "", /Nobody settled it/);
    assert.deepEqual(pending.effects, [{ type: "notifyOutcome", recipients: [ANN, BOB, CAT] }]);
    const settling = transition(settlingRequest(), { type: "expired" }, context(EXPIRES));
    assert.equal(settling.next?.status, "EXPIRED");
    assert.match(settling.next?.closedReason ?? "", /votes settled it, but the workflow stopped waiting/);
    assert.equal(effectiveState(settling.next!, EXPIRES), "expired");
  });
  it("expired: changes nothing twice, nor for a withdrawn request", () => {
    for (const status of ["EXPIRED", "WITHDRAWN"] as const) assert.deepEqual(transition(pendingRequest({ status }), { type: "expired" }, context()), { effects: [], answer: { type: "show" } });
  });
  it("withdrawn: closes an open request, and nothing else", () => {
    const step = transition(pendingRequest(), { type: "withdrawn", reason: "stopped by ops" }, context());
    assert.equal(step.next?.status, "WITHDRAWN");
    assert.equal(step.next?.closedReason, "stopped by ops");
    assert.deepEqual(transition(pendingRequest({ status: "APPROVED" }), { type: "withdrawn", reason: "x" }, context()), { effects: [], answer: { type: "notOpen" } });
  });
  it("withdrawn: leaves a settling request to the history check, since its decision may already have reached the workflow", () => {
    assert.deepEqual(transition(settlingRequest(), { type: "withdrawn", reason: "stopped by ops" }, context()), { effects: [], answer: { type: "notOpen" } });
  });
  it("tells the asked approvers, and the requester only when they are a stack approver", () => {
    assert.deepEqual(outcomeRecipients(pendingRequest({ approvers: [BOB, CAT], requestedBy: "Ann@Example.com" }), [ANN, BOB, CAT]), [BOB, CAT, ANN]);
    assert.deepEqual(outcomeRecipients(pendingRequest({ approvers: [BOB], requestedBy: "eve@example.com" }), [ANN, BOB]), [BOB]);
  });
});

describe("lifecycle properties (fast-check)", () => {
  type Step =
    | { kind: "vote"; who: number; decision: Decision; comment: string }
    | { kind: "view" }
    | { kind: "advance"; ms: number }
    | { kind: "report"; report: "delivered" | "taskTimedOut" | "aborted" | "notDelivered" }
    | { kind: "expired" };
  const step: fc.Arbitrary<Step> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant("vote" as const), who: fc.nat(5), decision: fc.constantFrom<Decision>("approved", "rejected"), comment: fc.string({ maxLength: 5 }) }), weight: 6 },
    { arbitrary: fc.constant({ kind: "view" as const }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 80_000 /* twice the 40 s lease */ }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant("report" as const), report: fc.constantFrom("delivered" as const, "taskTimedOut" as const, "aborted" as const, "notDelivered" as const) }), weight: 2 },
    { arbitrary: fc.constant({ kind: "expired" as const }), weight: 1 },
  );
  const scenario = fc.record({
    approverCount: fc.integer({ min: 1, max: 5 }),
    quorumSeed: fc.nat(),
    requesterIndex: fc.option(fc.nat(4), { nil: undefined }),
    allowSelfApproval: fc.boolean(),
    steps: fc.array(step, { maxLength: 40 }),
  });
  const people = ["ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com", "eve@example.com", "outsider@example.com"];

  it("any sequence of votes and events settles at most once, and the recorded output never changes", () => {
    let settledRuns = 0;
    fc.assert(
      fc.property(scenario, ({ approverCount, quorumSeed, requesterIndex, allowSelfApproval, steps }) => {
        const approvers = people.slice(0, approverCount);
        let request = pendingRequest({
          approvers,
          requiredApprovals: 1 + (quorumSeed % approverCount),
          requestedBy: requesterIndex === undefined ? undefined : people[requesterIndex].toUpperCase(),
          allowSelfApproval,
        });
        let now = NOW;
        let settlements = 0;
        let recorded: ApprovalOutput | undefined;
        for (const action of steps) {
          if (action.kind === "advance") {
            now = new Date(now.getTime() + action.ms);
            continue;
          }
          const output = request.settlement?.output;
          let event: LifecycleEvent;
          if (action.kind === "vote") event = voteBy(people[action.who], action.decision, action.comment);
          else if (action.kind === "view") event = { type: "view" };
          else if (action.kind === "expired") event = { type: "expired" };
          else {
            const reports: Record<typeof action.report, DeliveryReport | undefined> = {
              delivered: output && { type: "delivered", output },
              taskTimedOut: { type: "taskTimedOut" },
              aborted: { type: "executionEnded", executionStatus: "ABORTED" },
              notDelivered: { type: "notDelivered", reason: "x" },
            };
            const report = reports[action.report];
            if (!report) continue;
            event = { type: "delivery", report };
          }
          const result = transition(request, event, context(now));
          const next = result.next;
          for (const effect of result.effects) {
            if (effect.type === "deliver") assert.deepEqual(effect.output, next?.settlement?.output ?? request.settlement?.output, "only the recorded output is ever delivered");
          }
          if (!next) continue;
          assert.equal(next.version, request.version + 1, "every write bumps the version by one");
          assert.deepEqual(next.votes.slice(0, request.votes.length), request.votes, "votes are never rewritten");
          assert.ok(next.votes.length - request.votes.length <= 1);
          assert.equal(new Set(next.votes.map((cast) => cast.approver)).size, next.votes.length, "one vote per approver");
          for (const cast of next.votes) {
            assert.ok(approvers.includes(cast.approver), "only asked approvers vote");
            if (!allowSelfApproval) assert.notEqual(cast.approver, request.requestedBy?.toLowerCase(), "no self-approval");
          }
          if (!request.settlement && next.settlement) {
            settlements++;
            recorded = next.settlement.output;
            const approvals = next.votes.filter((cast) => cast.decision === "approved").length;
            assert.equal(recorded.decision === "approved", approvals >= next.requiredApprovals && next.votes.every((cast) => cast.decision === "approved"));
            assert.equal(recorded.decidedBy, next.votes.at(-1)!.approver);
            assert.deepEqual(recorded.approvals.map((cast) => cast.approver), next.votes.map((cast) => cast.approver));
          }
          if (request.settlement) {
            assert.deepEqual(next.settlement?.output, recorded, "the settlement output never changes once recorded");
            assert.equal(next.votes.length, request.votes.length, "no vote after the settling one");
          }
          request = next;
        }
        assert.ok(settlements <= 1);
        settledRuns += settlements;
      }),
      { numRuns: 2_000 },
    );
    assert.ok(settledRuns > 500, `only ${settledRuns} of 2000 runs settled: the property would prove little`);
  });
});
