/**
 * The command line: commands, their options, and the usage text. Parsing is strict (an unknown or
 * malformed option is a one-line error, exit 64) and pure, so it is tested without AWS.
 */
import { parseArgs } from "node:util";

/**
 * Exit codes a pipeline can trust. Node exits 1 for an uncaught exception (and 2 to 14 for its own
 * failures, 128+n for a signal), npm and npx 1 for theirs, bash 2 and 126/127: none of those can be read
 * as a decision. Rejected, expired and withdrawn are 20, 21 and 22; 64 and 70 are sysexits.h's EX_USAGE
 * ("fix the command, its files or the stack it names") and EX_SOFTWARE ("it failed; trying again may help").
 */
export const EXIT = { approved: 0, ok: 0, rejected: 20, expired: 21, withdrawn: 22, usage: 64, failure: 70 } as const;

/** A problem to report in one line, with the exit code (a usage or configuration error unless said otherwise). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    /** What --json prints beside the error (the request that was started, when one was). */
    readonly context: Record<string, string> = {},
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The exit codes as the usage text and docs/cli.md state them. */
export const EXIT_CODES_TEXT = `Exit codes: 0 approved (or done), ${EXIT.rejected} rejected, ${EXIT.expired} expired, ${EXIT.withdrawn} withdrawn,
  ${EXIT.usage} usage or configuration error (a bad option or file, a stack not found, a refused request),
  ${EXIT.failure} failure (an AWS error, a failed execution). Errors are one line on stderr.`;

