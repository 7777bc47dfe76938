/**
 * The enums of an approval policy's arguments: `as const` objects and their types, not bare string-literal unions,
 * so that Pulumi's schema inference makes them enums in every language (as components/transport.ts does). The
 * values are the functions' own (functions/shared/policy.ts TIMEOUT_OUTCOMES, REASON_REQUIREMENTS). Kept out of
 * functions/ so the Lambda bundles do not change.
 */
export const TimeoutOutcome = {
  /** The request ends expired (the workflow takes its Expired path): nobody decided. */
  Expire: "expire",
  /** The request ends rejected, with `decidedBy: "timeout"`: no person decided. */
  Reject: "reject",
} as const;
export type TimeoutOutcome = (typeof TimeoutOutcome)[keyof typeof TimeoutOutcome];

export const ReasonRequirement = {
  /** No comment is required. */
  None: "none",
  /** A rejection needs a comment. */
  Reject: "reject",
  /** An approval needs a comment. */
  Approve: "approve",
  /** Every vote needs a comment. */
  Both: "both",
} as const;
export type ReasonRequirement = (typeof ReasonRequirement)[keyof typeof ReasonRequirement];
