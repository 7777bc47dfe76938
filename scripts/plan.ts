/**
 * Credential-free plans: what each stack would declare, without AWS or the Pulumi CLI.
 *
 *   npm run plan                  refresh plans/<stack>.yaml for every stack file
 *   npm run plan -- dev           refresh one stack's plan
 *   npm run plan -- --check       exit 1 if a committed plan is stale (what the tests run)
 *   --stacks-dir <dir>            read the stack files from another folder
 *
 * Each stack is planned in a child process: Pulumi mocks and the program are per process.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseStackConfig, type RawStackConfig } from "../stacks/config";
import * as pulumi from "@pulumi/pulumi";
import { checkStackFile, PROJECT_ROOT, stackNames } from "../stacks/stackFiles";
import { renderInventory, SECRET_PLACEHOLDER } from "./planInventory";

const PLANS_DIR = path.join(PROJECT_ROOT, "plans");
export const planFile = (stack: string, directory = PLANS_DIR) => path.join(directory, `${stack}.yaml`);

/** The stack file's settings are wrong: one line per problem, naming the file and the key. */
class ConfigProblems extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigProblems";
  }
}

/** What a config error says, one line per problem, or undefined for any other error (a bug: its stack trace helps). */
function problemLines(stack: string, error: unknown): string[] | undefined {
  const file = `Pulumi.${stack}.yaml`;
  if (error instanceof ConfigProblems) return error.problems;
  if (!(error instanceof Error)) return undefined;
  if ((error as NodeJS.ErrnoException).code === "ENOENT") return [`${file} cannot be read: no such file.`];
  if (pulumi.RunError.isInstance(error)) {
    const listed = error.message.split("\n").filter((line) => line.startsWith("  - ")).map((line) => `${file}: ${line.slice(4)}`);
    return listed.length ? listed : [`${file}: ${error.message}`];
  }
  return undefined;
}

/** In this process: run the program for one stack under mocks and return its inventory. */
async function emit(stack: string, root = PROJECT_ROOT): Promise<string> {
  // Loaded here, not at the top: the mocks must be installed before the program runs.
  const { declared, settled, useMocks, valueOf }: typeof import("../test/support/pulumiMocks") = require("../test/support/pulumiMocks");
  // What the Pulumi CLI hands the program: Pulumi.yaml's defaults merged in, its checks passed. Values set
  // with --secret are ciphertext here (`secure: v1:...`): the plan names them, never shows them.
  // Checked before the program runs, so that every problem is named at once, as one line each (as `npm start` names them).
  const { config, problems } = checkStackFile(stack, { stacksDir: root, decrypt: () => SECRET_PLACEHOLDER });
  if (problems.length > 0 || config === undefined) throw new ConfigProblems(problems);
  const { config: stackConfig, secretKeys } = config;
  useMocks(stack, stackConfig, secretKeys);
  const program: typeof import("../index") = require("../index");
  const outputs = {
    transport: program.transport,
    callbackUrl: await valueOf(program.callbackUrl),
    stateMachineArn: await valueOf(program.stateMachineArn),
    topicArn: await valueOf(program.topicArn),
    approvalsTable: await valueOf(program.approvalsTable),
  };
  await settled();
  const raw = Object.fromEntries(Object.entries(stackConfig).filter(([key]) => key.startsWith("human-approval:")).map(([key, value]) => [key.slice("human-approval:".length), value])) as RawStackConfig;
  return renderInventory({ stack, config: { ...parseStackConfig(raw), region: stackConfig["aws:region"] }, outputs, resources: declared });
}

function planInChildProcess(stack: string, root: string): string {
  return execFileSync(process.execPath, ["-r", "tsx/cjs", __filename, "--emit", stack, root], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    // The child's errors go straight to the terminal: config problems as one line each, nothing wrapped around them.
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function main(args: string[]): number {
  const check = args.includes("--check");
  const dirFlag = args.indexOf("--plans-dir");
  const directory = dirFlag >= 0 ? path.resolve(args[dirFlag + 1]) : PLANS_DIR;
  const rootFlag = args.indexOf("--stacks-dir");
  const root = rootFlag >= 0 ? path.resolve(args[rootFlag + 1]) : PROJECT_ROOT;
  const requested = args.filter((arg, index) => !arg.startsWith("--") && args[index - 1] !== "--plans-dir" && args[index - 1] !== "--stacks-dir");
  const known = stackNames(root);
  for (const stack of requested) {
    if (!known.includes(stack)) {
      console.error(`Error: no stack file Pulumi.${stack}.yaml; stacks are ${known.join(", ")}.`);
      return 2;
    }
  }
  const stale: string[] = [];
  for (const stack of requested.length ? requested : known) {
    let plan: string;
    try {
      plan = planInChildProcess(stack, root);
    } catch (error) {
      // The child said what went wrong; exit 2 is a config problem, anything else a failure.
      return (error as { status?: number }).status === 2 ? 2 : 1;
    }
    const file = planFile(stack, directory);
    if (check) {
      if (!existsSync(file) || readFileSync(file, "utf8") !== plan) stale.push(stack);
      continue;
    }
    mkdirSync(directory, { recursive: true });
    writeFileSync(file, plan);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  if (stale.length > 0) {
    console.error(`Stale plan${stale.length > 1 ? "s" : ""}: ${stale.map((stack) => `plans/${stack}.yaml`).join(", ")}.`);
    console.error(`The infrastructure changed: refresh with \`npm run plan -- ${stale.join(" ")}\` and commit the result, so the change shows as a diff.`);
    return 1;
  }
  if (check) console.log(`Plans are up to date: ${(requested.length ? requested : known).join(", ")}.`);
  return 0;
}

if (process.argv[2] === "--emit") {
  emit(process.argv[3], process.argv[4]).then(
    (plan) => process.stdout.write(plan, () => process.exit(0)),
    (error) => {
      const lines = problemLines(process.argv[3], error);
      if (lines) process.stderr.write(lines.map((line) => `Error: ${line}\n`).join(""), () => process.exit(2));
      else {
        console.error(error);
        process.exit(1);
      }
    },
  );
} else {
  process.exitCode = main(process.argv.slice(2));
}
