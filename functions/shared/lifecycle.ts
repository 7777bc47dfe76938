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
import { askedSoFar, dueEscalations, evaluatePolicy, reasonMissing, singleRulePolicy, type ApprovalPolicy, type Escalation, type PolicyEvaluation } from "./policy";

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
  | { type: "withdrawn"; reason: string }
  /** The scheduled path (request function): asks the backup group of every rule whose escalation is due. */
  | { type: "escalate" };

export type Effect =
  | { type: "deliver"; output: ApprovalOutput }
  | { type: "notifyOutcome"; recipients: string[] }
  /** Tell the asked approvers and the requester that a rule escalated (the new approvers get their links by the scheduled path). */
  | { type: "notifyEscalation"; recipients: string[]; escalations: Escalation[] };

/** What the person is told; pages and JSON are rendered from it with the request's effective state. */
export type Answer =
  | { type: "show" }
  | { type: "voteRecorded" }
  | { type: "alreadyRecorded" }
  | { type: "conflictingVote"; previous: Decision }
  | { type: "notOpen" }
  | { type: "notAsked" }
  | { type: "selfApproval" }
  /** The request's policy needs a comment for this choice: nothing recorded (400). */
  | { type: "reasonRequired"; decision: Decision }
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

/** The policy a request follows: its own, or today's one stage with one rule. */
export function policyOf(request: Pick<ApprovalRequest, "policy" | "approvers" | "requiredApprovals">): ApprovalPolicy {
  return request.policy ?? singleRulePolicy(request.approvers, request.requiredApprovals);
}

/** Where the request's policy stands with these votes. */
export type PolicyView = Pick<ApprovalRequest, "policy" | "policyProgress" | "approvers" | "requiredApprovals" | "requestedBy" | "allowSelfApproval" | "votes">;

export function evaluationOf(request: PolicyView, votes: readonly Vote[] = request.votes): PolicyEvaluation {
  return evaluatePolicy(policyOf(request), votes, { requestedBy: request.requestedBy, allowSelfApproval: request.allowSelfApproval, escalations: request.policyProgress?.escalations });
}

/** With a policy: its name, each stage's and rule's result, and the escalations (the one-rule default adds nothing). */
function policyFields(request: ApprovalRequest, votes: readonly Vote[]): Partial<ApprovalOutput> {
  if (!request.policy) return {};
  return {
    policy: request.policy.name,
    stages: evaluationOf(request, votes).stages,
    escalations: (request.policyProgress?.escalations ?? []).map(({ stage, group, escalateTo, at, asked }) => ({ stage, group, escalateTo, at, asked })),
  };
}

/** The output's approvals[]: each vote with its channel ("email" or "slack") and, when it had one, who verified the voter. */
const approvalsOf = (votes: readonly Vote[]) =>
  votes.map(({ approver, decision, decidedAt, comment, channel, verifiedBy }) => ({ approver, decision, decidedAt, comment, channel: channel ?? "email", ...(verifiedBy ? { verifiedBy } : {}) }));

/** The output the workflow will receive, fixed at the moment the settling vote is recorded. */
export function settlementOutput(request: ApprovalRequest, votes: Vote[], settling: Vote): ApprovalOutput {
  return {
    decision: settling.decision,
    decidedBy: settling.approver,
    decidedAt: settling.decidedAt,
    comment: settling.comment,
    approvals: approvalsOf(votes),
    requestRef: request.id,
    inputDigest: request.inputDigest,
    ...(settling.verifiedBy ? { verifiedBy: settling.verifiedBy } : {}),
    ...policyFields(request, votes),
  };
}

