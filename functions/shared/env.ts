/** Reads and validates the environment once, at cold start, with errors that name the variable. */
import { normaliseAddress } from "./address";
export class ConfigurationError extends Error {
  override name = "ConfigurationError";
}

export type Environment = Record<string, string | undefined>;

export function requireEnv(env: Environment, name: string, meaning: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new ConfigurationError(`Environment variable ${name} is not set: it must hold ${meaning}.`);
  }
  return value.trim();
}

export function requirePositiveIntegerEnv(env: Environment, name: string, meaning: string): number {
  const raw = requireEnv(env, name, meaning);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigurationError(`Environment variable ${name} is "${raw}": it must be a whole number of at least 1 (${meaning}).`);
  }
  return value;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** An https URL; plain http only on loopback, for the local mode. Returned without a trailing slash. */
export function requireHttpsUrlEnv(env: Environment, name: string, meaning: string): string {
  const raw = requireEnv(env, name, meaning);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`Environment variable ${name} is "${raw}": it must be an absolute URL (${meaning}).`);
  }
  const isLocalHttp = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !isLocalHttp) {
    throw new ConfigurationError(`Environment variable ${name} is "${raw}": it must be an https URL (${meaning}).`);
  }
  return raw.replace(/\/+$/, "");
}

/** A comma-separated list of email addresses, returned in their normalised form (printable ASCII, lower case). */
export function requireEmailListEnv(env: Environment, name: string, meaning: string): string[] {
  const raw = requireEnv(env, name, meaning);
  const entries = raw.split(",").filter((item) => item.trim());
  const bad = entries.find((entry) => normaliseAddress(entry) === undefined);
  if (entries.length === 0 || bad !== undefined) {
    throw new ConfigurationError(`Environment variable ${name} is "${raw}": it must be ${meaning} (bad entry: ${bad ?? "none given"}).`);
  }
  return entries.map((entry) => normaliseAddress(entry)!);
}
