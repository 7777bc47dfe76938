/**
 * `human-approval`: ask for an approval from a pipeline and wait for it, list and show requests, withdraw
 * one. Every failure is one line on stderr (never a stack trace) and exit code 64 (usage or configuration)
 * or 70 (a failure); see options.ts for the exit codes and the command line, commands.ts for the commands.
 */
import { runCommand, type Io } from "./commands";
import { CliError, EXIT, parseCommandLine } from "./options";
import { locateStack, regionOf, stackClient } from "./stack";

/** The one line to show for any error: ours as they are, AWS's with their name (e.g. AccessDeniedException). */
export function errorLine(error: unknown): string {
  if (error instanceof CliError) return error.message;
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  const first = String(message ?? error).split("\n")[0].trim();
  return name && name !== "Error" && !first.startsWith(name) ? `${name}: ${first}` : first;
}

export function processIo(): Io {
  const interactive = Boolean(process.stdout.isTTY);
  let shown = false;
  return {
    out: (line) => void process.stdout.write(line + "\n"),
    err: (line) => void process.stderr.write(line + "\n"),
    progress: interactive
      ? {
          update(line) {
            const width = process.stdout.columns || 100;
            process.stdout.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
            shown = true;
          },
          clear() {
            if (shown) process.stdout.write("\r\x1b[2K");
            shown = false;
          },
        }
      : undefined,
    env: process.env,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let json = argv.includes("--json");
  try {
    const command = parseCommandLine(argv);
    if (command.name === "help") {
      io.out(command.text);
      return EXIT.ok;
    }
    json = command.json;
    const stack = await locateStack(command.resources, io.env);
    const reference = "reference" in command ? command.reference : undefined;
    const client = stackClient(stack, regionOf(stack.stateMachineArn) ?? regionOf(reference));
    try {
      return await runCommand(command, { io, stack, client });
    } finally {
      client.close();
    }
  } catch (error) {
    io.progress?.clear();
    const line = errorLine(error);
    io.err(`human-approval: error: ${line}`);
    if (json) io.out(JSON.stringify({ error: line, ...(error instanceof CliError ? error.context : {}) }, null, 2));
    return error instanceof CliError ? error.exitCode : EXIT.failure;
  }
}
