/**
 * `npm start`: the approval workflow end to end on this machine, no AWS account.
 * See cliOptions.ts for the options, localApprovals.ts for what runs.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../stacks/stackFiles";
import { formatRemaining } from "../functions/shared/text";
import type { PublishedEmail } from "./awsStandIn";
import { commandWithPort, errorLines, localDefaultsFromStackFile, parseCliOptions, SAMPLE_INPUT, UsageError, USAGE, type CliOptions } from "./cliOptions";
import { isLoopbackHost, networkAddresses, PortInUseError } from "./gateway";
import { DEFAULT_LOCAL_APPROVER, LOCAL_OUTSIDER, reviewUrlIn, startLocalApprovals, type ApprovalEmail, type LocalApprovals, type LocalExecution } from "./localApprovals";
import type { ExecutionOutcome } from "./stepFunctions";
import { readPolicyFile, type LocalPolicies } from "./policyFile";
import { policyLines } from "../functions/shared/policyText";

/** Set on Ctrl-C: from then on the shutdown owns the output and the exit code. */
let stopping = false;
/** Set when the first execution has ended: Ctrl-C then ends a finished run (exit 0), not an interrupted one. */
let finished = false;
const OUTPUT_DIR = path.join(PROJECT_ROOT, ".local");
const EMAILS_DIR = path.join(OUTPUT_DIR, "emails");
/** `npm start` runs in the project root; npm keeps the directory the user typed it in as INIT_CWD. */
const USER_DIR = process.env.INIT_CWD ?? process.cwd();
const RULE = "-".repeat(72);
/** How long to let an outcome notice catch up with the outcome before saying the pages stay up. */
const NOTICE_GRACE_MS = 1000;
/** How often the local mode runs the sweeper (the deployed schedule: `sweepIntervalMinutes`). */
const LOCAL_SWEEP_INTERVAL_SECONDS = 5;
/** With --policy: how often the reminders' schedule runs (escalations, emails of a stage that opened); deployed, every minute. */
const LOCAL_REMIND_INTERVAL_SECONDS = 2;

/** --policy: the file's groups and policies (the groups become the approvers); a bad file is a usage error. */
function readPolicies(options: CliOptions): LocalPolicies | undefined {
  if (!options.policyFile) return undefined;
  try {
    return readPolicyFile(path.resolve(USER_DIR, options.policyFile));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code ? `Cannot read policy file ${options.policyFile}: ${FILE_ERRORS[code] ?? firstLine(error)}.` : `Policy file ${(error as Error).message}`);
  }
}

/** Relative to where the user is, unless that means climbing out of it. */
const shownPath = (file: string) => {
  const relative = path.relative(USER_DIR, file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
};
/** An address as part of a file name: nothing that could leave the emails folder. */
const fileSafe = (text: string) => text.replace(/[^A-Za-z0-9@._+-]/g, "_");
/** The first line of an error message: YAML and JSON errors append a code frame. */
const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split("\n")[0].trim();

const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "it is a directory, not a file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a part of the path is not a directory",
};

function readInput(options: CliOptions, policies?: LocalPolicies): unknown {
  let input: unknown = policies ? { ...SAMPLE_INPUT, policy: policies.defaultPolicy } : SAMPLE_INPUT;
  const file = options.inputFile;
  if (file) {
    const resolved = path.resolve(USER_DIR, file);
    const where = path.isAbsolute(file) ? file : `${file} (${resolved})`;
    let text: string;
    try {
      text = readFileSync(resolved, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(`Cannot read input file ${where}: ${(code && FILE_ERRORS[code]) ?? firstLine(error)}.`);
    }
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`Input file ${where} is not valid JSON: ${firstLine(error)}.`);
    }
  }
  if (options.requestedBy === undefined) return input;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new UsageError(`--requested-by needs an input that is a JSON object, to set its requestedBy field; ${file} holds ${Array.isArray(input) ? "an array" : JSON.stringify(input) === "null" ? "null" : `a ${typeof input}`}.`);
  }
  return { ...input, requestedBy: options.requestedBy };
}

function printOutcome(execution: LocalExecution, outcome: ExecutionOutcome) {
  console.log(`\nExecution ${execution.executionName} ${outcome.status}`);
  console.log(`  path:   ${outcome.path.join(" -> ")}`);
  if (outcome.status === "SUCCEEDED") console.log(`  output: ${JSON.stringify(outcome.output, null, 2).split("\n").join("\n  ")}`);
  else console.log(`  error:  ${outcome.error?.name}: ${outcome.error?.cause}`);
}

