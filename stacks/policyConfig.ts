/**
 * Reading and checking `approverGroups` and `approvalPolicies` (stack config, and the local mode's --policy file):
 * one problem per bad value, each naming the key, the value and what is allowed. The functions evaluate the
 * resolved policies (functions/shared/policy.ts); this code runs only at `pulumi up` and in the local mode.
 */
import { normaliseAddress } from "../functions/shared/address";
import { REASON_REQUIREMENTS, TIMEOUT_OUTCOMES, type ApprovalPolicy, type PolicyRule, type PolicyStage, type ReasonRequirement, type TimeoutOutcome } from "../functions/shared/policy";

const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const POLICY_NAME = GROUP_NAME;
const MAX_ESCALATION_MINUTES = 525_600;
const shown = (value: unknown) => JSON.stringify(value);
const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads `approverGroups` (JSON of a map group → addresses). One problem per bad value, each naming the key,
 * the value and what is allowed. Every address must be a stack approver: only approverEmails are subscribed.
 */
export function parseApproverGroups(raw: unknown, approverEmails: readonly string[] | undefined, problems: string[], badGroups = new Set<string>()): Record<string, string[]> {
  const key = "human-approval:approverGroups";
  if (raw === undefined) return {};
  if (!isMap(raw)) {
    problems.push(`${key} is ${shown(raw)}: it must be a map of group name to a list of addresses, e.g. {security: [ann@example.com]}.`);
    return {};
  }
  // Unknown (approverEmails is itself bad, reported once): membership is not checked.
  const stackApprovers = approverEmails && new Set(approverEmails.map((address) => normaliseAddress(address)).filter(Boolean));
  const groups: Record<string, string[]> = {};
  for (const [name, members] of Object.entries(raw)) {
    if (!GROUP_NAME.test(name)) {
      problems.push(`${key}.${name} is ${shown(name)}: a group name is 1 to 64 letters, digits, '.', '_' or '-'.`);
      continue;
    }
    if (!Array.isArray(members) || members.length === 0) {
      problems.push(`${key}.${name} is ${shown(members)}: it must be a non-empty list of email addresses.`);
      badGroups.add(name);
      continue;
    }
    const addresses: string[] = [];
    const reported = problems.length;
    for (const member of members) {
      const address = normaliseAddress(member);
      if (address === undefined) problems.push(`${key}.${name} holds ${shown(member)}: each entry must be an email address in printable ASCII like ops@example.com.`);
      else if (addresses.includes(address)) problems.push(`${key}.${name} holds ${shown(member)} twice: each address may appear once in a group.`);
      else if (stackApprovers && !stackApprovers.has(address)) problems.push(`${key}.${name} holds ${shown(member)}, which is not in approverEmails: every group member must be a stack approver (approverEmails are the subscribed addresses).`);
      else addresses.push(address);
    }
    // A group with a bad entry is reported once: the rules that name it stay silent (one problem per bad value).
    if (problems.length > reported) badGroups.add(name);
    groups[name] = addresses;
  }
  return groups;
}

function parseRule(raw: unknown, where: string, groups: Record<string, string[]>, problems: string[], badGroups: ReadonlySet<string>): PolicyRule | undefined {
  if (!isMap(raw)) {
    problems.push(`${where} is ${shown(raw)}: a rule is {group, required, escalateAfterMinutes?, escalateTo?}.`);
    return undefined;
  }
  const unknown = Object.keys(raw).filter((field) => !["group", "required", "escalateAfterMinutes", "escalateTo"].includes(field));
  if (unknown.length > 0) problems.push(`${where}.${unknown[0]} is ${shown(raw[unknown[0]])}: a rule has only group, required, escalateAfterMinutes and escalateTo.`);
  const group = raw.group;
  if (typeof group === "string" && badGroups.has(group)) return undefined;
  if (typeof group !== "string" || !(group in groups)) {
    problems.push(`${where}.group is ${shown(group)}: it must name a group of approverGroups (${Object.keys(groups).join(", ") || "none defined"}).`);
    return undefined;
  }
  const members = groups[group];
  const required = raw.required;
  if (typeof required !== "number" || !Number.isInteger(required) || required < 1 || required > members.length) {
    problems.push(`${where}.required is ${shown(required)}: it must be a whole number from 1 to the size of group ${group} (${members.length}).`);
    return undefined;
  }
  const rule: PolicyRule = { group, members: [...members], required };
  const { escalateAfterMinutes: after, escalateTo: backup } = raw;
  if (after === undefined && backup === undefined) return rule;
  if (typeof after !== "number" || !Number.isInteger(after) || after < 1 || after > MAX_ESCALATION_MINUTES) {
    problems.push(`${where}.escalateAfterMinutes is ${shown(after)}: with escalateTo it must be a whole number of minutes from 1 to ${MAX_ESCALATION_MINUTES}.`);
    return undefined;
  }
  if (typeof backup === "string" && badGroups.has(backup)) return undefined;
  if (typeof backup !== "string" || !(backup in groups)) {
    problems.push(`${where}.escalateTo is ${shown(backup)}: with escalateAfterMinutes it must name a group of approverGroups (${Object.keys(groups).join(", ") || "none defined"}).`);
    return undefined;
  }
  if (backup === group) {
    problems.push(`${where}.escalateTo is ${shown(backup)}: a rule cannot escalate to its own group; name a backup group.`);
    return undefined;
  }
  return { ...rule, escalateAfterMinutes: after, escalateTo: backup, escalationMembers: [...groups[backup]] };
}

