/**
 * The component's defaults, in one place: the stand-alone stack's config schema (stacks/config.ts, and
 * Pulumi.yaml through its test) uses the same values, so a program that leaves an argument out gets what
 * a stack that leaves the key unset gets. No imports with side effects: the config code and the local
 * runner read this without loading the Pulumi AWS provider.
 */
import { Transport } from "./transport";

export const WORKFLOW_DEFAULTS = {
  transport: Transport.FunctionUrl,
  /** One day. */
  approvalTimeoutMinutes: 1440,
  logRetentionDays: 14,
  auditRetentionDays: 90,
  apiThrottle: { rateLimit: 10, burstLimit: 20 },
  /** Caps what a flood of requests to the public endpoint can cost (a Function URL has no throttle of its own). */
  decisionReservedConcurrency: 5,
  requiredApprovals: 1,
  allowSelfApproval: false,
  tableDeletionProtection: true,
  protectState: true,
  sweepIntervalMinutes: 1,
} as const;
