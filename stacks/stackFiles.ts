/** Reads the committed stack files (Pulumi.<stack>.yaml) the way Pulumi hands config to the program: strings, JSON for lists. */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { cliConfigForProgram, PulumiCliConfigError, readProject, stackValuesOf, type ProgramConfig, type StackValue } from "./pulumiCliConfig";
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

/** A stack file as `pulumi up` sees it: the config the CLI hands the program, or every problem with it. */
export interface CheckedStackFile {
  /** What the program is handed (Pulumi.yaml's defaults merged in); undefined when the CLI would stop. */
  config: ProgramConfig | undefined;
  /** The stack file's own values, as strings (JSON for lists), without the defaults. */
  values: Record<string, string>;
  /** One line per problem, each naming the file: the CLI's check first, worded as the CLI words it, then the program's. */
  problems: string[];
}

/** The first line of a parser's message, without the colon that introduces its code frame. */
const firstLineOf = (error: Error) => error.message.split("\n")[0].trim().replace(/:$/, "");

/**
 * Checks a stack file the way `pulumi preview`/`up` would, for `npm run plan` and `npm start` alike, so both
 * print the same lines. The CLI stops at its first problem; the program's checks still run on the file's values
 * so that every other problem is named at once (a key the CLI named is not named twice).
 * `fill` supplies values the caller provides when the file has none (the local mode's fallback approver).
 * A missing file is an ENOENT error for the caller to answer.
 */
export function checkStackFile(stack: string, options: { root?: string; stacksDir?: string; decrypt?: (ciphertext: string, key: string) => string; fill?: Record<string, unknown> } = {}): CheckedStackFile {
  const root = options.root ?? PROJECT_ROOT;
  const name = `Pulumi.${stack}.yaml`;
  const text = readFileSync(path.join(options.stacksDir ?? root, name), "utf8");
  let stackValues: Record<string, StackValue>;
  try {
    stackValues = stackValuesOf(parse(text, { prettyErrors: true }), name);
  } catch (error) {
    if (error instanceof Error && error.name === "YAMLParseError") return { config: undefined, values: {}, problems: [`${name} is not valid YAML: ${firstLineOf(error)}.`] };
    if (error instanceof Error && error.message.startsWith(name)) return { config: undefined, values: {}, problems: [error.message] };
    throw error;
  }
  for (const [key, value] of Object.entries(options.fill ?? {})) {
    stackValues[key] ??= typeof value === "string" ? { text: value, secure: false, object: false } : { text: JSON.stringify(value), secure: false, object: true };
  }
  const values = Object.fromEntries(Object.entries(stackValues).map(([key, value]) => [key, value.secure ? JSON.stringify({ secure: value.text }) : value.text]));
  let config: ProgramConfig | undefined;
  const problems: string[] = [];
  let namedByCli: string[] = [];
  try {
    config = cliConfigForProgram(stack, readProject(root), stackValues, options.decrypt);
  } catch (error) {
    if (!(error instanceof PulumiCliConfigError)) throw error;
    // The keys it names, after the stack's own name: `Stack 'dev' with configuration key 'x' ...`, `... missing configuration value 'x'`.
    namedByCli = [...error.message.matchAll(/'(\w+)'/g)].slice(1).map((match) => match[1]);
    const list = /key '(\w+)' must be of type 'array</.exec(error.message)?.[1];
    const hint = list ? `; set a list with pulumi config set --path 'human-approval:${list}[0]' <value>, or as a YAML list in the stack file` : "";
    problems.push(`${name}: ${error.message} (the Pulumi CLI's config check${hint})`);
  }
  const programProblems = stackFileProblems(name, config?.config ?? values);
  problems.push(...programProblems.filter((line) => !namedByCli.some((key) => line.startsWith(`${name}: human-approval:${key} `))));
  return { config, values, problems };
}
