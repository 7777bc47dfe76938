/**
 * The typed stack configuration: every key of the `human-approval` namespace,
 * read and validated here. Parsing is a pure function of the raw strings so it
 * is unit-tested without Pulumi; `loadStackConfig` (loadStackConfig.ts) adapts it to pulumi.Config.
 * Only types come from Pulumi here: the local mode and the CLI read stack files without loading the SDK.
 */
import type * as pulumi from "@pulumi/pulumi";
import { TRANSPORTS, type Transport } from "../functions/decision/httpEvent";
import { normaliseAddress } from "../functions/shared/address";
import { DEFAULT_SUBJECT_TEMPLATE } from "../functions/shared/email";
import { WORKFLOW_DEFAULTS } from "../components/defaults";
import type { ApprovalPolicy } from "../functions/shared/policy";
import { parseApprovalPolicies, parseApproverGroups } from "./policyConfig";

export interface StackConfig {
  transport: Transport;
  approverEmails: string[];
  approvalTimeoutMinutes: number;
  logRetentionDays: number;
  auditRetentionDays: number;
  emailSubject: string;
  /** Steady-state requests per second and burst on the API Gateway transports. */
  apiThrottleRateLimit: number;
  apiThrottleBurstLimit: number;
  /** Reserved (and so maximum) concurrency of the decision function; -1 for none. */
  decisionReservedConcurrency: number;
  /** Optional Lambda function run on the approved branch with the execution's state. */
  approvedFunctionArn?: string;
  /** Distinct approvals that settle a request; the first rejection rejects. */
  requiredApprovals: number;
  /** May the `requestedBy` address approve its own request. */
  allowSelfApproval: boolean;
  /** Deletion protection (and retain on delete) for the approvals table. */
  tableDeletionProtection: boolean;
  /** Pulumi protect and retainOnDelete on the table, the link key and the topic. */
  protectState: boolean;
  /** OpenID Connect sign-in for approvers; absent when sign-in is off. */
  signIn?: {
    issuer: string;
    clientId: string;
    /** Only ever a Pulumi secret; the component stores it in Secrets Manager. */
    clientSecret: pulumi.Output<string>;
  };
  /** Slack decisions; absent unless both secrets are set. Both only ever Pulumi secrets, stored in Secrets Manager. */
  slack?: {
    signingSecret: pulumi.Output<string>;
    botToken: pulumi.Output<string>;
  };
  /** Minutes before expiry at which approvers who have not voted get a reminder (largest first). */
  reminderMinutesBeforeExpiry: number[];
  /** How often the sweeper completes unfinished deliveries (an EventBridge schedule), in minutes. */
  sweepIntervalMinutes: number;
  /** Where alarms go: an email address (the stack makes a topic), or an existing topic's ARN. */
  alarmEmail?: string;
  alarmTopicArn?: string;
  /** Who manages the table and the topic's subscriptions; unset: whoever runs `pulumi up`. */
  deployerArn?: string;
  /** An operator role that may also write the approvals table and subscribe approvers. */
  breakGlassRoleArn?: string;
  /** Named approver groups (lower-case addresses); present only when configured. */
  approverGroups?: Record<string, string[]>;
  /** Named approval policies, their groups resolved; present only when configured (docs/policies.md). */
  approvalPolicies?: Record<string, ApprovalPolicy>;
}

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
export const MAX_APPROVAL_TIMEOUT_MINUTES = 525_600; // one year: the longest a Standard execution may run

