/**
 * `npm start -- --policy <file>`: approver groups and approval policies for the local mode, from a YAML (or JSON)
 * file holding `approverGroups` and `approvalPolicies` exactly as a stack file holds them (local/examples/).
 * Read with the stack's own checks (functions/shared/policy.ts); every group member becomes a local approver.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { ApprovalPolicy } from "../functions/shared/policy";
import { parseApprovalPolicies, parseApproverGroups } from "../stacks/policyConfig";

export interface LocalPolicies {
  /** Every address of every group, lower case: the local stack's approvers. */
  approverEmails: string[];
  approvalPolicies: Record<string, ApprovalPolicy>;
  /** The policy an execution names when its input names none: the file's first. */
  defaultPolicy: string;
}

/** Reads and checks a policy file; throws one Error whose message lists every problem, one per line. */
export function readPolicyFile(file: string): LocalPolicies {
  const document = parse(readFileSync(file, "utf8")) as unknown;
  const fields = (typeof document === "object" && document !== null ? document : {}) as Record<string, unknown>;
  const problems: string[] = [];
  // Locally the groups make the approvers, so there is no approverEmails to check them against.
  const badGroups = new Set<string>();
  const groups = parseApproverGroups(fields.approverGroups ?? {}, undefined, problems, badGroups);
  const approvalPolicies = parseApprovalPolicies(fields.approvalPolicies ?? {}, groups, problems, badGroups);
  if (problems.length === 0 && Object.keys(approvalPolicies).length === 0) problems.push("it defines no policy under approvalPolicies (see local/examples/two-stage-policy.yaml).");
  if (problems.length > 0) throw new Error(`${file}: ${problems.join("\n  ")}`);
  const approverEmails = [...new Set(Object.values(groups).flat())];
  return { approverEmails, approvalPolicies, defaultPolicy: Object.keys(approvalPolicies)[0] };
}