function parsePolicy(name: string, raw: unknown, groups: Record<string, string[]>, problems: string[], badGroups: ReadonlySet<string>): ApprovalPolicy | undefined {
  const where = `human-approval:approvalPolicies.${name}`;
  if (!POLICY_NAME.test(name)) {
    problems.push(`${where} is ${shown(name)}: a policy name is 1 to 64 letters, digits, '.', '_' or '-'.`);
    return undefined;
  }
  if (!isMap(raw)) {
    problems.push(`${where} is ${shown(raw)}: a policy is {stages: [{rules: [...]}], onTimeout?, requireReason?}.`);
    return undefined;
  }
  const unknown = Object.keys(raw).filter((field) => !["stages", "onTimeout", "requireReason"].includes(field));
  if (unknown.length > 0) problems.push(`${where}.${unknown[0]} is ${shown(raw[unknown[0]])}: a policy has only stages, onTimeout and requireReason.`);
  const onTimeout = raw.onTimeout ?? "expire";
  if (!TIMEOUT_OUTCOMES.includes(onTimeout as TimeoutOutcome)) problems.push(`${where}.onTimeout is ${shown(onTimeout)}: allowed values are ${TIMEOUT_OUTCOMES.join(", ")} (expire is the default).`);
  const requireReason = raw.requireReason ?? "none";
  if (!REASON_REQUIREMENTS.includes(requireReason as ReasonRequirement)) problems.push(`${where}.requireReason is ${shown(requireReason)}: allowed values are ${REASON_REQUIREMENTS.join(", ")}.`);
  if (!Array.isArray(raw.stages) || raw.stages.length === 0) {
    problems.push(`${where}.stages is ${shown(raw.stages)}: it must be a non-empty list of stages, each {rules: [{group, required}]}.`);
    return undefined;
  }
  const stages: PolicyStage[] = [];
  raw.stages.forEach((stage: unknown, index: number) => {
    const at = `${where}.stages[${index}]`;
    if (!isMap(stage) || !Array.isArray(stage.rules) || stage.rules.length === 0) {
      problems.push(`${at} is ${shown(stage)}: a stage is {rules: [...]} with at least one rule.`);
      return;
    }
    const rules = stage.rules.map((rule: unknown, ruleIndex: number) => parseRule(rule, `${at}.rules[${ruleIndex}]`, groups, problems, badGroups));
    const seen = new Set<string>();
    for (const rule of rules) {
      if (!rule) continue;
      if (seen.has(rule.group)) problems.push(`${at}.rules names group ${shown(rule.group)} twice: one rule per group in a stage (raise its required instead).`);
      seen.add(rule.group);
    }
    if (rules.every(Boolean)) stages.push({ rules: rules as PolicyRule[] });
  });
  if (stages.length !== raw.stages.length) return undefined;
  return { name, stages, onTimeout: onTimeout as TimeoutOutcome, requireReason: requireReason as ReasonRequirement };
}

/** Reads `approvalPolicies` (JSON of a map name → policy) against the groups. */
export function parseApprovalPolicies(raw: unknown, groups: Record<string, string[]>, problems: string[], badGroups: ReadonlySet<string> = new Set()): Record<string, ApprovalPolicy> {
  if (raw === undefined) return {};
  if (!isMap(raw)) {
    problems.push(`human-approval:approvalPolicies is ${shown(raw)}: it must be a map of policy name to {stages: [{rules: [{group, required}]}], onTimeout?, requireReason?}.`);
    return {};
  }
  const policies: Record<string, ApprovalPolicy> = {};
  for (const [name, policy] of Object.entries(raw)) {
    const parsed = parsePolicy(name, policy, groups, problems, badGroups);
    if (parsed) policies[name] = parsed;
  }
  return policies;
}

