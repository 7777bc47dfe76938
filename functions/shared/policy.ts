/**
 * Approval policies (stack config `approverGroups` + `approvalPolicies`), as pure functions: reading and
 * checking them, choosing and narrowing one for a request, and evaluating stages and rules against the votes.
 * The lifecycle (lifecycle.ts) calls into this module; nothing here does I/O or knows the clock beyond what
 * it is handed.
 *
 * A policy is stages in order; a stage holds when all its rules hold; a rule holds when `required` distinct
 * approvers of its group (and, once it escalated, of its backup group) approved. One vote per approver per
 * request, counted for every rule whose group holds them; the requester never counts (unless the stack allows
 * self-approval, which keeps today's one-rule behaviour). The first rejection by anyone asked rejects.
 */
import type { Vote } from "./approvalRequest";
import { ConfigurationError } from "./env";

/** What expiry means for a request of this policy. */
export const TIMEOUT_OUTCOMES = ["expire", "reject"] as const;
export type TimeoutOutcome = (typeof TIMEOUT_OUTCOMES)[number];

/** Which votes need a comment. */
export const REASON_REQUIREMENTS = ["none", "reject", "approve", "both"] as const;
export type ReasonRequirement = (typeof REASON_REQUIREMENTS)[number];

export interface PolicyRule {
  group: string;
  /** The group's addresses (lower case), narrowed by the request's input where it named approvers. */
  members: string[];
  required: number;
  /** Minutes after its stage opened at which an unsatisfied rule asks its backup group too. */
  escalateAfterMinutes?: number;
  escalateTo?: string;
  /** The backup group's addresses. */
  escalationMembers?: string[];
}

export interface PolicyStage {
  rules: PolicyRule[];
}

export interface ApprovalPolicy {
  name: string;
  stages: PolicyStage[];
  onTimeout: TimeoutOutcome;
  requireReason: ReasonRequirement;
}

/** An escalation that happened: the rule's backup group was asked too. */
export interface Escalation {
  /** 1-based, as people count them. */
  stage: number;
  group: string;
  escalateTo: string;
  at: string;
  asked: string[];
}

