/** Reads the committed stack files (Pulumi.<stack>.yaml) the way Pulumi hands config to the program: strings, JSON for lists. */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { stackValuesOf } from "./pulumiCliConfig";
import { parseStackConfig, StackConfigError, unknownKeyProblems, type RawStackConfig } from "./config";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The stacks that have a stack file: dev, staging, prod, ... */
export function stackNames(root = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/**
 * Every config value of the stack file, keyed as Pulumi keys it (`human-approval:transport`, `aws:region`).
 * A file that is not valid YAML, or not shaped like a stack file, is an error (with the line), never an empty config.
 */
export function readStackFile(stack: string, root = PROJECT_ROOT): Record<string, string> {
  const name = `Pulumi.${stack}.yaml`;
  const values = stackValuesOf(parse(readFileSync(path.join(root, name), "utf8"), { prettyErrors: true }), name);
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value.secure ? JSON.stringify({ secure: value.text }) : value.text]));
}

/**
 * Every problem with a stack file's `human-approval` settings, one line each, naming the file:
 * unknown or misspelled keys, and bad values. Empty when `pulumi up` would accept them.
 */
export function stackFileProblems(fileName: string, values: Record<string, string>): string[] {
  const raw = Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith("human-approval:")).map(([key, value]) => [key.slice("human-approval:".length), value])) as RawStackConfig;
  const problems = unknownKeyProblems(Object.keys(values), values);
  try {
    parseStackConfig(raw);
  } catch (error) {
    if (!(error instanceof StackConfigError)) throw error;
    problems.push(...error.problems);
  }
  return problems.map((problem) => `${fileName}: ${problem}`);
}
