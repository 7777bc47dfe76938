/**
 * A request's policy in words, for the review page and the emails: which stage is open, each rule's
 * progress ("security: 1 of 1 ✓, sre: 1 of 2"), when an escalation asks a backup group, and what the
 * timeout means. Empty for a request without a policy (today's one rule keeps its own wording).
 */
import { evaluationOf, type PolicyView } from "./lifecycle";
import { describeStage } from "./policy";
import { formatUtc } from "./text";

export function policyLines(request: PolicyView & { expiresAt: string }, _now?: Date): string[] {
  const policy = request.policy;
  if (!policy) return [];
  const evaluation = evaluationOf(request);
  const stages = policy.stages.length;
  const lines = [
    evaluation.openStage !== undefined
      ? `Policy ${policy.name}: stage ${evaluation.openStage} of ${stages} is open; every rule of a stage must hold, stages in order; the first rejection rejects.`
      : `Policy ${policy.name}: ${evaluation.outcome}.`,
  ];
  for (const stage of evaluation.stages) lines.push(`Stage ${stage.stage}${stage.result === "open" ? " (open)" : stage.result === "waiting" ? " (not yet open)" : ` (${stage.result})`}: ${describeStage(stage)}`);
  const openStage = evaluation.openStage;
  const openedAt = openStage !== undefined ? request.policyProgress?.stageOpenedAt[openStage - 1] : undefined;
  if (openStage !== undefined && openedAt) {
    policy.stages[openStage - 1].rules.forEach((rule, index) => {
      const progress = evaluation.stages[openStage - 1].rules[index];
      if (!rule.escalateTo || rule.escalateAfterMinutes === undefined || progress.result === "satisfied" || progress.escalatedTo) return;
      lines.push(`If ${rule.group} is still short at ${formatUtc(new Date(Date.parse(openedAt) + rule.escalateAfterMinutes * 60_000).toISOString())}, ${rule.escalateTo} is asked too.`);
    });
  }
  for (const escalation of request.policyProgress?.escalations ?? []) lines.push(`Escalated at ${formatUtc(escalation.at)}: ${escalation.group} was short, so ${escalation.escalateTo} was asked too${escalation.asked.length ? ` (${escalation.asked.join(", ")})` : ""}.`);
  if (policy.requireReason !== "none") lines.push(`A comment (the reason) is required to ${policy.requireReason === "both" ? "approve or reject" : policy.requireReason}.`);
  if (policy.onTimeout === "reject") lines.push(`If nobody settles it by ${formatUtc(request.expiresAt)}, it is rejected on timeout (no person decides).`);
  return lines;
}
