/** `npm start` options, parsed and validated without side effects. */
import { parseArgs } from "node:util";
import { TRANSPORTS, type Transport } from "../functions/decision/httpEvent";
import { isIP } from "node:net";
import { MAX_APPROVAL_TIMEOUT_MINUTES, parseStackConfig, StackConfigError, unknownKeyProblems, type RawStackConfig } from "../stacks/config";
import { checkStackFile, PROJECT_ROOT, type CheckedStackFile } from "../stacks/stackFiles";

export interface CliOptions {
  transport: Transport;
  inputFile?: string;
  serve: boolean;
  approvalTimeoutSeconds: number;
  port: number;
  /** Where the pages are served: 127.0.0.1 unless --host says otherwise. */
  host: string;
  /** Approvers sign in first, at a local OpenID provider (oidc-provider on 127.0.0.1). */
  signIn: boolean;
  /** Approvers also get a Slack direct message, in a local Slack stand-in (set only when on). */
  slack?: true;
  verbose: boolean;
  help: boolean;
  /** The local stack's approverEmails, lower case. */
  approverEmails: string[];
  /** The local stack's requiredApprovals: 1 to the number of approvers. */
  requiredApprovals: number;
  /** Put into the input's `requestedBy` field, lower case. */
  requestedBy?: string;
  /** The local stack's allowSelfApproval. */
  allowSelfApproval: boolean;
  /** A file of approverGroups and approvalPolicies (--policy), relative to the current directory. */
  policyFile?: string;
}

/** What the local stack takes from the dev stack file unless a flag says otherwise. */
export interface LocalDefaults {
  transport: Transport;
  approverEmails: string[];
  /** The stack file's approvalTimeoutMinutes, when it sets one. */
  approvalTimeoutMinutes?: number;
}

/** A problem with what the user typed (or a stack file holds): printed as one line per problem, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Every line of a usage error is an error of its own (a stack file's problems, one per line), as `npm run plan` prints them. */
export const errorLines = (error: UsageError) => error.message.split("\n").map((line) => `Error: ${line}`).join("\n");

export const USAGE = `Usage: npm start -- [options]

Runs the approval workflow on this machine, without AWS: starts one execution,
prints each approver's email with their own link, waits for the votes you cast
in the browser, prints the execution's path and output, and keeps serving the
pages until Ctrl-C.

Options:
  --transport <name>        restApi, httpApi or functionUrl (default: Pulumi.dev.yaml's)
  --input <file.json>       execution input, relative to the current directory
                            (default: a sample release approval)
  --approvers <a@x,b@y>     the approvers, comma-separated
                            (default: Pulumi.dev.yaml's approverEmails)
  --required-approvals <n>  approvals that settle a request, 1 to the number of
                            approvers; the first rejection rejects (default: 1)
  --requested-by <address>  the input's requestedBy: who asks; they may not approve
  --allow-self-approval     let the requestedBy address approve its own request
  --policy <file.yaml>      approverGroups and approvalPolicies, as a stack file holds
                            them (e.g. local/examples/two-stage-policy.yaml): the
                            groups are the approvers, the input names the first
                            policy unless it names one (docs/policies.md)
  --timeout-minutes <n>     approval timeout; decimals allowed, e.g. 0.5
                            (default: Pulumi.dev.yaml's approvalTimeoutMinutes, else 1440)
  --port <n>                port to listen on (default: 3000; 0 picks a free one)
  --host <address>          address to listen on: 127.0.0.1 (default, this machine
                            only), or 0.0.0.0 to serve the pages to your network too
  --sign-in                 approvers sign in first, with OpenID Connect, at a local
                            OpenID provider (oidc-provider on 127.0.0.1): one account
                            per approver, password "local"
  --slack                   approvers also decide in Slack: a local Slack stand-in
                            shows each approver's direct messages on a page whose
                            buttons send signed interaction payloads
  --serve                   keep running; start more executions with POST /executions
  --verbose                 print the handlers' JSON log lines
  --help                    show this help

Example: npm start -- --approvers ann@example.com,bob@example.com,cy@example.com --required-approvals 2 --requested-by dee@example.com`;