/** Every key, its default (undefined = required) and what it means; Pulumi.yaml mirrors this (a test checks). */
export const CONFIG_KEYS = {
  transport: { default: WORKFLOW_DEFAULTS.transport, description: "How clicks reach the decision function: restApi, httpApi or functionUrl." },
  approverEmails: { default: undefined, description: "Email addresses subscribed to approval requests (at least one)." },
  approvalTimeoutMinutes: { default: WORKFLOW_DEFAULTS.approvalTimeoutMinutes, description: `How long a request waits for a decision, 1 to ${MAX_APPROVAL_TIMEOUT_MINUTES}; also the link's expiry.` },
  logRetentionDays: { default: WORKFLOW_DEFAULTS.logRetentionDays, description: "Retention of every log group the stack creates; a CloudWatch Logs retention value." },
  auditRetentionDays: { default: WORKFLOW_DEFAULTS.auditRetentionDays, description: "Days a request stays in the table after it expires (DynamoDB TTL), at least 1." },
  emailSubject: { default: DEFAULT_SUBJECT_TEMPLATE, description: "Email subject; {title} is replaced by the request's title." },
  apiThrottleRateLimit: { default: WORKFLOW_DEFAULTS.apiThrottle.rateLimit, description: "API Gateway transports: steady requests per second allowed." },
  apiThrottleBurstLimit: { default: WORKFLOW_DEFAULTS.apiThrottle.burstLimit, description: "API Gateway transports: burst of requests allowed." },
  decisionReservedConcurrency: { default: WORKFLOW_DEFAULTS.decisionReservedConcurrency, description: "Reserved concurrency of the decision function, capping what the public endpoint can cost; -1 reserves none." },
  approvedFunctionArn: { default: undefined, description: "Optional ARN of a Lambda function to run after approval, with the execution's state." },
  requiredApprovals: { default: WORKFLOW_DEFAULTS.requiredApprovals, description: "Distinct approvers who must approve, 1 to the number of approvers; the first rejection rejects." },
  allowSelfApproval: { default: WORKFLOW_DEFAULTS.allowSelfApproval, description: "May the requestedBy address approve its own request." },
  tableDeletionProtection: { default: WORKFLOW_DEFAULTS.tableDeletionProtection, description: "Deletion protection for the approvals table (the audit trail), and keep it in AWS on destroy; false only for throwaway stacks." },
  protectState: { default: WORKFLOW_DEFAULTS.protectState, description: "Pulumi protect and retainOnDelete on the table, the link key and the topic: a rename or move without aliases fails instead of replacing them; false only for throwaway stacks." },
  signInIssuer: { default: undefined, description: "https URL of an OpenID Connect issuer; approvers sign in there before they can see or decide a request. Unset: sign-in off." },
  signInClientId: { default: undefined, description: "The OpenID client registered for this stack; required with signInIssuer." },
  signInClientSecret: { default: undefined, description: "The client's secret (pulumi config set --secret); required with signInIssuer. Stored in AWS Secrets Manager." },
  slackSigningSecret: { default: undefined, description: "The Slack app's signing secret (pulumi config set --secret); with slackBotToken, approvers also decide in Slack. Stored in AWS Secrets Manager." },
  slackBotToken: { default: undefined, description: "The Slack app's bot token, xoxb-… (pulumi config set --secret); with slackSigningSecret, approvers also decide in Slack. Stored in AWS Secrets Manager." },
  reminderMinutesBeforeExpiry: { default: undefined, description: "List of minutes before expiry at which approvers who have not voted are reminded, e.g. [60, 10]. Unset: no reminders." },
  sweepIntervalMinutes: { default: WORKFLOW_DEFAULTS.sweepIntervalMinutes, description: "Minutes between runs of the sweeper, which delivers every settled vote whose delivery did not finish (a lost reply, a crash, throttling), 1 to 60." },
  alarmEmail: { default: undefined, description: "Email address for CloudWatch alarms (failed or timed-out executions, function errors and throttles, 5xx, SNS delivery failures). Unset: no alarms." },
  alarmTopicArn: { default: undefined, description: "An existing SNS topic for the alarms, instead of alarmEmail." },
  deployerArn: { default: undefined, description: "ARN of the IAM role (or user) that runs pulumi up: the only principal that may subscribe to the approvals topic or change it and the approvals table's policy. Unset: whoever runs pulumi up." },
  breakGlassRoleArn: { default: undefined, description: "Optional ARN of an operator role that may also write the approvals table and subscribe approvers, for a repair by hand." },
  approverGroups: { default: {}, description: "Named approver groups for approval policies: a map of group name to a list of addresses, each also in approverEmails. Unset: no groups." },
  approvalPolicies: { default: {}, description: "Named approval policies: a map of name to {stages: [{rules: [{group, required, escalateAfterMinutes?, escalateTo?}]}], onTimeout?, requireReason?}; an execution's input names one with policy. Unset: one stage, one rule (requiredApprovals of approverEmails)." },
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;

/** One message per bad key, each naming the key, the value and what is allowed. */
export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid stack configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/** Raw values as `pulumi config` stores them: strings (lists as JSON). A secret is only known to be set. */
export type RawStackConfig = Partial<Record<ConfigKey, string>>;

/** The secret config values, read as Pulumi secrets (outputs), never as plain strings. */
export const SECRET_KEYS: readonly ConfigKey[] = ["signInClientSecret", "slackSigningSecret", "slackBotToken"];

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\x21-\x7E]{1,512}$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;

const shown = (value: string) => JSON.stringify(value);
const RESERVED_CONCURRENCY_ALLOWED = "it must be -1 (no reservation) or a whole number from 1 to 1000";

class Reader {
  readonly problems: string[] = [];
  /** Keys already reported: a check that depends on one of them stays silent (one problem per bad value). */
  readonly bad = new Set<ConfigKey>();
  constructor(private readonly raw: RawStackConfig) {}

