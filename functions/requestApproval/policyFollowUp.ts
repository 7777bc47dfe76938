/**
 * Approval policies on the scheduled path (the reminders' schedule, `{"kind":"remind"}`; the component runs it
 * every minute when policies are configured). For each pending request that follows a policy: due escalations
 * ask their backup group (a lifecycle transition, version-conditioned), the asked approvers and the requester
 * are told, and every asked approver not yet emailed (a stage that opened on a vote, a backup group) gets their
 * own link, exactly as the request's first emails, and, when the stack has Slack, a direct message as the first
 * asked approvers got. Only this function can make links (the KMS key's policy), so stage openings recorded by
 * the decision function are emailed (and messaged) from here.
 */
import { composeEscalationNotice } from "../shared/email";
import { effectiveState } from "../shared/lifecycle";
import { describeError } from "../shared/logger";
import { applyEvent, performEffects, type SettleDependencies } from "../shared/settle";
import type { ReminderDependencies } from "./reminders";
import { emailAskedApprovers, linkFor } from "./requestApproval";
import { askInSlack, type SlackAskDependencies } from "./slackAsk";

export type PolicyFollowUpDependencies = SettleDependencies &
  Pick<ReminderDependencies, "mac" | "callbackUrl" | "subjectTemplate" | "pendingRequests"> & { slack?: SlackAskDependencies["slack"] };

/** Escalates (and, when that completes every rule, settles and delivers) one request, then emails whoever is asked and not yet emailed. */
async function followUpOne(deps: PolicyFollowUpDependencies, requestRef: string, now: Date): Promise<number> {
  const current = await deps.store.get(requestRef);
  if (!current?.policy || effectiveState(current, now) !== "pending") return 0;
  const applied = await applyEvent(deps, requestRef, { type: "escalate" }, current);
  if (!applied) return 0;
  let sent = 0;
  for (const effect of applied.step.effects) {
    if (effect.type !== "notifyEscalation") continue;
    deps.logger.info("Approval rule escalated", { requestRef, outcome: "escalated", escalations: effect.escalations.map((escalation) => `${escalation.stage}:${escalation.group}->${escalation.escalateTo}`).join(", ") });
    await deps.publish(composeEscalationNotice(applied.request, effect.recipients, effect.escalations));
    sent++;
  }
  const performed = await performEffects(deps, applied.request, applied.step);
  if (effectiveState(performed.request, now) !== "pending") return sent;
  const linkOf = linkFor(deps);
  sent += await emailAskedApprovers(deps, performed.request, now, linkOf);
  // Each message is claimed in the record before it is sent: the next run never sends a second one.
  if (deps.slack) await askInSlack({ ...deps, slack: deps.slack }, performed.request, (approver) => linkOf(performed.request, approver), now);
  return sent;
}

export async function followUpPolicies(deps: PolicyFollowUpDependencies): Promise<{ requests: number; emailsSent: number }> {
  const now = deps.now();
  const pending = await deps.pendingRequests(now);
  let emailsSent = 0;
  let failed = 0;
  for (const { id } of pending) {
    try {
      emailsSent += await followUpOne(deps, id, now);
    } catch (error) {
      failed++;
      deps.logger.warn("Policy follow-up not done; the next run tries again", { requestRef: id, ...describeError(error) });
    }
  }
  if (failed > 0) throw new Error(`${failed} request${failed === 1 ? "" : "s"} could not be followed up; see the warnings above.`);
  return { requests: pending.length, emailsSent };
}
