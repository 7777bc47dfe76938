/**
 * The life of one approval request, as pure functions: given the stored request, an event and the
 * clock, `transition` returns the request to store (if anything changes), the effects to perform and
 * the answer for the person. Nothing here does I/O; the decision and request-approval functions
 * perform the effects. Every page, JSON answer and badge reads `effectiveState`, so they cannot disagree.
 */
import { normaliseAddress } from "./address";
import type { ApprovalOutput, ApprovalRequest, Decision, Vote, VoteChannel } from "./approvalRequest";
import { DECISION_TIMEOUT_SECONDS } from "./awsClients";
import { canonicalJson } from "./canonicalJson";

/** What a request is at a given moment, whatever the item's status says. */
export type EffectiveState = "pending" | "settling" | "approved" | "rejected" | "expired" | "withdrawn" | "closed";

export function effectiveState(request: ApprovalRequest, now: Date): EffectiveState {
  switch (request.status) {
    case "PENDING":
      // Nothing writes at the exact moment of expiry: a PENDING item past its expiry is expired.
      return now.getTime() < Date.parse(request.expiresAt) ? "pending" : "expired";
    case "SETTLING":
      return "settling";
    case "APPROVED":
      return "approved";
    case "REJECTED":
      return "rejected";
    case "EXPIRED":
      return "expired";
    case "WITHDRAWN":
      return "withdrawn";
    default:
      return "closed";
  }
}

/** States in which a vote can still be cast. */
export const isOpen = (state: EffectiveState) => state === "pending";

export interface VoteEvent {
  type: "vote";
  approver: string;
  decision: Decision;
  comment: string;
  sourceIp?: string;
  userAgent?: string;
  verifiedBy?: string;
  /** Unset: the approver's link. */
  channel?: VoteChannel;
}

/** What the workflow turned out to have received, after a SendTaskSuccess (or a check of its history). */
export type DeliveryReport =
  | { type: "delivered"; output: ApprovalOutput }
  | { type: "taskTimedOut" }
  | { type: "executionEnded"; executionStatus: string }
  | { type: "taskGone"; reason: string }
  | { type: "notDelivered"; reason: string };

export type LifecycleEvent =
  | VoteEvent
  | { type: "view" }
  /** The scheduled sweeper (request function): finishes a delivery whose lease ran out, as a view would. */
  | { type: "sweep" }
  | { type: "delivery"; report: DeliveryReport }
  | { type: "expired" }
  | { type: "withdrawn"; reason: string };

export type Effect =
  | { type: "deliver"; output: ApprovalOutput }
  | { type: "notifyOutcome"; recipients: string[] };

/** What the person is told; pages and JSON are rendered from it with the request's effective state. */
export type Answer =
  | { type: "show" }
  | { type: "voteRecorded" }
  | { type: "alreadyRecorded" }
  | { type: "conflictingVote"; previous: Decision }
  | { type: "notOpen" }
  | { type: "notAsked" }
  | { type: "selfApproval" }
  | { type: "deliveryPending" };

export interface Transition {
  /** The request to store (conditioned on the version read), or undefined when nothing changes. */
  next?: ApprovalRequest;
  effects: Effect[];
  answer: Answer;
}

/** Twice the decision function's timeout: a claim older than this belongs to a function that died. */
export const DELIVERY_LEASE_MS = 2 * DECISION_TIMEOUT_SECONDS * 1000;

/** The shortest lease: a deliverer's SendTaskSuccess and history check normally take well under a second. */
export const MIN_DELIVERY_LEASE_MS = 5_000;

/**
 * Until when a deliverer holds a settlement: the lease, but never more than half the time left before the
 * request's expiry (at least MIN_DELIVERY_LEASE_MS), so that when a deliverer dies near the expiry the sweeper
 * still has time to deliver. Two deliverers at once are safe anyway: Step Functions takes a task token's
 * answer once, and only one of them records it (the version condition).
 */
export function leaseUntil(request: Pick<ApprovalRequest, "expiresAt">, now: Date): string {
  const left = Date.parse(request.expiresAt) - now.getTime();
  const lease = Number.isFinite(left) ? Math.max(MIN_DELIVERY_LEASE_MS, Math.min(DELIVERY_LEASE_MS, left / 2)) : DELIVERY_LEASE_MS;
  return new Date(now.getTime() + lease).toISOString();
}