  private problem(key: ConfigKey, value: string, allowed: string) {
    this.bad.add(key);
    this.problems.push(`human-approval:${key} is ${shown(value)}: ${allowed}.`);
  }

  value(key: ConfigKey): string | undefined {
    // ASCII blanks only: String.prototype.trim() also strips U+FEFF, which would hide it from the checks.
    const value = this.raw[key]?.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    return value === undefined || value === "" ? undefined : value;
  }

  integer(key: ConfigKey, min: number, max: number, allowed = `it must be a whole number from ${min} to ${max}`): number {
    const raw = this.value(key) ?? String(CONFIG_KEYS[key].default);
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) this.problem(key, raw, allowed);
    return value;
  }

  oneOf<T extends string | number>(key: ConfigKey, allowed: readonly T[], parse: (raw: string) => T): T {
    const raw = this.value(key) ?? String(CONFIG_KEYS[key].default);
    const value = parse(raw);
    if (!allowed.includes(value)) this.problem(key, raw, `allowed values are ${allowed.join(", ")}`);
    return value;
  }

  emails(key: ConfigKey): string[] {
    const raw = this.value(key);
    if (raw === undefined) {
      this.problems.push(`human-approval:${key} is not set: give at least one approver, e.g. pulumi config set --path 'human-approval:${key}[0]' ops@example.com.`);
      return [];
    }
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      list = undefined;
    }
    if (typeof list === "string" || (!raw.startsWith("[") && list === undefined)) {
      // `pulumi config set human-approval:approverEmails a@x` stores a plain string, not a list.
      const first = (typeof list === "string" ? list : raw).split(/[\s,;]+/).find(Boolean) ?? "ops@example.com";
      this.problem(key, raw, `it must be a list, not a plain string: set it with pulumi config set --path 'human-approval:${key}[0]' ${first} (then [1], [2], … for more), or as a YAML list in the stack file`);
      return [];
    }
    if (list === undefined) {
      this.problem(key, raw, "it must be a list of email addresses");
      return [];
    }
    if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === "string")) {
      this.problem(key, raw, "it must be a non-empty list of email addresses");
      return [];
    }
    // Not String.prototype.trim(), which strips U+FEFF and other invisible characters without a word.
    const emails = list.map((item: string) => item.replace(/^[ \t]+|[ \t]+$/g, ""));
    for (const email of emails) if (normaliseAddress(email) === undefined) this.problem(key, email, "each entry must be an email address in printable ASCII like ops@example.com");
    const duplicates = emails.filter((email, index) => emails.findIndex((other) => other.toLowerCase() === email.toLowerCase()) !== index);
    if (duplicates.length > 0) this.problem(key, duplicates[0], "each address may appear only once");
    return emails;
  }

  text(key: ConfigKey, maxLength: number): string {
    const value = this.value(key) ?? String(CONFIG_KEYS[key].default);
    if (value.length > maxLength) this.problem(key, value, `it must be at most ${maxLength} characters`);
    return value;
  }

  boolean(key: ConfigKey): boolean {
    const raw = this.value(key) ?? String(CONFIG_KEYS[key].default);
    if (raw !== "true" && raw !== "false") this.problem(key, raw, "it must be true or false");
    return raw === "true";
  }

  httpsUrl(key: ConfigKey): string | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== "https:" || url.search || url.hash) this.problem(key, value, "it must be an https URL of an OpenID Connect issuer, like https://login.example.com (no query)");
    return value.replace(/\/+$/, "");
  }

  email(key: ConfigKey): string | undefined {
    const value = this.value(key);
    if (value !== undefined && normaliseAddress(value) === undefined) this.problem(key, value, "it must be an email address in printable ASCII like platform@example.com");
    return value;
  }

  topicArn(key: ConfigKey): string | undefined {
    const value = this.value(key);
    if (value !== undefined && !SNS_TOPIC_ARN.test(value)) this.problem(key, value, "it must be an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:alarms");
    return value;
  }

  /** A list of whole minutes, each from 1 to below `max` (a YAML list, handed over as JSON). */
  minuteList(key: ConfigKey, max: number): number[] {
    const raw = this.value(key);
    if (raw === undefined) return [];
    let list: unknown;
    try {
      // Only a list: Pulumi.yaml types this key array<integer>, so the CLI refuses "60,10" before the program runs.
      list = JSON.parse(raw);
    } catch {
      list = undefined;
    }
    const allowed = `it must be a list of whole minutes from 1 to ${max - 1} (less than approvalTimeoutMinutes), e.g. [60, 10]`;
    if (Array.isArray(list) && list.length === 0) return []; // Pulumi.yaml's default
    if (!Array.isArray(list) || !list.every((item) => Number.isInteger(item) && item >= 1 && item < max)) {
      this.problem(key, raw, allowed);
      return [];
    }
    return [...new Set(list as number[])].sort((a, b) => b - a);
  }

  /** A map (YAML map, handed over as JSON); the CLI's default `{}` and unset both mean none. */
  map(key: ConfigKey): unknown {
    const raw = this.value(key);
    if (raw === undefined || raw === "{}") return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      // `pulumi config set` without --path stores a plain string; the policy readers say what a map looks like.
      return raw;
    }
  }

  /** An IAM role or user ARN exactly as `aws:PrincipalArn` carries it (no wildcard: it names one principal). */
  principalArn(key: ConfigKey): string | undefined {
    const value = this.value(key);
    if (value !== undefined && (!PRINCIPAL_ARN.test(value) || /[*?]/.test(value))) this.problem(key, value, "it must be the ARN of one IAM role or user, like arn:aws:iam::123456789012:role/deployer (not an assumed-role session ARN, no wildcard)");
    return value;
  }

  lambdaArn(key: ConfigKey): string | undefined {
    const value = this.value(key);
    if (value !== undefined && !LAMBDA_ARN.test(value)) this.problem(key, value, "it must be a Lambda function ARN like arn:aws:lambda:eu-west-1:123456789012:function:deploy");
    return value;
  }
}

