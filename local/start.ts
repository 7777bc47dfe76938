/**
 * `npm start`: the approval workflow end to end on this machine, no AWS account.
 * See cliOptions.ts for the options, localApprovals.ts for what runs.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT, readStackFile } from "../stacks/stackFiles";
import type { Transport } from "../functions/decision/httpEvent";
import { formatRemaining } from "../functions/shared/text";
import { parseCliOptions, SAMPLE_INPUT, UsageError, USAGE, type CliOptions } from "./cliOptions";
import { PortInUseError } from "./gateway";
import { startLocalApprovals, type LocalApprovals, type LocalExecution } from "./localApprovals";
import type { ExecutionOutcome } from "./stepFunctions";

/** Set on Ctrl-C: from then on the shutdown owns the output and the exit code. */
let stopping = false;
const OUTPUT_DIR = path.join(PROJECT_ROOT, ".local");

function devStackTransport(): Transport {
  try {
    return (readStackFile("dev")["human-approval:transport"] as Transport | undefined) ?? "functionUrl";
  } catch {
    return "functionUrl";
  }
}

function readInput(file: string | undefined): unknown {
  if (!file) return SAMPLE_INPUT;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read input file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Input file ${file} is not valid JSON: ${(error as Error).message}.`);
  }
}

function printOutcome(execution: LocalExecution, outcome: ExecutionOutcome) {
  console.log(`\nExecution ${execution.executionName} ${outcome.status}`);
  console.log(`  path:   ${outcome.path.join(" -> ")}`);
  if (outcome.status === "SUCCEEDED") console.log(`  output: ${JSON.stringify(outcome.output, null, 2).split("\n").join("\n  ")}`);
  else console.log(`  error:  ${outcome.error?.name}: ${outcome.error?.cause}`);
}

async function announce(execution: LocalExecution, options: CliOptions) {
  const email = await execution.email;
  mkdirSync(path.join(OUTPUT_DIR, "emails"), { recursive: true });
  const file = path.join(OUTPUT_DIR, "emails", `${execution.executionName}.txt`);
  writeFileSync(file, `Subject: ${email.subject}\n\n${email.message}\n`);
  const rule = "-".repeat(72);
  console.log(`\nEmail sent to the approvers (saved to ${path.relative(process.cwd(), file)}):\n${rule}\nSubject: ${email.subject}\n\n${email.message}\n${rule}`);
  const expiresAt = new Date(Date.now() + options.approvalTimeoutSeconds * 1000).toISOString();
  console.log(`\nOpen the review link in a browser:\n  ${email.reviewUrl}\nWaiting for a decision (expires in ${formatRemaining(expiresAt, new Date())}; Ctrl-C to stop)...`);
  const outcome = await execution.outcome;
  if (!stopping) printOutcome(execution, outcome);
}

async function main(): Promise<number> {
  const options = parseCliOptions(process.argv.slice(2), { transport: devStackTransport() });
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const input = readInput(options.inputFile);
  const logFile = path.join(OUTPUT_DIR, "handlers.log");
  const announcements = new Map<string, Promise<void>>();
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const local: LocalApprovals = await startLocalApprovals({
    transport: options.transport,
    approvalTimeoutSeconds: options.approvalTimeoutSeconds,
    port: options.port,
    handlerLog: options.verbose ? (line) => console.log(line) : (line) => appendFileSync(logFile, line + "\n"),
    onExecution: (execution) => {
      console.log(`\nStarted execution ${execution.executionName}`);
      announcements.set(execution.executionName, announce(execution, options));
    },
  });
  const stop = () => {
    // A second Ctrl-C does not wait for the clean shutdown.
    if (stopping) process.exit(130);
    stopping = true;
    console.log("\nStopped.");
    void local.close().finally(() => process.exit(130));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  console.log(`Local approval workflow, transport ${local.transport}; no AWS account involved.`);
  console.log(`  decision endpoint (callbackUrl): ${local.callbackUrl}`);
  if (!options.verbose) console.log(`  handler logs: ${path.relative(process.cwd(), logFile)}`);
  if (options.serve) console.log(`  start more executions: curl -X POST ${local.origin}/executions -H 'Content-Type: application/json' -d '{"title":"..."}'`);

  const first = local.startExecution(input);
  if (!options.serve) {
    await announcements.get(first.executionName);
    if (stopping) return new Promise<number>(() => undefined); // stop() exits
    await local.close();
    return 0;
  }
  return new Promise<number>(() => undefined); // until Ctrl-C
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    const known = error instanceof UsageError || error instanceof PortInUseError;
    console.error(known ? `Error: ${error.message}` : error);
    process.exit(known ? 2 : 1);
  },
);
