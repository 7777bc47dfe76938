/**
 * Approval policies on the scheduled path (the reminders' schedule, `{"kind":"remind"}`; the component runs it
 * every minute when policies are configured). For each pending request that follows a policy: due escalations
 * ask their backup group (a lifecycle transition, version-conditioned), the asked approvers and the requester
 * are told, and every asked approver not yet emailed (a stage that opened on a vote, a backup group) gets their
 * own link, exactly as the request's first emails. Only this function can make links (the KMS key's policy), so
 * stage openings recorded by the decision function are emailed from here.
 */
import type { ApprovalRequest } from "../shared/approvalRequest";
import { composeEscalationNotice } from "../shared/email";
import { effectiveState, transition } from "../shared/lifecycle";
import { describeError } from "../shared/logger";
import type { ReminderDependencies } from "./reminders";
import { emailAskedApprovers, linkFor, type RequestApprovalDependencies } from "./requestApproval";

export type PolicyFollowUpDependencies = Pick<ReminderDependencies, "store" | "publish" | "mac" | "callbackUrl" | "subjectTemplate" | "approverEmails" | "pendingRequests" | "now" | "logger"> & Pick<RequestApprovalDependencies, "publish">;

/** Escalates and emails one request; returns the emails sent. */
async function followUpOne(deps: PolicyFollowUpDependencies, requestRef: string, now: Date): Promise<number> {
  let request: ApprovalRequest | undefined;
  let sent = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    request = await deps.store.get(requestRef);
    if (!request?.policy || effectiveState(request, now) !== "pending") return 0;
    const step = transition(request, { type: "escalate" }, { now, stackApprovers: deps.approverEmails });
    if (!step.next) break;
    if (!(await deps.store.save(step.next, request.version))) continue; // a vote landed meanwhile: decide again
    request = step.next;
    for (const effect of step.effects) {
      if (effect.type !== "notifyEscalation") continue;
      deps.logger.info("Approval rule escalated", { requestRef, outcome: "escalated", escalations: effect.escalations.map((escalation) => `${escalation.stage}:${escalation.group}->${escalation.escalateTo}`).join(", ") });
      await deps.publish(composeEscalationNotice(request, effect.recipients, effect.escalations));
      sent++;
    }
    break;
  }
  if (!request) return sent;
  return sent + (await emailAskedApprovers(deps, request, now, linkFor(deps)));
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