/** The policy's progress kept on the request item. */
export interface PolicyProgress {
  /** When each stage opened (index = stage - 1); a stage not yet open has no entry. */
  stageOpenedAt: string[];
  escalations: Escalation[];
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Today's `approverEmails` + `requiredApprovals`: one stage with one rule. */
export function singleRulePolicy(approvers: readonly string[], requiredApprovals: number): ApprovalPolicy {
  return { name: "default", stages: [{ rules: [{ group: "approverEmails", members: [...approvers], required: requiredApprovals }] }], onTimeout: "expire", requireReason: "none" };
}

/** Every address a policy may ask (members and backup groups). */
export function policyAddresses(policy: ApprovalPolicy): string[] {
  const all = new Set<string>();
  for (const stage of policy.stages) for (const rule of stage.rules) for (const address of [...rule.members, ...(rule.escalationMembers ?? [])]) all.add(address);
  return [...all];
}

/** Who may count toward a rule: its members, its backup group once it escalated; never the requester (unless allowed). */
function eligibleFor(rule: PolicyRule, escalated: boolean, excluded: string | undefined): string[] {
  const pool = escalated ? [...rule.members, ...(rule.escalationMembers ?? [])] : rule.members;
  return [...new Set(pool)].filter((address) => address !== excluded);
}

/**
 * Narrows a policy to the addresses the input names (never adding anyone, never lowering a count), then
 * refuses it with a reason when separation of duties or the narrowing leaves a rule unsatisfiable.
 */
export function narrowPolicy(policy: ApprovalPolicy, named: readonly string[] | undefined, requester: string | undefined, allowSelfApproval: boolean): { policy: ApprovalPolicy } | { refused: string } {
  const keep = (addresses: string[]) => (named ? addresses.filter((address) => named.includes(address)) : [...addresses]);
  const narrowed: ApprovalPolicy = {
    ...policy,
    stages: policy.stages.map((stage) => ({ rules: stage.rules.map((rule) => ({ ...rule, members: keep(rule.members), ...(rule.escalationMembers ? { escalationMembers: keep(rule.escalationMembers) } : {}) })) })),
  };
  const excluded = allowSelfApproval ? undefined : requester;
  for (const [index, stage] of narrowed.stages.entries()) {
    for (const rule of stage.rules) {
      const possible = eligibleFor(rule, true, excluded).length;
      if (possible < rule.required) {
        const why = excluded && [...rule.members, ...(rule.escalationMembers ?? [])].includes(excluded) ? ` (${excluded} asked for it and may not approve their own request)` : named ? " (the input's approvers leave too few)" : "";
        return { refused: `Policy ${policy.name}, stage ${index + 1}: group ${rule.group} needs ${rule.required} approval${rule.required === 1 ? "" : "s"}, but only ${possible} approver${possible === 1 ? "" : "s"} can vote for it${why}. No email was sent.` };
      }
    }
  }
  return { policy: narrowed };
}

export type RuleResult = "satisfied" | "unsatisfied";
export type StageResult = "approved" | "rejected" | "open" | "waiting";

export interface RuleProgress {
  group: string;
  required: number;
  /** Who counted toward this rule, oldest vote first. */
  countedApprovers: string[];
  result: RuleResult;
  escalatedTo?: string;
}

export interface StageProgress {
  stage: number;
  result: StageResult;
  rules: RuleProgress[];
}

export interface PolicyEvaluation {
  stages: StageProgress[];
  /** 1-based number of the stage collecting votes; undefined once settled. */
  openStage?: number;
  outcome: "approved" | "rejected" | "pending";
  /** The vote that settled it (the first rejection, or the approval that made the last rule hold). */
  settledBy?: Vote;
}

/**
 * Where a policy stands given the votes (oldest first). Pure: the same votes give the same answer, and
 * each approver's first vote is the only one counted (the lifecycle stores one per approver anyway).
 */
export function evaluatePolicy(policy: ApprovalPolicy, votes: readonly Vote[], options: { requestedBy?: string; allowSelfApproval: boolean; escalations?: readonly Escalation[] }): PolicyEvaluation {
  const excluded = options.allowSelfApproval ? undefined : options.requestedBy;
  const firstVotes: Vote[] = [];
  for (const vote of votes) if (!firstVotes.some((earlier) => earlier.approver === vote.approver)) firstVotes.push(vote);
  const rejection = firstVotes.find((vote) => vote.decision === "rejected" && vote.approver !== excluded);
  const escalated = (stage: number, group: string) => (options.escalations ?? []).some((escalation) => escalation.stage === stage && escalation.group === group);

  const stages: StageProgress[] = [];
  let openStage: number | undefined;
  let lastSatisfying: Vote | undefined;
  for (const [index, stage] of policy.stages.entries()) {
    const number = index + 1;
    const rules = stage.rules.map((rule): RuleProgress & { holdsAfter?: Vote } => {
      const isEscalated = escalated(number, rule.group);
      const eligible = eligibleFor(rule, isEscalated, excluded);
      const counted = firstVotes.filter((vote) => vote.decision === "approved" && eligible.includes(vote.approver));
      const holds = counted.length >= rule.required;
      return {
        group: rule.group,
        required: rule.required,
        countedApprovers: counted.map((vote) => vote.approver),
        result: holds ? "satisfied" : "unsatisfied",
        ...(isEscalated ? { escalatedTo: rule.escalateTo } : {}),
        holdsAfter: holds ? counted[rule.required - 1] : undefined,
      };
    });
    const holds = openStage === undefined && rules.every((rule) => rule.result === "satisfied");
    if (holds) {
      for (const rule of rules) if (rule.holdsAfter && (!lastSatisfying || Date.parse(rule.holdsAfter.decidedAt) >= Date.parse(lastSatisfying.decidedAt))) lastSatisfying = rule.holdsAfter;
    }
    const result: StageResult = rejection && openStage === undefined && !holds ? "rejected" : holds ? "approved" : openStage === undefined ? "open" : "waiting";
    if (!holds && openStage === undefined) openStage = number;
    stages.push({ stage: number, result, rules: rules.map(({ holdsAfter: _unused, ...rule }) => rule) });
  }
  if (rejection) return { stages, outcome: "rejected", settledBy: rejection };
  if (openStage === undefined) return { stages, outcome: "approved", settledBy: lastSatisfying };
  return { stages, openStage, outcome: "pending" };
}

/** Everyone asked so far: the members of every stage up to the open one, and escalated backup groups; never the requester (unless allowed). */
export function askedSoFar(policy: ApprovalPolicy, openStage: number, options: { requestedBy?: string; allowSelfApproval: boolean; escalations?: readonly Escalation[] }): string[] {
  const excluded = options.allowSelfApproval ? undefined : options.requestedBy;
  const asked: string[] = [];
  for (const [index, stage] of policy.stages.slice(0, openStage).entries()) {
    for (const rule of stage.rules) {
      const escalated = (options.escalations ?? []).some((escalation) => escalation.stage === index + 1 && escalation.group === rule.group);
      for (const address of eligibleFor(rule, escalated, excluded)) if (!asked.includes(address)) asked.push(address);
    }
  }
  return asked;
}

/** The escalations of the open stage that are due now: unsatisfied rules whose delay since the stage opened has passed. */
export function dueEscalations(policy: ApprovalPolicy, evaluation: PolicyEvaluation, progress: PolicyProgress, now: Date): Array<{ stage: number; rule: PolicyRule }> {
  const stageNumber = evaluation.openStage;
  if (stageNumber === undefined) return [];
  const openedAt = Date.parse(progress.stageOpenedAt[stageNumber - 1] ?? "");
  if (!Number.isFinite(openedAt)) return [];
  return policy.stages[stageNumber - 1].rules
    .filter((rule, index) => rule.escalateTo && rule.escalateAfterMinutes !== undefined && evaluation.stages[stageNumber - 1].rules[index].result === "unsatisfied")
    .filter((rule) => !progress.escalations.some((escalation) => escalation.stage === stageNumber && escalation.group === rule.group))
    .filter((rule) => openedAt + rule.escalateAfterMinutes! * 60_000 <= now.getTime())
    .map((rule) => ({ stage: stageNumber, rule }));
}

/** Does this vote need a comment under the policy? */
export function reasonMissing(policy: Pick<ApprovalPolicy, "requireReason">, decision: Vote["decision"], comment: string): boolean {
  if (comment.trim() !== "") return false;
  const need = policy.requireReason;
  return need === "both" || (need === "approve" && decision === "approved") || (need === "reject" && decision === "rejected");
}

/** One line per rule, for pages and emails: "security: 1 of 1 ✓, sre: 1 of 2". */
export function describeStage(stage: StageProgress): string {
  return stage.rules.map((rule) => `${rule.group}: ${Math.min(rule.countedApprovers.length, rule.required)} of ${rule.required}${rule.result === "satisfied" ? " ✓" : ""}${rule.escalatedTo ? ` (escalated to ${rule.escalatedTo})` : ""}`).join(", ");
}

/** APPROVAL_POLICIES (set by the component only when the stack has policies): JSON of the parsed policies. */
export function policiesFromEnvironment(env: Record<string, string | undefined>): { policies?: Record<string, ApprovalPolicy> } {
  const raw = env.APPROVAL_POLICIES?.trim();
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!isMap(parsed) || !Object.values(parsed).every((policy) => isMap(policy) && Array.isArray(policy.stages))) {
    throw new ConfigurationError("Environment variable APPROVAL_POLICIES must hold JSON of the stack's approval policies, a map of name to {stages, onTimeout, requireReason}.");
  }
  return { policies: parsed as Record<string, ApprovalPolicy> };
}
