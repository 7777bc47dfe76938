import { createHash } from "node:crypto";
import type { InputView } from "./inputView";
import type { ApprovalPolicy, PolicyProgress, RuleResult, StageResult } from "./policy";

/**
 * Where a stored request stands:
 * - PENDING   collecting votes
 * - SETTLING  the votes settled it and the output to send is recorded; delivery to the workflow not yet confirmed
 * - APPROVED / REJECTED  the workflow received that decision (confirmed)
 * - EXPIRED   the workflow stopped waiting before any decision reached it
 * - WITHDRAWN the execution was stopped
 * - CLOSED    the workflow can no longer receive a decision for another reason (it says which)
 */
export type RequestStatus = "PENDING" | "SETTLING" | "APPROVED" | "REJECTED" | "EXPIRED" | "WITHDRAWN" | "CLOSED";

/** What an approver chose; the wire format the state machine's Choice reads. */
export type Decision = "approved" | "rejected";

/** How a vote reached the stack: the approver's link (email), or a button in their Slack direct message. */
export type VoteChannel = "email" | "slack";

/** One approver's vote, as recorded. */
export interface Vote {
  approver: string;
  decision: Decision;
  decidedAt: string;
  comment: string;
  /** `sha256:<hex>` of the input this approver was shown. */
  inputDigest?: string;
  sourceIp?: string;
  userAgent?: string;
  /** With sign-in: the issuer that verified `approver`; from Slack: `slack:<team id>`. */
  verifiedBy?: string;
  /** Set for Slack votes; a vote without it came through the approver's link. */
  channel?: VoteChannel;
}

/** The output handed to the waiting task (`$.approval`); DESIGN.md's contract. */
export interface ApprovalOutput {
  decision: Decision;
  /** The approver whose vote settled it. */
  decidedBy: string;
  decidedAt: string;
  comment: string;
  /** Every vote, oldest first. */
  approvals: Array<{ approver: string; decision: Decision; decidedAt: string; comment: string; channel?: VoteChannel; verifiedBy?: string }>;
  requestRef: string;
  inputDigest: string;
  verifiedBy?: string;
  /** With an approval policy (never for the one-rule default): the policy's name. */
  policy?: string;
  /** With an approval policy: each stage's and rule's result, and who counted toward which rule. */
  stages?: Array<{ stage: number; result: StageResult; rules: Array<{ group: string; required: number; result: RuleResult; countedApprovers: string[]; escalatedTo?: string }> }>;
  /** With an approval policy: the escalations that happened, oldest first. */
  escalations?: Array<{ stage: number; group: string; escalateTo: string; at: string; asked: string[] }>;
}

/** The settling vote's outcome, recorded before SendTaskSuccess so every retry sends the same thing. */
export interface Settlement {
  output: ApprovalOutput;
  settledAt: string;
  /** Whoever holds an unexpired lease is delivering; after it, the next request that touches the item may. */
  leaseUntil: string;
  /** Why the last delivery attempt did not confirm, for the page and the audit. */
  lastFailure?: string;
}

/** One approval request, exactly as stored in DynamoDB (key `id` = requestRef). */
export interface ApprovalRequest {
  id: string;
  /** Secret-ish: readable by anyone who can read the execution history, so it opens nothing by itself. */
  taskToken: string;
  executionArn: string;
  executionName: string;
  stateMachineName: string;
  title: string;
  description?: string;
  /** Only in requests stored before `inputView`: every input field not shown above, as pretty-printed JSON. */
  details?: string;
  /** Every input field not shown above (title, description, requestedBy, approvers), bounded in size. */
  inputView?: InputView;
  requestedBy?: string;
  /** `sha256:<hex>` of the canonical JSON of the whole input the approvers are shown. */
  inputDigest: string;
  /** Who is asked to vote, lower case. */
  approvers: string[];
  requiredApprovals: number;
  /** May `requestedBy` vote on their own request (the stack's setting when it was asked). */
  allowSelfApproval: boolean;
  /** The approval policy this request follows, as it was when asked (narrowed by the input); absent: one rule, requiredApprovals of approvers. */
  policy?: ApprovalPolicy;
  /** With a policy: when each stage opened and which rules escalated. */
  policyProgress?: PolicyProgress;
  createdAt: string;
  expiresAt: string;
  status: RequestStatus;
  /** Optimistic lock: every write is conditioned on the version it read. */
  version: number;
  /** Random id of the write that stored this version: a writer whose reply was lost recognises its own write. */
  writeId?: string;
  votes: Vote[];
  /** Addresses whose email went out (approvers, and `requester:<address>` for the requester's notice). */
  notified: string[];
  settlement?: Settlement;
  /** Slack direct messages sent for this request (only when the stack has Slack): who each reached, and where. */
  slackMessages?: SlackMessageRecord[];
  /** When the workflow's receipt of the settlement was confirmed. */
  deliveredAt?: string;
  /** Why the request ended without the workflow receiving its settlement. */
  closedReason?: string;
  /** DynamoDB TTL, epoch seconds: expiresAt plus the audit retention. */
  ttl: number;
}

/**
 * One approver's Slack direct message: the channel and ts to update it, and the Slack user it was sent to.
 * `unreached` says why there is none (no member with that address, Slack unavailable); email still reached them.
 */
export interface SlackMessageRecord {
  approver: string;
  channel?: string;
  ts?: string;
  userId?: string;
  unreached?: string;
}

/** The item that maps one approver's link to the request; its key is a one-way hash of the link id. */
export interface ApprovalLink {
  id: string;
  requestRef: string;
  approver: string;
  ttl: number;
}

/** The fields a page or a JSON answer may show: everything but the token and the network details of votes. */
export type PublicApprovalRequest = Omit<ApprovalRequest, "taskToken" | "ttl">;

export function toPublicView(request: ApprovalRequest): PublicApprovalRequest {
  const { taskToken: _secret, ttl: _ttl, ...visible } = request;
  return visible;
}

/**
 * Link ids: 24 bytes = 192 bits, 32 URL-safe characters. They are MACs computed inside KMS
 * (see links.ts), so no one without `kms:GenerateMac` on this stack's key can compute one.
 */
export const LINK_ID_BYTES = 24;
export const LINK_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export function isLinkId(value: unknown): value is string {
  return typeof value === "string" && LINK_ID_PATTERN.test(value);
}

/** The table key of a link: only this one-way hash is stored, never the link id. */
export function linkKey(linkId: string): string {
  return `link#${createHash("sha256").update(linkId, "utf8").digest("base64url")}`;
}

/**
 * A non-secret name for a request, derived from its execution: the table key, the log field and
 * `requestRef` in the output. It opens nothing: links are MACs, not derivable from it.
 */
export function requestRefFor(executionArn: string): string {
  return "req-" + createHash("sha256").update(`human-approval request\n${executionArn}`, "utf8").digest("base64url").slice(0, 20);
}
export const REQUEST_REF_PATTERN = /^req-[A-Za-z0-9_-]{20}$/;

/** The table's key and TTL attribute, and the status index: the component and the local mode create the table from these. */
export const APPROVALS_TABLE_KEY = "id";
export const APPROVALS_TABLE_TTL_ATTRIBUTE = "ttl";
export const STATUS_INDEX = { name: "status-createdAt", hashKey: "status", rangeKey: "createdAt" } as const;
/** What the status index carries: enough to list and audit, never the task token. */
export const STATUS_INDEX_ATTRIBUTES = ["title", "requestedBy", "approvers", "requiredApprovals", "votes", "expiresAt", "executionArn", "executionName", "stateMachineName", "settlement", "deliveredAt", "closedReason", "inputDigest"];
