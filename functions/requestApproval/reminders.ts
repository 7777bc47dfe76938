/**
 * Reminders before a request expires (stack config `reminderMinutesBeforeExpiry`). An EventBridge
 * schedule invokes the request-approval function with `{"kind":"remind"}`; it lists pending requests
 * from the status index (a query, never a scan), and for each reminder time that has passed and was not
 * yet sent, emails every asked approver who has not voted their same link (links are MACs of the request
 * and the approver, so the link is made again, never stored). What was sent is recorded in the item's
 * `notified` list as `reminder:<minutes>` by a version-conditioned write made before any email goes out,
 * so two overlapping runs cannot both send, and a settled request is never reminded.
 */
import { STATUS_INDEX, type ApprovalRequest } from "../shared/approvalRequest";
import { composeApprovalEmail, toSnsSubject, type OutgoingEmail } from "../shared/email";
import { ConfigurationError, type Environment } from "../shared/env";
import { effectiveState } from "../shared/lifecycle";
import { deriveLinkId, type MacFunction } from "../shared/links";
import { describeError, type Logger } from "../shared/logger";
import type { Publish } from "../shared/publisher";
import type { DynamoDbRequestStore, RequestStore } from "../shared/requestStore";
import { formatRemaining } from "../shared/text";

/** What the status index gives for a pending request: enough to tell whether a reminder may be due. */
export interface PendingRequestSummary {
  id: string;
  createdAt: string;
  expiresAt: string;
}

export interface ReminderDependencies {
  store: RequestStore;
  publish: Publish;
  mac: MacFunction;
  callbackUrl: string;
  subjectTemplate: string;
  /** The stack's approvers now: an approver removed since the request was asked is not reminded. */
  approverEmails: string[];
  /** Minutes before expiry, largest first; empty: no reminders. */
  reminderMinutesBeforeExpiry: number[];
  /** Pending requests not yet past their expiry, from the status index. */
  pendingRequests(now: Date): Promise<PendingRequestSummary[]>;
  now(): Date;
  logger: Logger;
}

/** The entry in `notified` that records a reminder time as sent (claimed). */
export const reminderKey = (minutes: number) => `reminder:${minutes}`;

/**
 * The reminder times that are due for this request and not yet sent: passed, but not before the request was
 * asked (a reminder never follows the request email at once), and the request still open. Empty: none due.
 */
export function dueReminders(request: Pick<ApprovalRequest, "createdAt" | "expiresAt"> & { notified?: string[] }, minutesBeforeExpiry: readonly number[], now: Date): number[] {
  const expiresAt = Date.parse(request.expiresAt);
  const createdAt = Date.parse(request.createdAt);
  if (!(now.getTime() < expiresAt)) return [];
  return minutesBeforeExpiry.filter((minutes) => {
    const dueAt = expiresAt - minutes * 60_000;
    return dueAt <= now.getTime() && dueAt > createdAt && !(request.notified ?? []).includes(reminderKey(minutes));
  });
}

/** Asked approvers who have not voted and are still approvers of the stack. */
export function approversToRemind(request: ApprovalRequest, stackApprovers: readonly string[]): string[] {
  const voted = new Set(request.votes.map((vote) => vote.approver));
  return request.approvers.filter((approver) => !voted.has(approver) && stackApprovers.includes(approver));
}

export function composeReminderEmail(request: ApprovalRequest, approver: string, linkId: string, callbackUrl: string, subjectTemplate: string, now: Date): OutgoingEmail {
  const original = composeApprovalEmail(request, approver, linkId, callbackUrl, subjectTemplate, now);
  const approvals = request.votes.filter((vote) => vote.decision === "approved").length;
  // With a policy, its stages and rules say where it stands (in the email below); a total would mislead.
  const soFar = request.policy ? "" : ` (${approvals} of ${request.requiredApprovals} approval${request.requiredApprovals === 1 ? "" : "s"} so far)`;
  const lead = `Reminder: this request expires in ${formatRemaining(request.expiresAt, now)} and you have not voted yet${soFar}. Your link is the same as in the first email.`;
  return { subject: toSnsSubject(`Reminder: ${original.subject}`), message: `${lead}\n\n${original.message}`, recipients: [approver] };
}