function printEmail(recipients: string[], email: PublishedEmail) {
  console.log(`\nEmail to ${recipients.join(", ")}:\n${RULE}\nSubject: ${email.subject}\n\n${email.message}\n${RULE}`);
}

function saveEmail(file: string, email: PublishedEmail) {
  mkdirSync(EMAILS_DIR, { recursive: true });
  writeFileSync(file, `To: ${email.recipients.join(", ")}\nSubject: ${email.subject}\n\n${email.message}\n`);
}

const OUTCOME_SUBJECT = /^(\[[^\]]*\] )?(Approved|Rejected|Expired|Withdrawn|Closed):/;

/** An execution whose notices are printed: held back until its approval emails are printed. */
interface FollowedExecution {
  execution: LocalExecution;
  ready: boolean;
  held: PublishedEmail[];
  notices: number;
  /** Resolves at its first outcome notice. */
  outcomeNotice: Promise<void>;
  noticed(): void;
}
const followed = new Map<string, FollowedExecution>();

function follow(execution: LocalExecution): FollowedExecution {
  let noticed!: () => void;
  const outcomeNotice = new Promise<void>((resolve) => (noticed = resolve));
  const entry: FollowedExecution = { execution, ready: false, held: [], notices: 0, outcomeNotice, noticed };
  followed.set(execution.executionName, entry);
  return entry;
}

function printNotice(entry: FollowedExecution, email: PublishedEmail) {
  if (stopping) return;
  entry.notices++;
  const file = path.join(EMAILS_DIR, `${entry.execution.executionName}-notice-${entry.notices}.txt`);
  saveEmail(file, email);
  printEmail(email.recipients, email);
  console.log(`(saved to ${shownPath(file)})`);
  if (OUTCOME_SUBJECT.test(email.subject)) entry.noticed();
}

/** From now on, the execution's notices are printed as they arrive (those held so far first). */
function releaseNotices(entry: FollowedExecution) {
  entry.ready = true;
  for (const email of entry.held.splice(0)) printNotice(entry, email);
}

/** Approval emails printed with their execution's first batch: any other one is a later ask (a stage that opened, an escalation). */
const printedAsks = new Set<string>();
const laterAsk = (email: PublishedEmail) => !printedAsks.has(email.messageId) && [...followed.values()].some((entry) => entry.ready && entry.execution.allEmails().some((own) => own.messageId === email.messageId));

/**
 * Prints every email that carries no review link (the requester's "others decide" notice, outcome
 * notices) as it arrives, under its execution. Runs as long as the process: notices may follow the outcome.
 */
async function watchNotices(local: LocalApprovals) {
  const seen = new Set<string>();
  const isNotice = (email: PublishedEmail) => reviewUrlIn(email.message, local.callbackUrl) === undefined;
  for (;;) {
    const email = await local.standIn.nextEmail((candidate) => !seen.has(candidate.messageId) && (isNotice(candidate) || laterAsk(candidate)));
    seen.add(email.messageId);
    const entry = [...followed.values()].find(({ execution }) => execution.allEmails().some((own) => own.messageId === email.messageId));
    if (!entry) continue;
    if (!isNotice(email)) {
      // A stage that opened, or a backup group: their own links, after the first emails.
      if (!stopping) {
        printEmail(email.recipients, email);
        console.log(`Open a link in a browser:\n  ${email.recipients[0]}: ${reviewUrlIn(email.message, local.callbackUrl)}`);
      }
      continue;
    }
    if (entry.ready) printNotice(entry, email);
    else entry.held.push(email);
  }
}

function printApprovalEmails(execution: LocalExecution, emails: ApprovalEmail[]) {
  for (const email of emails) {
    printedAsks.add(email.messageId);
    saveEmail(path.join(EMAILS_DIR, `${execution.executionName}-${fileSafe(email.approver)}.txt`), email);
    printEmail([email.approver], email);
  }
  console.log(`(each saved to ${shownPath(path.join(EMAILS_DIR, `${execution.executionName}-<address>.txt`))})`);
}