// Deliberately plain, as the stack config checks it: one @, no spaces, a dot in the domain.
const EMAIL = /^[^\s@"<>(),;:]+@[^\s@"<>(),;:]+\.[^\s@"<>(),;:]+$/;

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

function parseApprovers(raw: string): string[] {
  const approvers = raw.split(",").map((item) => item.trim().toLowerCase()).filter(Boolean);
  if (approvers.length === 0) throw new UsageError(`--approvers is "${raw}": give at least one email address, e.g. --approvers ann@example.com,bob@example.com.`);
  const bad = approvers.find((address) => !EMAIL.test(address));
  if (bad !== undefined) throw new UsageError(`--approvers lists "${bad}": each entry must be an email address like ops@example.com (comma-separated, no spaces needed).`);
  const duplicate = approvers.find((address, index) => approvers.indexOf(address) !== index);
  if (duplicate !== undefined) throw new UsageError(`--approvers lists ${duplicate} twice: each approver may appear only once.`);
  return approvers;
}

function parseRequiredApprovals(raw: string | undefined, approvers: string[], fromFlag: boolean): number {
  if (raw === undefined) return 1;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < 1 || value > approvers.length) {
    const whose = fromFlag ? "--approvers" : "Pulumi.dev.yaml's approverEmails";
    throw new UsageError(`--required-approvals is "${raw}": use a whole number from 1 to ${approvers.length} (the number of approvers in ${whose}).`);
  }
  return value;
}

export function parseCliOptions(argv: string[], defaults: LocalDefaults): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        transport: { type: "string" },
        input: { type: "string" },
        approvers: { type: "string" },
        "required-approvals": { type: "string" },
        "requested-by": { type: "string" },
        "allow-self-approval": { type: "boolean", default: false },
        "sign-in": { type: "boolean", default: false },
        slack: { type: "boolean", default: false },
        "timeout-minutes": { type: "string" },
        policy: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        serve: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see npm start -- --help)`);
  }

  const transport = values.transport ?? defaults.transport;
  if (!TRANSPORTS.includes(transport as Transport)) throw new UsageError(`--transport is "${transport}": use one of ${TRANSPORTS.join(", ")}.`);

  const minutes = Number(values["timeout-minutes"] ?? defaults.approvalTimeoutMinutes ?? 1440);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_APPROVAL_TIMEOUT_MINUTES) {
    throw new UsageError(`--timeout-minutes is "${values["timeout-minutes"]}": use a number of minutes above 0 and at most ${MAX_APPROVAL_TIMEOUT_MINUTES}.`);
  }
  const port = Number(values.port ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port is "${values.port}": use a port number from 0 to 65535.`);
  const host = values.host?.trim() ?? "127.0.0.1";
  // The links name 127.0.0.1 (plain http is accepted only on loopback), so the gateway must listen there too.
  if (!["0.0.0.0", "::", "localhost"].includes(host) && !(isIP(host) && /^(127\.|::1$)/.test(host))) {
    throw new UsageError(`--host is "${values.host}": use 0.0.0.0 (every network interface, IPv4) or :: (IPv6 too) to serve the pages to other machines, or a loopback address like 127.0.0.1 (this machine only).`);
  }

  // Browsers keep the sign-in's Secure (__Host-) cookies only over https, or over http on this machine.
  if (values["sign-in"] && host !== "localhost" && !(isIP(host) && /^(127\.|::1$)/.test(host))) {
    throw new UsageError(`--sign-in with --host ${host}: sign-in works on this machine only (browsers keep its Secure cookies only over https or on 127.0.0.1); leave out --host.`);
  }
  const approverEmails = values.approvers === undefined ? defaults.approverEmails.map((address) => address.toLowerCase()) : parseApprovers(values.approvers);
  const requiredApprovals = parseRequiredApprovals(values["required-approvals"], approverEmails, values.approvers !== undefined);
  const allowSelfApproval = values["allow-self-approval"] ?? false;

  let requestedBy: string | undefined;
  if (values["requested-by"] !== undefined) {
    requestedBy = values["requested-by"].trim().toLowerCase();
    if (!EMAIL.test(requestedBy)) throw new UsageError(`--requested-by is "${values["requested-by"]}": use an email address like dev@example.com.`);
    // The request function would refuse such a request; say so before anything starts.
    const eligible = allowSelfApproval ? approverEmails.length : approverEmails.filter((address) => address !== requestedBy).length;
    if (eligible < requiredApprovals) {
      throw new UsageError(
        `--required-approvals is ${requiredApprovals}, but only ${plural(eligible, "approver")} besides --requested-by ${requestedBy} can vote (they may not approve their own request): add approvers, lower --required-approvals, or pass --allow-self-approval.`,
      );
    }
  }

  return {
    transport: transport as Transport,
    inputFile: values.input,
    serve: values.serve ?? false,
    // TimeoutSeconds is a whole number of at least 1.
    approvalTimeoutSeconds: Math.max(1, Math.round(minutes * 60)),
    port,
    host,
    signIn: values["sign-in"] ?? false,
    ...(values.slack ? { slack: true as const } : {}),
    verbose: values.verbose ?? false,
    help: values.help ?? false,
    approverEmails,
    requiredApprovals,
    requestedBy,
    allowSelfApproval,
    ...(values.policy !== undefined ? { policyFile: values.policy } : {}),
  };
}