// Addresses are stored in one normalised form (printable ASCII, lower case: functions/shared/address.ts).
const sameAddress = (a: string | undefined, b: string | undefined) => normaliseAddress(a) !== undefined && normaliseAddress(a) === normaliseAddress(b);

function bump(request: ApprovalRequest, changes: Partial<ApprovalRequest>): ApprovalRequest {
  return { ...request, ...changes, version: request.version + 1 };
}

/** The output the workflow will receive, fixed at the moment the settling vote is recorded. */
export function settlementOutput(request: ApprovalRequest, votes: Vote[], settling: Vote): ApprovalOutput {
  return {
    decision: settling.decision,
    decidedBy: settling.approver,
    decidedAt: settling.decidedAt,
    comment: settling.comment,
    approvals: votes.map(({ approver, decision, decidedAt, comment, channel, verifiedBy }) => ({ approver, decision, decidedAt, comment, channel: channel ?? "email", ...(verifiedBy ? { verifiedBy } : {}) })),
    requestRef: request.id,
    inputDigest: request.inputDigest,
    ...(settling.verifiedBy ? { verifiedBy: settling.verifiedBy } : {}),
  };
}

/** Everyone told of the outcome: the asked approvers, and the requester when they are an approver too. */
export function outcomeRecipients(request: ApprovalRequest, stackApprovers: readonly string[]): string[] {
  const recipients = new Set(request.approvers);
  const requester = request.requestedBy?.toLowerCase();
  if (requester && stackApprovers.some((address) => sameAddress(address, requester))) recipients.add(requester);
  return [...recipients];
}

function vote(request: ApprovalRequest, event: VoteEvent, now: Date): Transition {
  const approver = event.approver.toLowerCase();
  const previous = request.votes.find((existing) => existing.approver === approver);
  const state = effectiveState(request, now);
  if (previous) {
    // A double click or a second device: the same choice is calm, another choice is a conflict.
    return previous.decision === event.decision ? { effects: [], answer: { type: "alreadyRecorded" } } : { effects: [], answer: { type: "conflictingVote", previous: previous.decision } };
  }
  if (!isOpen(state)) return { effects: [], answer: { type: "notOpen" } };
  // Self-approval first: the requester is told why, rather than that they were not asked.
  if (sameAddress(request.requestedBy, approver) && !request.allowSelfApproval) return { effects: [], answer: { type: "selfApproval" } };
  if (!request.approvers.includes(approver)) return { effects: [], answer: { type: "notAsked" } };

  const cast: Vote = {
    approver,
    decision: event.decision,
    decidedAt: now.toISOString(),
    comment: event.comment,
    // What this approver was shown, so each vote can be checked against what runs.
    inputDigest: request.inputDigest,
    ...(event.sourceIp ? { sourceIp: event.sourceIp } : {}),
    ...(event.userAgent ? { userAgent: event.userAgent } : {}),
    ...(event.verifiedBy ? { verifiedBy: event.verifiedBy } : {}),
    ...(event.channel ? { channel: event.channel } : {}),
  };
  const votes = [...request.votes, cast];
  const approvals = votes.filter((existing) => existing.decision === "approved").length;
  // The first rejection vetoes; the quorum-th distinct approval approves.
  const settles = cast.decision === "rejected" || approvals >= request.requiredApprovals;
  if (!settles) return { next: bump(request, { votes }), effects: [], answer: { type: "voteRecorded" } };

  const output = settlementOutput(request, votes, cast);
  const next = bump(request, {
    votes,
    status: "SETTLING",
    settlement: { output, settledAt: cast.decidedAt, leaseUntil: leaseUntil(request, now) },
  });
  return { next, effects: [{ type: "deliver", output }], answer: { type: "voteRecorded" } };
}

/**
 * Any visit to a settling request whose lease ran out (its deliverer died or gave up) takes the lease
 * and delivers the recorded output again: the decision was made by votes, this only finishes telling.
 */
function resumeDelivery(request: ApprovalRequest, now: Date): Transition | undefined {
  const settlement = request.settlement;
  if (request.status !== "SETTLING" || !settlement || Date.parse(settlement.leaseUntil) > now.getTime()) return undefined;
  const next = bump(request, { settlement: { ...settlement, leaseUntil: leaseUntil(request, now) } });
  return { next, effects: [{ type: "deliver", output: settlement.output }], answer: { type: "show" } };
}

