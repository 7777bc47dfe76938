/**
 * Runs the `human-approval` CLI as a child process (exactly as docs/cli.md and the approval gate run it:
 * `node cli/human-approval.js`, the package's bin) against a local stack started in this process. Spawned asynchronously: the local stack answers from
 * this process's event loop.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import type { LocalApprovals, LocalExecution } from "../../local/localApprovals";

export const ROOT = path.resolve(__dirname, "../..");
export const BIN = path.join(ROOT, require(path.join(ROOT, "package.json")).bin["human-approval"]);

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without any AWS setting of this process (the local stack sets some): the CLI must find its own. */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_") && !name.startsWith("HUMAN_APPROVAL_")));
  return { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...extra };
}

export interface RunningCli {
  done: Promise<CliRun>;
  /** What it printed so far. */
  stdout(): string;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { done, stdout: () => stdout };
}

export const runCli = (args: string[], env: NodeJS.ProcessEnv, cwd?: string) => startCli(args, env, cwd).done;

/** The CLI pointed at this local stack with --local (and nothing else). */
export function localCli(local: LocalApprovals) {
  const env = cleanEnvironment({ HUMAN_APPROVAL_LOCAL_URL: local.origin });
  return {
    env,
    run: (...args: string[]) => runCli([...args, "--local"], env),
    start: (...args: string[]) => startCli([...args, "--local"], env),
  };
}

/** The executions a local stack started, in order (pass `add` as its `onExecution`); `next()` waits for one, no polling. */
export class StartedExecutions {
  readonly all: LocalExecution[] = [];
  private readonly waiting: Array<{ index: number; resolve(execution: LocalExecution): void }> = [];

  readonly add = (execution: LocalExecution): void => {
    this.all.push(execution);
    for (const waiter of this.waiting.splice(0)) {
      if (waiter.index < this.all.length) waiter.resolve(this.all[waiter.index]);
      else this.waiting.push(waiter);
    }
  };

  /** Resolves with the first execution started after those started so far (the CLI's StartExecution). */
  next(): Promise<LocalExecution> {
    const index = this.all.length;
    return new Promise((resolve) => this.waiting.push({ index, resolve }));
  }
}

/** Resolves with the next execution the local stack starts (the CLI's StartExecution). */
export const nextExecution = (started: StartedExecutions): Promise<LocalExecution> => started.next();

/** A vote through the decision endpoint's JSON API, as a chat bot would cast it. */
export async function vote(reviewUrl: string, decision: "approve" | "reject", comment = ""): Promise<number> {
  const response = await fetch(reviewUrl, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision, comment }) });
  await response.arrayBuffer();
  return response.status;
}

/** Each asked approver's review link, by address. */
export async function linksOf(execution: LocalExecution): Promise<Record<string, string>> {
  return Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl]));
}

/** Everything a run printed must hold no link id and no task token. */
export function assertNothingSecret(output: string, links: string[]) {
  for (const link of links) {
    const id = link.split("/requests/")[1];
    if (output.includes(id)) throw new Error(`the output holds the link id ${id}`);
  }
  if (/AQCEAAAAKgAAAAMAAAAA/.test(output)) throw new Error("the output holds a task token");
  if (/\/requests\//.test(output)) throw new Error("the output holds a review link");
}

/** One line, no stack trace, the exit code of a usage or configuration error (64) unless told otherwise. */
export function assertOneLineError(run: CliRun, pattern: RegExp, exitCode = 64) {
  const lines = run.stderr.trim().split("\n");
  if (run.code !== exitCode) throw new Error(`exit ${run.code}, expected ${exitCode}; stderr: ${run.stderr}; stdout: ${run.stdout}`);
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${run.stderr}`);
  if (!lines[0].startsWith("human-approval: error: ")) throw new Error(`unexpected stderr: ${run.stderr}`);
  if (!pattern.test(lines[0])) throw new Error(`stderr ${JSON.stringify(lines[0])} does not match ${pattern}`);
  if (/\n\s+at /.test(run.stderr + run.stdout)) throw new Error("a stack trace was printed");
}
