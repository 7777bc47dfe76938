/** Reads the committed stack files (Pulumi.<stack>.yaml) the way Pulumi hands config to the program: strings, JSON for lists. */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The stacks that have a stack file: dev, staging, prod, ... */
export function stackNames(root = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/** Every config value of the stack file, keyed as Pulumi keys it (`human-approval:transport`, `aws:region`). */
export function readStackFile(stack: string, root = PROJECT_ROOT): Record<string, string> {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  const values = (parse(readFileSync(file, "utf8"))?.config ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
}