/**
 * The local defaults from a stack file's values (as `readStackFile` returns them). A bad value is
 * blamed on that file and key, never on a flag the user did not pass.
 */
export function localDefaultsFromStack(values: Record<string, string>, fileName: string, fallbackApprover: string): LocalDefaults {
  const raw = Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith("human-approval:")).map(([key, value]) => [key.slice("human-approval:".length), value])) as RawStackConfig;
  raw.approverEmails ??= JSON.stringify([fallbackApprover]);
  // The whole file is checked, as `pulumi up` would: a typo in any key is worth hearing about here too.
  const problems = unknownKeyProblems(Object.keys(values), values);
  try {
    const config = parseStackConfig(raw);
    if (problems.length === 0) {
      return { transport: config.transport, approverEmails: config.approverEmails, ...(raw.approvalTimeoutMinutes !== undefined ? { approvalTimeoutMinutes: config.approvalTimeoutMinutes } : {}) };
    }
  } catch (error) {
    if (!(error instanceof StackConfigError)) throw error;
    problems.push(...error.problems);
  }
  throw new UsageError(problems.map((problem) => `${fileName}: ${problem}`).join("\n"));
}

/**
 * The local mode's defaults from the dev stack file, checked as `pulumi up` and `npm run plan` check it and
 * worded the same (stacks/stackFiles.ts checkStackFile); the local mode supplies an approver if none is set.
 */
export function localDefaultsFromStackFile(fallbackApprover: string, stacksDir = PROJECT_ROOT): LocalDefaults {
  let checked: CheckedStackFile;
  try {
    checked = checkStackFile("dev", { stacksDir, fill: { "human-approval:approverEmails": [fallbackApprover] } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { transport: "functionUrl", approverEmails: [fallbackApprover] };
    throw new UsageError(`Pulumi.dev.yaml cannot be read: ${String((error as Error)?.message ?? error).split("\n")[0].trim()}`);
  }
  if (checked.problems.length > 0) throw new UsageError(checked.problems.join("\n"));
  return localDefaultsFromStack(checked.values, "Pulumi.dev.yaml", fallbackApprover);
}

/** Where another port is suggested: the user's own command with only --port changed. */
export function commandWithPort(argv: string[], port: number): string {
  const kept: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] === "--port") index++;
    else if (!argv[index].startsWith("--port=")) kept.push(argv[index]);
  }
  const quoted = [...kept, "--port", String(port)].map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`));
  return `npm start -- ${quoted.join(" ")}`;
}

export const SAMPLE_INPUT = {
  title: "Deploy release 2026.11 to production",
  description: "The release passed staging. Approve to roll it out to production; reject to stop here.",
  details: { service: "checkout", version: "2026.11.0", changes: 42 },
};