export const COMMANDS = ["request", "list", "show", "withdraw"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Where the stack's resources come from; every command takes these. */
const RESOURCE_OPTIONS = {
  "stack-outputs": { type: "string" },
  "state-machine-arn": { type: "string" },
  table: { type: "string" },
  local: { type: "boolean" },
  "local-url": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const COMMAND_OPTIONS = {
  request: {
    title: { type: "string" },
    description: { type: "string" },
    "details-file": { type: "string" },
    "requested-by": { type: "string" },
    approvers: { type: "string" },
    wait: { type: "boolean" },
    "poll-seconds": { type: "string" },
  },
  list: { status: { type: "string" } },
  show: {},
  withdraw: { reason: { type: "string" } },
} as const;

export interface ResourceFlags {
  stackOutputs?: string;
  stateMachineArn?: string;
  table?: string;
  local: boolean;
  localUrl?: string;
}

export type Command =
  | { name: "help"; text: string }
  | { name: "request"; json: boolean; resources: ResourceFlags; title: string; description?: string; detailsFile?: string; requestedBy?: string; approvers?: string[]; wait: boolean; pollSeconds: number }
  | { name: "list"; json: boolean; resources: ResourceFlags; status: string }
  | { name: "show"; json: boolean; resources: ResourceFlags; reference: string }
  | { name: "withdraw"; json: boolean; resources: ResourceFlags; reference: string; reason?: string };

export const STATUSES = ["PENDING", "SETTLING", "APPROVED", "REJECTED", "EXPIRED", "WITHDRAWN", "CLOSED"];
const EMAIL = /^[^\s@"<>(),;:]+@[^\s@"<>(),;:]+\.[^\s@"<>(),;:]+$/;
export const DEFAULT_POLL_SECONDS = 10;

const RESOURCES_HELP = `Where the stack is (the first that is set wins, per value):
  --state-machine-arn <arn>   or HUMAN_APPROVAL_STATE_MACHINE_ARN
  --table <name>              or HUMAN_APPROVAL_TABLE
  --stack-outputs <file>      or HUMAN_APPROVAL_STACK_OUTPUTS: pulumi stack output --json > file
  --local                     the local mode (npm start) at http://127.0.0.1:3000, or --local-url <url>
AWS credentials and region: the SDK's standard chain (environment, profile, SSO, instance role).
Every command takes --json (one JSON document on stdout) and --help.`;

export const USAGE = `human-approval: ask for approvals from a pipeline, see and withdraw them

Usage:
  human-approval request --title <text> [--description <text>] [--details-file <f.json>]
                         [--requested-by <a@x>] [--approvers <a@x,b@y>] [--wait] [--poll-seconds <n>]
  human-approval list [--status PENDING]
  human-approval show <requestRef | executionArn>
  human-approval withdraw <requestRef | executionArn> [--reason <text>]

${EXIT_CODES_TEXT}

${RESOURCES_HELP}`;

const COMMAND_HELP: Record<CommandName, string> = {
  request: `human-approval request --title <text> [options]

Starts an execution of the approval workflow; the approvers get an email each. With --wait, waits for
the outcome and exits 0 approved, ${EXIT.rejected} rejected, ${EXIT.expired} expired, ${EXIT.withdrawn} withdrawn; without it, exits 0 once
the request is stored. A refused request (e.g. an approver not in the stack's approverEmails) exits ${EXIT.usage}.

  --title <text>            what is asked (required)
  --description <text>      more about it
  --details-file <f.json>   any JSON, shown to the approvers as details
  --requested-by <a@x>      who asks; they may not approve their own request
  --approvers <a@x,b@y>     ask only these (a subset of the stack's approverEmails)
  --wait                    wait for the outcome (a progress line on a terminal; each vote as a line)
  --poll-seconds <n>        how often to check while waiting (default ${DEFAULT_POLL_SECONDS})

${RESOURCES_HELP}`,
  list: `human-approval list [--status <status>]

Lists requests by status from the table's status index (a query, never a scan): title, requester, votes
so far, expiry, requestRef, execution. Default status PENDING; others: ${STATUSES.slice(1).join(", ")}.

${RESOURCES_HELP}`,
  show: `human-approval show <requestRef | executionArn>

Shows one request: what was asked, who is asked, every vote, its state and how the execution stands.

${RESOURCES_HELP}`,
  withdraw: `human-approval withdraw <requestRef | executionArn> [--reason <text>]

Stops the execution (StopExecution, error "Withdrawn", the reason as its cause). The stack then closes the
request: the approvers get a notice, and every link shows that it was withdrawn.

${RESOURCES_HELP}`,
};

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0].trim();
}

function resourceFlags(values: Record<string, unknown>): ResourceFlags {
  return {
    stackOutputs: values["stack-outputs"] as string | undefined,
    stateMachineArn: values["state-machine-arn"] as string | undefined,
    table: values.table as string | undefined,
    local: Boolean(values.local || values["local-url"]),
    localUrl: values["local-url"] as string | undefined,
  };
}

function nonEmpty(values: Record<string, unknown>, option: string): string | undefined {
  const value = values[option] as string | undefined;
  if (value !== undefined && value.trim() === "") throw new CliError(`--${option} is empty.`);
  return value?.trim();
}

export function parseCommandLine(argv: string[]): Command {
  const [commandName, ...rest] = argv;
  if (commandName === undefined || commandName === "help" || commandName === "--help" || commandName === "-h") {
    if (commandName === undefined) throw new CliError(`No command given: use one of ${COMMANDS.join(", ")} (human-approval --help).`);
    return { name: "help", text: USAGE };
  }
  if (!(COMMANDS as readonly string[]).includes(commandName)) {
    throw new CliError(`Unknown command "${commandName}": use one of ${COMMANDS.join(", ")} (human-approval --help).`);
  }
  const name = commandName as CommandName;
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  const options: NonNullable<Parameters<typeof parseArgs>[0]>["options"] = { ...RESOURCE_OPTIONS, ...COMMAND_OPTIONS[name] };
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = firstLine(error);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new CliError(`Unknown option ${unknown[1]} for ${name} (human-approval ${name} --help).`);
    throw new CliError(`${message.replace(/\.$/, "")} (human-approval ${name} --help).`);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) return { name: "help", text: COMMAND_HELP[name] };
  const positionals = parsed.positionals;
  const json = Boolean(values.json);
  const resources = resourceFlags(values);

  switch (name) {
    case "request": {
      if (positionals.length > 0) throw new CliError(`Unexpected argument "${positionals[0]}" for request: give the title with --title.`);
      const title = nonEmpty(values, "title");
      if (!title) throw new CliError("request needs --title <text>: what the approvers are asked to approve.");
      const requestedBy = nonEmpty(values, "requested-by");
      if (requestedBy !== undefined && !EMAIL.test(requestedBy)) throw new CliError(`--requested-by is "${requestedBy}": it must be an email address.`);
      const approversText = nonEmpty(values, "approvers");
      const approvers = approversText?.split(",").map((item) => item.trim()).filter(Boolean);
      const badApprover = approvers?.find((address) => !EMAIL.test(address));
      if (approvers && (approvers.length === 0 || badApprover !== undefined)) throw new CliError(`--approvers is "${approversText}": it must be email addresses, comma-separated (bad entry: ${badApprover ?? "none given"}).`);
      const pollText = values["poll-seconds"] as string | undefined;
      const pollSeconds = pollText === undefined ? DEFAULT_POLL_SECONDS : Number(pollText);
      if (!(Number.isFinite(pollSeconds) && pollSeconds >= 0.1 && pollSeconds <= 3600)) throw new CliError(`--poll-seconds is "${pollText}": it must be a number of seconds from 0.1 to 3600.`);
      if (pollText !== undefined && !values.wait) throw new CliError("--poll-seconds only applies with --wait.");
      return {
        name,
        json,
        resources,
        title,
        description: nonEmpty(values, "description"),
        detailsFile: nonEmpty(values, "details-file"),
        requestedBy,
        approvers,
        wait: Boolean(values.wait),
        pollSeconds,
      };
    }
    case "list": {
      if (positionals.length > 0) throw new CliError(`Unexpected argument "${positionals[0]}" for list.`);
      const status = ((values.status as string | undefined) ?? "PENDING").trim().toUpperCase();
      if (!STATUSES.includes(status)) throw new CliError(`--status is "${values.status}": it must be one of ${STATUSES.join(", ")}.`);
      return { name, json, resources, status };
    }
    case "show":
    case "withdraw": {
      if (positionals.length !== 1) throw new CliError(`${name} needs one requestRef (req-…) or execution ARN${positionals.length > 1 ? `, not ${positionals.length}` : ""} (human-approval ${name} --help).`);
      const reference = positionals[0].trim();
      if (name === "show") return { name, json, resources, reference };
      return { name, json, resources, reference, reason: nonEmpty(values, "reason") };
    }
  }
}
