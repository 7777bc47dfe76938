/**
 * The Pulumi CLI's config stage, reproduced: what `pulumi preview` and `pulumi up` do with Pulumi.yaml and
 * Pulumi.<stack>.yaml before the program runs, and what the program is then handed. No Pulumi CLI can be
 * installed here, so `npm run plan`, `npm start` and the program tests go through this instead of feeding the
 * stack file straight into the mocks. Each step names the CLI source it mirrors (pulumi/pulumi,
 * sdk/go/common/workspace/project.go and config.go; sdk/go/common/resource/config/value.go):
 *
 * 1. Project validation (`Project.Validate`): an array type needs `items`; a typed key's default must be of its type.
 * 2. Stack values (`config.Value` unmarshalling): a scalar is a plain string (`60`, `true`, `1.5` as written);
 *    `{secure: …}` is an encrypted value; a list or map is an object value, handed over as JSON.
 * 3. `mergeConfig`: every project key the stack does not set is copied onto the stack from its `default`,
 *    as a plain value when the default is a string, integer or boolean (`createConfigValue`), as an object
 *    value otherwise. Project keys with neither a stack value nor a default are missing: one error names them all.
 * 4. `validateStackConfigValues`: for each typed project key, in key order, the first failure ends the run:
 *    a `secret: true` key whose value is not secure ("must be encrypted as it's secret"), then the type
 *    (`ValidateConfigValue`: integers as whole numbers or strings that parse; booleans as true/false; arrays item by item).
 * 5. The language host hands the program every value as a string (objects as JSON) and the list of keys
 *    whose values were secure (the program sees them as secrets).
 * Keys the project does not declare pass through: current CLIs accept them (older ones, before ESC, refused them).
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface ConfigItemsType {
  type: string;
  items?: ConfigItemsType;
}

/** One entry of Pulumi.yaml's `config:` block. */
export interface ProjectConfigType extends Partial<ConfigItemsType> {
  description?: string;
  default?: unknown;
  secret?: boolean;
}

export interface Project {
  name: string;
  config: Record<string, ProjectConfigType>;
}

/** A stack config value as the CLI holds it (`config.Value`). */
export interface StackValue {
  /** The plain text; for an object value its JSON; for a secure value its ciphertext. */
  text: string;
  secure: boolean;
  object: boolean;
}

/** What the program is handed: every value as a string, and which keys were secrets. */
export interface ProgramConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

/** An error the Pulumi CLI would print before the program runs; the message is the CLI's own. */
export class PulumiCliConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PulumiCliConfigError";
  }
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The folder of the nearest Pulumi.yaml at or above `from` (the CLI runs a program from its project folder). */
export function findProjectRoot(from: string): string | undefined {
  for (let folder = path.resolve(from); ; folder = path.dirname(folder)) {
    if (existsSync(path.join(folder, "Pulumi.yaml"))) return folder;
    if (path.dirname(folder) === folder) return undefined;
  }
}

/** Where the CLI keeps a stack's settings: `Pulumi.<stack>.yaml` beside Pulumi.yaml, or in its `stackConfigDir`. */
export function stackFilePath(stack: string, root: string): string {
  const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { stackConfigDir?: string } | null;
  return path.join(root, project?.stackConfigDir ?? "", `Pulumi.${stack}.yaml`);
}

/**
 * Which of these keys the stack file holds in clear (set without --secret). The program reads secrets only as
 * secrets and cannot tell through Pulumi's public API how a value was stored, so it reads the file the CLI
 * wrote. A key that is not in the file (no file, an ESC environment, the Automation API) is not reported.
 */
export function keysStoredInClear(stack: string, keys: string[], root: string): string[] {
  const file = stackFilePath(stack, root);
  if (!existsSync(file)) return [];
  const values = stackValuesOf(parse(readFileSync(file, "utf8")), path.basename(file));
  return keys.filter((key) => values[key] !== undefined && !values[key].secure);
}

/** `Pulumi.yaml`, with the shorthand config entries (`key: value`) rewritten as the CLI does (`RewriteShorthandConfigValues`). */
export function readProject(root: string): Project {
  const document = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, unknown> };
  const config: Record<string, ProjectConfigType> = {};
  for (const [key, entry] of Object.entries(document.config ?? {})) config[key] = isMap(entry) ? (entry as ProjectConfigType) : { default: entry };
  return { name: document.name, config };
}

/** `InferFullTypeName`: `array<string>`, `integer`, … */
export function fullTypeName(type: string, items?: ConfigItemsType): string {
  return items ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** `ValidateConfigValue`: does a value (a string, or parsed JSON for object values) fit the declared type? */
export function fitsType(type: string, items: ConfigItemsType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      // YAML and JSON numbers arrive as floats (whole ones pass); strings pass when strconv.Atoi parses them.
      if (typeof value === "number") return Number.isInteger(value);
      return typeof value === "string" && /^[+-]?\d+$/.test(value);
    case "boolean":
      return value === true || value === false || value === "true" || value === "false";
    case "object":
      return isMap(value);
    default:
      return Array.isArray(value) && items !== undefined && value.every((item) => fitsType(items.type, items.items, item));
  }
}