function delivery(request: ApprovalRequest, report: DeliveryReport, now: Date, stackApprovers: readonly string[]): Transition {
  const settlement = request.settlement;
  if (request.status !== "SETTLING" || !settlement) return { effects: [], answer: { type: "show" } };
  const notify: Effect = { type: "notifyOutcome", recipients: outcomeRecipients(request, stackApprovers) };
  switch (report.type) {
    case "delivered": {
      if (canonicalJson(report.output) !== canonicalJson(settlement.output)) {
        // Someone else answered the task with its token. The workflow's "Verify decision" refuses it, so
        // nothing was decided by the approvers, and nothing here claims otherwise.
        return { next: bump(request, { status: "CLOSED", closedReason: "The workflow received a decision this stack did not send (someone answered its task with the task token); the workflow refused it." }), effects: [{ type: "notifyOutcome", recipients: outcomeRecipients(request, stackApprovers) }], answer: { type: "show" } };
      }
      // Record what the workflow received (the same output, whatever the key order).
      const next = bump(request, {
        status: report.output.decision === "approved" ? "APPROVED" : "REJECTED",
        settlement: { ...settlement, output: report.output, lastFailure: undefined },
        deliveredAt: now.toISOString(),
      });
      return { next, effects: [{ type: "notifyOutcome", recipients: outcomeRecipients(request, stackApprovers) }], answer: { type: "show" } };
    }
    // The approvers hear how it ended: no other path tells them once the request was settling.
    case "taskTimedOut":
      return { next: bump(request, { status: "EXPIRED", closedReason: "The workflow stopped waiting (timed out) before the decision reached it." }), effects: [notify], answer: { type: "show" } };
    case "executionEnded": {
      const withdrawn = report.executionStatus === "ABORTED";
      const reason = withdrawn ? "The execution was stopped before the decision reached it." : `The execution ended (${report.executionStatus}) before the decision reached it.`;
      return { next: bump(request, { status: withdrawn ? "WITHDRAWN" : "CLOSED", closedReason: reason }), effects: [notify], answer: { type: "show" } };
    }
    case "taskGone":
      return { next: bump(request, { status: "CLOSED", closedReason: report.reason }), effects: [notify], answer: { type: "show" } };
    case "notDelivered":
      // Keep the settlement (votes decided it), free the lease so the next sweep (or visit) tries again.
      return { next: bump(request, { settlement: { ...settlement, leaseUntil: now.toISOString(), lastFailure: report.reason } }), effects: [], answer: { type: "deliveryPending" } };
  }
}

export interface TransitionContext {
  now: Date;
  /** The stack's current approvers (for who hears of the outcome). */
  stackApprovers: readonly string[];
}

export function transition(request: ApprovalRequest, event: LifecycleEvent, context: TransitionContext): Transition {
  const { now } = context;
  switch (event.type) {
    case "view":
    case "sweep":
      return resumeDelivery(request, now) ?? { effects: [], answer: { type: "show" } };
    case "vote": {
      const resumed = resumeDelivery(request, now);
      if (resumed) {
        const voted = vote(request, event, now);
        return { ...resumed, answer: voted.answer };
      }
      return vote(request, event, now);
    }
    case "delivery":
      return delivery(request, event.report, now, context.stackApprovers);
    case "expired": {
      // The workflow took its timeout path: whatever the item said, the workflow received "expired".
      if (request.status === "EXPIRED" || request.status === "WITHDRAWN") return { effects: [], answer: { type: "show" } };
      const reason = request.status === "SETTLING" ? "The votes settled it, but the workflow stopped waiting before the decision reached it." : "Nobody settled it before the approval timeout.";
      return {
        next: bump(request, { status: "EXPIRED", closedReason: reason }),
        effects: [{ type: "notifyOutcome", recipients: outcomeRecipients(request, context.stackApprovers) }],
        answer: { type: "show" },
      };
    }
    case "withdrawn": {
      // Only a pending request is withdrawn here. A settling one may already have reached the workflow
      // (a reply lost, not yet confirmed): the next sweep (or visit) reads the execution's history and records the truth.
      if (effectiveState(request, now) !== "pending") return { effects: [], answer: { type: "notOpen" } };
      return {
        next: bump(request, { status: "WITHDRAWN", closedReason: event.reason }),
        effects: [{ type: "notifyOutcome", recipients: outcomeRecipients(request, context.stackApprovers) }],
        answer: { type: "show" },
      };
    }
  }
}