/**
 * Claims the due reminder times of one request (a version-conditioned write), then emails its approvers.
 * Several due times at once (the schedule was late) send one reminder. Returns the emails sent.
 */
async function remindOne(deps: ReminderDependencies, requestRef: string, now: Date): Promise<{ sent: number; failed: number }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const request = await deps.store.get(requestRef);
    if (!request || effectiveState(request, now) !== "pending") return { sent: 0, failed: 0 };
    const due = dueReminders(request, deps.reminderMinutesBeforeExpiry, now);
    if (due.length === 0) return { sent: 0, failed: 0 };
    const recipients = approversToRemind(request, deps.approverEmails);
    const claimed: ApprovalRequest = { ...request, notified: [...request.notified, ...due.map(reminderKey)], version: request.version + 1 };
    // Another run, a vote or the timeout path wrote first: read again and decide again.
    if (!(await deps.store.save(claimed, request.version))) continue;
    let sent = 0;
    let failed = 0;
    for (const approver of recipients) {
      try {
        const linkId = await deriveLinkId(deps.mac, request.id, approver);
        await deps.publish(composeReminderEmail(claimed, approver, linkId, deps.callbackUrl, deps.subjectTemplate, now));
        sent++;
      } catch (error) {
        failed++;
        deps.logger.warn("Reminder not sent", { requestRef, ...describeError(error) });
      }
    }
    deps.logger.info("Approvers reminded", { requestRef, outcome: "reminded", minutesBeforeExpiry: Math.min(...due), emailsSent: sent, failed, expiresAt: request.expiresAt });
    return { sent, failed };
  }
  deps.logger.warn("Reminder skipped: the request kept changing", { requestRef, outcome: "contended" });
  return { sent: 0, failed: 0 };
}

export async function sendReminders(deps: ReminderDependencies): Promise<{ requests: number; emailsSent: number }> {
  const now = deps.now();
  if (deps.reminderMinutesBeforeExpiry.length === 0) return { requests: 0, emailsSent: 0 };
  const candidates = (await deps.pendingRequests(now)).filter((summary) => dueReminders(summary, deps.reminderMinutesBeforeExpiry, now).length > 0);
  let emailsSent = 0;
  let failed = 0;
  for (const candidate of candidates) {
    const result = await remindOne(deps, candidate.id, now);
    emailsSent += result.sent;
    failed += result.failed;
  }
  // A failed email is not sent again (its time is claimed); failing the invocation makes it show in the Errors alarm.
  if (failed > 0) throw new Error(`${failed} reminder email${failed === 1 ? "" : "s"} could not be sent; see the warnings above.`);
  return { requests: candidates.length, emailsSent };
}

/** REMINDER_MINUTES_BEFORE_EXPIRY: comma-separated whole minutes; unset or empty means no reminders. */
export function reminderMinutesFromEnvironment(env: Environment): number[] {
  const raw = env.REMINDER_MINUTES_BEFORE_EXPIRY?.trim();
  if (!raw) return [];
  const minutes = raw.split(",").map((item) => Number(item.trim()));
  if (!minutes.every((value) => Number.isSafeInteger(value) && value >= 1)) {
    throw new ConfigurationError(`Environment variable REMINDER_MINUTES_BEFORE_EXPIRY is "${raw}": it must be whole minutes of at least 1, comma-separated.`);
  }
  return [...new Set(minutes)].sort((a, b) => b - a);
}

/** Pending requests from the status index, every page, without those already past their expiry. */
export function pendingRequestsFromIndex(store: Pick<DynamoDbRequestStore, "query">): ReminderDependencies["pendingRequests"] {
  return async (now) => {
    const found: PendingRequestSummary[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await store.query({
        IndexName: STATUS_INDEX.name,
        KeyConditionExpression: "#status = :pending",
        FilterExpression: "#expiresAt > :now",
        ProjectionExpression: "#id, #createdAt, #expiresAt",
        ExpressionAttributeNames: { "#status": "status", "#expiresAt": "expiresAt", "#createdAt": "createdAt", "#id": "id" },
        ExpressionAttributeValues: { ":pending": "PENDING", ":now": now.toISOString() },
        ExclusiveStartKey: start,
      });
      found.push(...(page.items as PendingRequestSummary[]));
      start = page.lastEvaluatedKey;
    } while (start);
    return found;
  };
}
