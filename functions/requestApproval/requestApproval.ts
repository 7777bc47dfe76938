import { requestIdForTaskToken, requestRef, type ApprovalRequest } from "../shared/approvalRequest";
import type { Logger } from "../shared/logger";
import type { RequestStore } from "../shared/requestStore";
import { composeApprovalEmail, type ApprovalEmail } from "./email";
import type { RequestApprovalPayload } from "./payload";
import { summariseInput } from "./summary";

export interface RequestApprovalDependencies {
  store: RequestStore;
  /** Sends the email to every approver (SNS Publish in AWS). */
  publish(email: ApprovalEmail): Promise<void>;
  /** Public base URL of the decision endpoint, without a trailing slash. */
  callbackUrl: string;
  /** Equal to the task's TimeoutSeconds, so the link expires when the workflow stops waiting. */
  approvalTimeoutSeconds: number;
  auditRetentionDays: number;
  subjectTemplate: string;
  now(): Date;
  logger: Logger;
}

export interface RequestApprovalResult {
  requestId: string;
  /** False when a retried invocation found the email already sent. */
  emailSent: boolean;
}

export function newApprovalRequest(payload: RequestApprovalPayload, deps: Pick<RequestApprovalDependencies, "approvalTimeoutSeconds" | "auditRetentionDays">, now: Date): ApprovalRequest {
  const summary = summariseInput(payload.input, `Approval requested by ${payload.stateMachine.name}`);
  const expiresAt = new Date(now.getTime() + deps.approvalTimeoutSeconds * 1000);
  return {
    id: requestIdForTaskToken(payload.taskToken),
    taskToken: payload.taskToken,
    executionArn: payload.execution.id,
    executionName: payload.execution.name,
    stateMachineName: payload.stateMachine.name,
    ...summary,
    createdAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    status: "PENDING",
    ttl: Math.floor(expiresAt.getTime() / 1000) + deps.auditRetentionDays * 86_400,
  };
}

/**
 * Stores the request, then emails the link. Idempotent: a retry for the same
 * task token finds the same item and sends the email only if it was not sent.
 * Store and publish errors propagate so that the state machine's Retry applies.
 */
export async function requestApproval(deps: RequestApprovalDependencies, payload: RequestApprovalPayload): Promise<RequestApprovalResult> {
  const started = Date.now();
  const now = deps.now();
  const fresh = newApprovalRequest(payload, deps, now);
  const stored = await deps.store.createIfAbsent(fresh);
  const request = stored.created ? fresh : stored.existing;
  const logFields = { requestRef: requestRef(request.id), executionName: request.executionName, stateMachineName: request.stateMachineName };

  if (request.notifiedAt) {
    deps.logger.info("Approval request already emailed; retry ignored", { ...logFields, outcome: "duplicate" });
    return { requestId: request.id, emailSent: false };
  }
  await deps.publish(composeApprovalEmail(request, deps.callbackUrl, deps.subjectTemplate, now));
  await deps.store.markNotified(request.id, deps.now().toISOString());
  deps.logger.info("Approval requested", {
    ...logFields,
    outcome: stored.created ? "requested" : "requested-on-retry",
    expiresAt: request.expiresAt,
    durationMs: Date.now() - started,
  });
  return { requestId: request.id, emailSent: true };
}