/** Follows one execution from its emails to its outcome; resolves with the outcome. */
async function announce(entry: FollowedExecution, options: CliOptions): Promise<ExecutionOutcome> {
  const { execution } = entry;
  const emails = await execution.emails;
  if (emails.length > 0 && !stopping) printApprovalEmails(execution, emails);
  // After the approval emails, so that the requester's notice (sent last) is printed after them too.
  releaseNotices(entry);
  if (emails.length === 0) {
    const outcome = await execution.outcome;
    if (!stopping) {
      console.log("\nNo approval email was sent: the request was refused.");
      printOutcome(execution, outcome);
    }
    return outcome;
  }

  console.log(`\nOpen a link in a browser:\n${emails.map((email) => `  ${email.approver}: ${email.reviewUrl}`).join("\n")}`);
  const expiresAt = new Date(Date.now() + options.approvalTimeoutSeconds * 1000).toISOString();
  const needs = `${options.requiredApprovals} of ${emails.length} approval${emails.length === 1 ? "" : "s"}`;
  console.log(`Waiting for ${options.requiredApprovals === 1 ? "a decision" : `the votes (${needs})`} (expires in ${formatRemaining(expiresAt, new Date())}; Ctrl-C to stop)...`);
  const outcome = await execution.outcome;
  if (!stopping) printOutcome(execution, outcome);
  // The decision function tells the approvers right after the workflow; let that notice print first.
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([entry.outcomeNotice, new Promise<void>((resolve) => (grace = setTimeout(resolve, NOTICE_GRACE_MS)))]);
  clearTimeout(grace);
  return outcome;
}

function describeApprovers(options: CliOptions): string {
  const approvers = options.approverEmails.join(", ");
  const needs = `${options.requiredApprovals === 1 ? "1 approval settles" : `${options.requiredApprovals} approvals settle`} a request, the first rejection rejects`;
  const requester = options.requestedBy ? `; requested by ${options.requestedBy}${options.allowSelfApproval ? " (may approve their own request)" : " (may not approve their own request)"}` : "";
  return `  approvers: ${approvers} (${needs}${requester})`;
}

function describePolicies(options: CliOptions, policies: LocalPolicies): string {
  const lines = Object.values(policies.approvalPolicies).flatMap((policy) => [
    `  policy ${policy.name}${policy.name === policies.defaultPolicy ? " (used unless the input names another)" : ""}:`,
    ...policy.stages.map((stage, index) => `    stage ${index + 1}: ${stage.rules.map((rule) => `${rule.required} of ${rule.group} (${rule.members.join(", ")})${rule.escalateTo ? `, after ${rule.escalateAfterMinutes} min also ${rule.escalateTo}` : ""}`).join(" AND ")}`),
    ...policyLines({ policy, policyProgress: { stageOpenedAt: [], escalations: [] }, approvers: [], requiredApprovals: 0, allowSelfApproval: options.allowSelfApproval, votes: [], expiresAt: new Date(Date.now() + options.approvalTimeoutSeconds * 1000).toISOString() }).filter((line) => !/^(Policy|Stage) /.test(line)).map((line) => `    ${line}`),
  ]);
  return [...lines, ...(options.requestedBy ? [`  requested by ${options.requestedBy} (may not approve their own request)`] : [])].join("\n");
}

