import { createHash } from "node:crypto";

/** Lifecycle of one approval request as stored in the table. */
export type RequestStatus = "PENDING" | "APPROVED" | "REJECTED" | "EXPIRED" | "CLOSED";

/** What the approver chose; the wire format the state machine's Choice reads. */
export type Decision = "approved" | "rejected";

/** One approval request, exactly as it is stored in DynamoDB. */
export interface ApprovalRequest {
  id: string;
  /** Secret. Never leaves the table except in the SendTaskSuccess call. */
  taskToken: string;
  executionArn: string;
  executionName: string;
  stateMachineName: string;
  title: string;
  description?: string;
  /** Pretty-printed, truncated details of what is asked. */
  details?: string;
  /** ISO 8601 timestamps. */
  createdAt: string;
  expiresAt: string;
  status: RequestStatus;
  /** DynamoDB TTL, epoch seconds: expiresAt plus the audit retention. */
  ttl: number;
  notifiedAt?: string;
  decision?: Decision;
  decidedAt?: string;
  comment?: string;
  sourceIp?: string;
  userAgent?: string;
  /** Why a request was closed without a decision reaching the workflow. */
  closedReason?: string;
}

/** The fields a page or a JSON answer may show: everything but the token. */
export type PublicApprovalRequest = Omit<ApprovalRequest, "taskToken" | "ttl">;

export function toPublicView(request: ApprovalRequest): PublicApprovalRequest {
  const { taskToken: _secret, ttl: _ttl, ...visible } = request;
  return visible;
}

/**
 * 24 bytes = 192 bits, 32 URL-safe characters: unguessable, and short enough
 * that a link stays well under 100 characters in any mail client.
 */
const REQUEST_ID_BYTES = 24;
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/**
 * The id is a hash of the task token, so a retried invocation for the same
 * task lands on the same item (and the same link) instead of a second one.
 * SHA-256 is one-way: the id reveals nothing about the token.
 */
export function requestIdForTaskToken(taskToken: string): string {
  return createHash("sha256").update(taskToken, "utf8").digest().subarray(0, REQUEST_ID_BYTES).toString("base64url");
}

/**
 * Logs name a request by the first 8 of its 32 id characters: enough to find it
 * in the table, too little to rebuild the link, which is a bearer capability.
 */
export function requestRef(id: string): string {
  return id.slice(0, 8);
}

export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && REQUEST_ID_PATTERN.test(value);
}

/** The output handed to the waiting task; the state machine reads `$.approval.decision`. */
export interface ApprovalOutput {
  decision: Decision;
  comment: string;
  decidedAt: string;
  requestId: string;
}

/** The table's key and TTL attribute: the component and the local mode create the table from these. */
export const APPROVALS_TABLE_KEY = "id";
export const APPROVALS_TABLE_TTL_ATTRIBUTE = "ttl";