export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const read = new Reader(raw);
  const config: StackConfig = {
    transport: read.oneOf("transport", TRANSPORTS, (value) => value as Transport),
    approverEmails: read.emails("approverEmails"),
    approvalTimeoutMinutes: read.integer("approvalTimeoutMinutes", 1, MAX_APPROVAL_TIMEOUT_MINUTES),
    logRetentionDays: read.oneOf("logRetentionDays", CLOUDWATCH_RETENTION_DAYS as readonly number[], Number),
    auditRetentionDays: read.integer("auditRetentionDays", 1, 36_500, "it must be a whole number of days, at least 1"),
    emailSubject: read.text("emailSubject", 200),
    apiThrottleRateLimit: read.integer("apiThrottleRateLimit", 1, 10_000),
    apiThrottleBurstLimit: read.integer("apiThrottleBurstLimit", 1, 5_000),
    decisionReservedConcurrency: read.integer("decisionReservedConcurrency", -1, 1_000, RESERVED_CONCURRENCY_ALLOWED),
    approvedFunctionArn: read.lambdaArn("approvedFunctionArn"),
    requiredApprovals: read.integer("requiredApprovals", 1, 100),
    allowSelfApproval: read.boolean("allowSelfApproval"),
    tableDeletionProtection: read.boolean("tableDeletionProtection"),
    protectState: read.boolean("protectState"),
    reminderMinutesBeforeExpiry: [],
    sweepIntervalMinutes: read.integer("sweepIntervalMinutes", 1, 60),
    alarmEmail: read.email("alarmEmail"),
    alarmTopicArn: read.topicArn("alarmTopicArn"),
    deployerArn: read.principalArn("deployerArn"),
    breakGlassRoleArn: read.principalArn("breakGlassRoleArn"),
  };
  // Bounded by the timeout only when the timeout itself is good: a bad timeout is its own one problem.
  config.reminderMinutesBeforeExpiry = read.minuteList("reminderMinutesBeforeExpiry", read.bad.has("approvalTimeoutMinutes") ? MAX_APPROVAL_TIMEOUT_MINUTES : config.approvalTimeoutMinutes);
  if (config.alarmEmail && config.alarmTopicArn) {
    read.problems.push(`human-approval:alarmTopicArn is ${shown(config.alarmTopicArn)}: set either alarmEmail or alarmTopicArn, not both.`);
  }
  const issuer = read.httpsUrl("signInIssuer");
  const clientId = read.value("signInClientId");
  const secretSet = read.value("signInClientSecret") !== undefined;
  if (issuer !== undefined || clientId !== undefined || secretSet) {
    // Sign-in needs all three; name each one that is missing.
    if (issuer === undefined) read.problems.push("human-approval:signInIssuer is not set: sign-in needs the issuer's https URL with signInClientId and signInClientSecret.");
    if (clientId === undefined) read.problems.push("human-approval:signInClientId is not set: sign-in needs the OpenID client id registered for this stack.");
    if (!secretSet) read.problems.push("human-approval:signInClientSecret is not set: sign-in needs the client secret, set with pulumi config set --secret human-approval:signInClientSecret <secret>.");
  }
  // Slack needs both secrets; one without the other is a mistake, not "Slack off".
  const slackSet = { slackSigningSecret: read.value("slackSigningSecret") !== undefined, slackBotToken: read.value("slackBotToken") !== undefined };
  if (slackSet.slackSigningSecret !== slackSet.slackBotToken) {
    const missing = slackSet.slackSigningSecret ? "slackBotToken" : "slackSigningSecret";
    read.problems.push(`human-approval:${missing} is not set: Slack needs both slackSigningSecret and slackBotToken, set with pulumi config set --secret human-approval:${missing} <value> (or unset the other to leave Slack off).`);
  }
  if (config.approverEmails.length > 0 && !read.bad.has("requiredApprovals") && !read.bad.has("approverEmails") && config.requiredApprovals > config.approverEmails.length) {
    read.problems.push(`human-approval:requiredApprovals is "${config.requiredApprovals}": it must be at most the number of approverEmails (${config.approverEmails.length}), or no request could ever be approved.`);
  }
  readPolicies(read, config);
  if (config.decisionReservedConcurrency === 0) {
    read.problems.push(`human-approval:decisionReservedConcurrency is "0": ${RESERVED_CONCURRENCY_ALLOWED} (0 would throttle every click).`);
  }
  if (read.problems.length > 0) throw new StackConfigError(read.problems);
  return config;
}