async function main(argv: string[]): Promise<number> {
  // Help needs no stack file, not even a readable one.
  const options = argv.includes("--help") ? parseCliOptions(argv, { transport: "functionUrl", approverEmails: [DEFAULT_LOCAL_APPROVER] }) : parseCliOptions(argv, localDefaultsFromStackFile(DEFAULT_LOCAL_APPROVER));
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const policies = readPolicies(options);
  if (policies) Object.assign(options, { approverEmails: [...new Set([...policies.approverEmails, ...(options.approverEmails.filter((address) => address !== DEFAULT_LOCAL_APPROVER))])] });
  const input = readInput(options, policies);
  // The gateway listens where --host says (startLocalApprovals takes no host of its own).
  process.env.LOCAL_GATEWAY_HOST = options.host;
  const logFile = path.join(OUTPUT_DIR, "handlers.log");
  const announcements = new Map<string, Promise<ExecutionOutcome>>();
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const local: LocalApprovals = await startLocalApprovals({
    transport: options.transport,
    approvalTimeoutSeconds: options.approvalTimeoutSeconds,
    approverEmails: options.approverEmails,
    requiredApprovals: options.requiredApprovals,
    allowSelfApproval: options.allowSelfApproval,
    port: options.port,
    // The deployed sweeper runs every minute; here every few seconds, so a recovery can be watched (also POST /sweep).
    sweepIntervalSeconds: LOCAL_SWEEP_INTERVAL_SECONDS,
    ...(policies ? { approvalPolicies: policies.approvalPolicies, remindIntervalSeconds: LOCAL_REMIND_INTERVAL_SECONDS } : {}),
    // As the component names the stack on every page and subject: here, the local mode.
    stackLabel: "local",
    // One account per approver, the requester, and someone who is neither (to see the 403 page).
    // Every approver and the requester are members of the local workspace.
    ...(options.slack ? { slack: { members: [...new Set([...options.approverEmails, ...(options.requestedBy ? [options.requestedBy] : [])])] } } : {}),
    ...(options.signIn ? { signIn: { accounts: [...new Set([...options.approverEmails, ...(options.requestedBy ? [options.requestedBy] : []), LOCAL_OUTSIDER])].map((login) => ({ login })) } } : {}),
    handlerLog: options.verbose ? (line) => console.log(line) : (line) => appendFileSync(logFile, line + "\n"),
    onExecution: (execution) => {
      console.log(`\nStarted execution ${execution.executionName}`);
      announcements.set(execution.executionName, announce(follow(execution), options));
    },
  });
  const stop = () => {
    // A second Ctrl-C does not wait for the clean shutdown.
    if (stopping) process.exit(130);
    stopping = true;
    console.log("\nStopped.");
    void local.close().finally(() => process.exit(finished && !options.serve ? 0 : 130));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  console.log(`Local approval workflow, transport ${local.transport}; no AWS account involved.`);
  console.log(`  decision endpoint (callbackUrl): ${local.callbackUrl}`);
  if (!isLoopbackHost(options.host)) {
    const port = new URL(local.origin).port;
    const elsewhere = networkAddresses().map((address) => `${address}:${port}`);
    console.error(
      `Warning: --host ${options.host}: the pages are served to every machine that can reach this one on port ${port}, over plain HTTP. Whoever holds a link can vote with it. The control API (/executions) still answers only this machine.` +
        (elsewhere.length ? ` From another machine, open a link with 127.0.0.1:${port} replaced by ${elsewhere.join(" or ")}.` : ""),
    );
  }
  console.log(policies ? describePolicies(options, policies) : describeApprovers(options));
  if (local.openIdProvider) {
    const provider = local.openIdProvider;
    console.log(`  sign-in: approvers sign in at a local OpenID provider, ${provider.issuer} (oidc-provider), before a link opens`);
    console.log(`    accounts: ${provider.accounts.map((account) => account.login).join(", ")}; password: ${provider.password}`);
    console.log(`    (${LOCAL_OUTSIDER} is no approver: signing in with it, or with another approver's account, shows who the link is for, and decides nothing)`);
  }
  if (local.slack) {
    console.log(`  Slack: each approver also gets a direct message in a local Slack stand-in; open ${local.slack.origin}/ to see them and press Approve or Reject`);
    console.log("    (each button sends Slack's interaction payload, signed with the app's signing secret, to <callbackUrl>/slack/interactions)");
  }
  if (!options.verbose) console.log(`  handler logs: ${shownPath(logFile)}`);
  if (options.serve) {
    const where = local.origin === "http://127.0.0.1:3000" ? "--local" : `--local-url ${local.origin}`;
    console.log(`  start more executions: curl -X POST ${local.origin}/executions -H 'Content-Type: application/json' -d '{"title":"..."}'`);
    console.log(`    or with the CLI, in another terminal: node cli/human-approval.js request --title "Rotate keys" --wait ${where}`);
    console.log(`    and see them: node cli/human-approval.js list ${where}`);
  }

  void watchNotices(local);
  const first = local.startExecution(input);
  if (options.serve) return new Promise<number>(() => undefined); // until Ctrl-C
  const outcome = await announcements.get(first.executionName)!;
  if (stopping) return new Promise<number>(() => undefined); // stop() exits
  const emailed = first.allEmails().some((email) => reviewUrlIn(email.message, local.callbackUrl) !== undefined);
  if (!emailed && outcome.status === "FAILED") {
    await local.close();
    return 1;
  }
  finished = true;
  // The result, "already decided" (409) and "expired" (410) pages are worth seeing after the end.
  console.log("\nThe execution has ended; the review pages are still served at the links above, so you can see how they answer now. Press Ctrl-C to stop.");
  return new Promise<number>(() => undefined); // stop() exits
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof PortInUseError) {
      const next = error.port > 0 && error.port < 65535 ? error.port + 1 : 0;
      console.error(`Error: port ${error.port} is in use: stop the other process, or use another port: ${commandWithPort(argv, next)}`);
      process.exit(2);
    }
    console.error(error instanceof UsageError ? errorLines(error) : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
