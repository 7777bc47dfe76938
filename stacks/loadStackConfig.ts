/**
 * The stack program's adapter from pulumi.Config to the pure parser in config.ts: reads the `human-approval`
 * namespace as the Pulumi CLI hands it to the program, secrets only as secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, parseStackConfig, SECRET_KEYS, StackConfigError, unknownKeyProblems, type ConfigKey, type RawStackConfig, type StackConfig } from "./config";
import { findProjectRoot, keysStoredInClear } from "./pulumiCliConfig";

/** Reads the `human-approval` namespace; a bad value fails preview and up with a RunError (no stack trace). */
export function loadStackConfig(given?: pulumi.Config, projectRoot = findProjectRoot(process.cwd())): StackConfig {
  const config = given ?? new pulumi.Config("human-approval");
  // Every key the stack sets, to refuse unknown ones; a test that hands in its own config checks only that.
  const allConfig = given ? {} : pulumi.runtime.allConfig();
  const raw: RawStackConfig = {};
  const secrets = new Map<ConfigKey, pulumi.Output<string>>();
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    if (!SECRET_KEYS.includes(key)) {
      raw[key] = config.get(key);
      continue;
    }
    // Read secrets only as secrets: their value never passes through a plain string here.
    const secret = config.getSecret(key);
    if (secret === undefined) continue;
    secrets.set(key, secret);
    raw[key] = "(secret)";
  }
  try {
    const problems: string[] = unknownKeyProblems(Object.keys(allConfig), allConfig);
    // A secret set without --secret sits in clear in the stack file, where the CLI would not refuse it (an
    // optional secret cannot be declared in Pulumi.yaml). Values from an ESC environment are not in the file.
    const inClear = given || !projectRoot ? [] : keysStoredInClear(pulumi.getStack(), [...secrets.keys()].map((key) => `human-approval:${key}`), projectRoot);
    for (const key of inClear) problems.push(`${key} is stored in clear in the stack file: set it again with pulumi config set --secret ${key} <value>.`);
    let parsed: StackConfig | undefined;
    try {
      parsed = parseStackConfig(raw);
    } catch (error) {
      if (!(error instanceof StackConfigError)) throw error;
      problems.push(...error.problems);
    }
    if (problems.length > 0 || !parsed) throw new StackConfigError(problems);
    if (parsed.signIn === undefined && raw.signInIssuer && secrets.has("signInClientSecret")) {
      parsed.signIn = { issuer: raw.signInIssuer.trim().replace(/\/+$/, ""), clientId: raw.signInClientId!.trim(), clientSecret: secrets.get("signInClientSecret")! };
    }
    if (secrets.has("slackSigningSecret") && secrets.has("slackBotToken")) {
      parsed.slack = { signingSecret: secrets.get("slackSigningSecret")!, botToken: secrets.get("slackBotToken")! };
    }
    return parsed;
  } catch (error) {
    if (error instanceof StackConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}