/** `Project.Validate`, for the config block. */
export function validateProject(project: Project): void {
  for (const [key, declared] of Object.entries(project.config)) {
    if (!declared.type) continue;
    if (declared.type === "array" && !declared.items) {
      throw new PulumiCliConfigError(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
    }
    if (declared.default !== undefined && !fitsType(declared.type, declared.items, declared.default)) {
      throw new PulumiCliConfigError(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(declared.type, declared.items)}'`);
    }
  }
}

/** A stack file's `config:` values as the CLI reads them (`config.Value` from YAML). */
export function stackValuesOf(document: unknown, fileName: string): Record<string, StackValue> {
  if (document === null || document === undefined) return {};
  if (!isMap(document)) throw new Error(`${fileName} is not a stack file: it must be a YAML map with a config: section.`);
  const values = document.config ?? {};
  if (!isMap(values)) throw new Error(`${fileName}: config: must be a map of keys like human-approval:transport, not ${JSON.stringify(values)}.`);
  const read: Record<string, StackValue> = {};
  for (const [key, value] of Object.entries(values)) {
    if (isMap(value) && Object.keys(value).length === 1 && typeof value.secure === "string") read[key] = { text: value.secure, secure: true, object: false };
    else if (isMap(value) || Array.isArray(value)) read[key] = { text: JSON.stringify(value), secure: false, object: true };
    else read[key] = { text: value === null ? "" : String(value), secure: false, object: false };
  }
  return read;
}

/** The project key's full name: unnamespaced keys belong to the project (`parseConfigKey`). */
const fullKey = (project: Project, key: string) => (key.includes(":") ? key : `${project.name}:${key}`);

/** `createConfigValue`: a project default as a stack value. */
function defaultValue(value: unknown): StackValue {
  const primitive = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isInteger(value));
  return primitive ? { text: String(value), secure: false, object: false } : { text: JSON.stringify(value), secure: false, object: true };
}

/** `formatMissingKeys`. */
function formatMissing(keys: string[]): string {
  if (keys.length === 1) return `'${keys[0]}'`;
  const sorted = [...keys].sort();
  return sorted.map((key, index) => (index === sorted.length - 1 ? `and '${key}'` : index === sorted.length - 2 ? `'${key}' ` : `'${key}', `)).join("");
}

/**
 * `mergeConfig` then `validateStackConfigValues`, as `pulumi preview`/`up` run them, and the config the program
 * is handed. `decrypt` stands in for the secrets provider (tests cannot decrypt: they hand over a placeholder).
 * Throws a PulumiCliConfigError with the CLI's message where the CLI would stop.
 */
export function cliConfigForProgram(stack: string, project: Project, stackValues: Record<string, StackValue>, decrypt: (ciphertext: string, key: string) => string = () => "[secret]"): ProgramConfig {
  validateProject(project);
  const merged: Record<string, StackValue> = { ...stackValues };
  const missing: string[] = [];
  for (const key of Object.keys(project.config).sort()) {
    const declared = project.config[key];
    const name = fullKey(project, key);
    if (name in merged) continue;
    if (declared.default === undefined) {
      if (name.startsWith(`${project.name}:`)) missing.push(key);
      continue;
    }
    merged[name] = defaultValue(declared.default);
  }
  if (missing.length > 0) throw new PulumiCliConfigError(`Stack '${stack}' is missing configuration value${missing.length > 1 ? "s" : ""} ${formatMissing(missing)}`);
  for (const key of Object.keys(project.config).sort()) {
    const declared = project.config[key];
    const value = merged[fullKey(project, key)];
    if (!declared.type || value === undefined) continue;
    if (declared.secret && !value.secure) throw new PulumiCliConfigError(`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`);
    const plain = value.secure ? decrypt(value.text, key) : value.text;
    const content: unknown = value.object ? JSON.parse(plain) : plain;
    if (!fitsType(declared.type, declared.items, content)) {
      throw new PulumiCliConfigError(`Stack '${stack}' with configuration key '${key}' must be of type '${fullTypeName(declared.type, declared.items)}'`);
    }
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(merged)) {
    config[key] = value.secure ? decrypt(value.text, key) : value.text;
    if (value.secure) secretKeys.push(key);
  }
  return { config, secretKeys };
}

/**
 * Pulumi.yaml and Pulumi.<stack>.yaml through the CLI's config stage. The stack file is read from `stacksDir`
 * (the project's own place for it by default; another folder for `npm run plan -- --stacks-dir`).
 */
export function cliConfigOfStackFile(stack: string, projectRoot: string, decrypt?: (ciphertext: string, key: string) => string, stacksDir?: string): ProgramConfig {
  const file = stacksDir ? path.join(stacksDir, `Pulumi.${stack}.yaml`) : stackFilePath(stack, projectRoot);
  const document = parse(readFileSync(file, "utf8"), { prettyErrors: true }) as unknown;
  return cliConfigForProgram(stack, readProject(projectRoot), stackValuesOf(document, path.basename(file)), decrypt);
}