/** approverGroups and approvalPolicies, added to the config only when set (existing stacks read exactly as before). */
function readPolicies(read: Reader, config: StackConfig): void {
  const rawGroups = read.map("approverGroups");
  const rawPolicies = read.map("approvalPolicies");
  if (rawGroups === undefined && rawPolicies === undefined) return;
  const problems: string[] = [];
  // Group members must be stack approvers; a bad approverEmails is its own one problem.
  const badGroups = new Set<string>();
  const groups = parseApproverGroups(rawGroups, read.bad.has("approverEmails") ? undefined : config.approverEmails, problems, badGroups);
  const policies = parseApprovalPolicies(rawPolicies, groups, problems, badGroups);
  read.problems.push(...problems);
  if (rawGroups !== undefined) config.approverGroups = groups;
  if (rawPolicies !== undefined) config.approvalPolicies = policies;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}

/** The known key a misspelled one most likely meant, if any is close. */
export function closestConfigKey(key: string): ConfigKey | undefined {
  const wanted = key.toLowerCase();
  const scored = (Object.keys(CONFIG_KEYS) as ConfigKey[]).map((known) => ({ known, score: distance(wanted, known.toLowerCase()) })).sort((a, b) => a.score - b.score);
  // A close spelling, or a part of a longer name ("timeoutMinutes" for approvalTimeoutMinutes).
  const close = scored.find(({ known, score }) => score <= Math.max(2, Math.floor(key.length / 4)) || (wanted.length >= 4 && known.toLowerCase().includes(wanted)));
  return close?.known;
}

/** AWS region names: a partition prefix, a direction and a number (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-7). */
const AWS_REGION = /^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eu-isoe|us-isof)-(east|west|north|south|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;

/**
 * One problem per stack key that would otherwise be ignored silently (and its default used): a key of the
 * `human-approval` namespace this stack does not read, a key in a namespace one or two edits away from it
 * (`humanapproval:transport`), and an `aws:region` that is not a region's name. Takes full keys and their values.
 */
export function unknownKeyProblems(keys: Iterable<string>, values: Record<string, string | undefined> = {}): string[] {
  const problems: string[] = [];
  for (const key of keys) {
    const separator = key.indexOf(":");
    const namespace = key.slice(0, separator);
    const name = key.slice(separator + 1);
    if (key === "aws:region" && values[key] !== undefined && !AWS_REGION.test(values[key]!)) {
      problems.push(`aws:region is ${shown(values[key]!)}: it must be an AWS region's name, like eu-west-1 or us-east-2.`);
      continue;
    }
    if (namespace !== "human-approval") {
      if (separator > 0 && distance(namespace.toLowerCase(), "human-approval") <= 2) {
        const meant = name in CONFIG_KEYS ? name : closestConfigKey(name);
        problems.push(`${key} is in the namespace "${namespace}", which no setting is in: did you mean human-approval:${meant ?? name}?`);
      }
      continue;
    }
    if (name in CONFIG_KEYS) continue;
    const guess = closestConfigKey(name);
    problems.push(`${key} is not a setting of this stack: ${guess ? `did you mean human-approval:${guess}?` : `the settings are ${Object.keys(CONFIG_KEYS).join(", ")}.`}`);
  }
  return problems;
}