/** A policy whose timeout outcome is `reject`: the output says plainly that no person decided. */
export function timeoutRejectionOutput(request: ApprovalRequest, now: Date): ApprovalOutput {
  return {
    decision: "rejected",
    decidedBy: "timeout",
    decidedAt: now.toISOString(),
    comment: `No person decided: nobody settled it before the approval timeout, and policy ${request.policy?.name} rejects on timeout.`,
    approvals: approvalsOf(request.votes),
    requestRef: request.id,
    inputDigest: request.inputDigest,
    ...policyFields(request, request.votes),
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
  if (request.policy && reasonMissing(request.policy, event.decision, event.comment)) return { effects: [], answer: { type: "reasonRequired", decision: event.decision } };

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
  // The first rejection vetoes; the vote that makes every rule of every stage hold approves (policy.ts).
  const evaluation = evaluationOf(request, votes);
  if (evaluation.outcome === "pending") return { next: bump(request, { votes, ...stageOpening(request, evaluation, now) }), effects: [], answer: { type: "voteRecorded" } };

  const output = settlementOutput(request, votes, cast);
  const next = bump(request, {
    votes,
    status: "SETTLING",
    settlement: { output, settledAt: cast.decidedAt, leaseUntil: leaseUntil(request, now) },
  });
  return { next, effects: [{ type: "deliver", output }], answer: { type: "voteRecorded" } };
}

/**
 * A vote that made the open stage hold opens the next one: its approvers join the asked (the request function's
 * scheduled path emails everyone asked and not yet emailed, each their own link) and the opening time is kept
 * for escalation delays. Nothing changes while the same stage stays open.
 */
function stageOpening(request: ApprovalRequest, evaluation: PolicyEvaluation, now: Date): Partial<ApprovalRequest> {
  const policy = request.policy;
  const openStage = evaluation.openStage;
  if (!policy || openStage === undefined) return {};
  const opened = request.policyProgress?.stageOpenedAt ?? [];
  if (opened.length >= openStage) return {};
  const stageOpenedAt = [...opened];
  while (stageOpenedAt.length < openStage) stageOpenedAt.push(now.toISOString());
  const escalations = request.policyProgress?.escalations ?? [];
  const asked = askedSoFar(policy, openStage, { requestedBy: request.requestedBy, allowSelfApproval: request.allowSelfApproval, escalations });
  return { approvers: [...request.approvers, ...asked.filter((address) => !request.approvers.includes(address))], policyProgress: { stageOpenedAt, escalations } };
}

/** The scheduled path: every due escalation of the open stage asks its backup group, and the asked and the requester are told. */
function escalate(request: ApprovalRequest, now: Date): Transition {
  const policy = request.policy;
  const progress = request.policyProgress;
  if (!policy || !progress || effectiveState(request, now) !== "pending") return { effects: [], answer: { type: "show" } };
  const due = dueEscalations(policy, evaluationOf(request), progress, now);
  if (due.length === 0) return { effects: [], answer: { type: "show" } };
  const excluded = request.allowSelfApproval ? undefined : request.requestedBy;
  const happened: Escalation[] = due.map(({ stage, rule }) => ({
    stage,
    group: rule.group,
    escalateTo: rule.escalateTo!,
    at: now.toISOString(),
    asked: (rule.escalationMembers ?? []).filter((address) => address !== excluded && !request.approvers.includes(address)),
  }));
  const approvers = [...request.approvers];
  for (const escalation of happened) for (const address of escalation.asked) if (!approvers.includes(address)) approvers.push(address);
  const escalated: ApprovalRequest = { ...request, approvers, policyProgress: { ...progress, escalations: [...progress.escalations, ...happened] } };
  const recipients = [...new Set([...approvers, ...(request.requestedBy ? [request.requestedBy] : [])])];
  const told: Effect = { type: "notifyEscalation", recipients, escalations: happened };
  // The backup group's earlier votes (someone in both groups) may make every rule hold: then it settles now,
  // decided by the vote that completed the last rule.
  const evaluation = evaluationOf(escalated);
  if (evaluation.outcome === "approved" && evaluation.settledBy) {
    const output = settlementOutput(escalated, request.votes, evaluation.settledBy);
    const next = bump(escalated, { status: "SETTLING", settlement: { output, settledAt: now.toISOString(), leaseUntil: leaseUntil(request, now) } });
    return { next, effects: [told, { type: "deliver", output }], answer: { type: "show" } };
  }
  return { next: bump(escalated, stageOpening(escalated, evaluation, now)), effects: [told], answer: { type: "show" } };
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
    case "escalate":
      return escalate(request, now);
    case "expired": {
      // The workflow took its timeout path: whatever the item said, the workflow received "expired".
      if (request.status === "EXPIRED" || request.status === "WITHDRAWN") return { effects: [], answer: { type: "show" } };
      // The expiry task retried: the policy's timeout outcome is already recorded (and is what the workflow gets).
      if (request.status === "REJECTED" && request.settlement?.output.decidedBy === "timeout") return { effects: [], answer: { type: "show" } };
      if (request.policy?.onTimeout === "reject" && request.status === "PENDING") {
        // The policy's timeout outcome decides: the expiry task hands this output to the workflow (Rejected path).
        const output = timeoutRejectionOutput(request, now);
        return {
          next: bump(request, { status: "REJECTED", settlement: { output, settledAt: output.decidedAt, leaseUntil: output.decidedAt }, deliveredAt: output.decidedAt, closedReason: output.comment }),
          effects: [{ type: "notifyOutcome", recipients: outcomeRecipients(request, context.stackApprovers) }],
          answer: { type: "show" },
        };
      }
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
