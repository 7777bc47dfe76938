/**
 * The sign-in cookies: sealed (AES-256-GCM, so they are encrypted and tamper-evident) with keys derived
 * by HKDF from the OpenID client secret, which only the decision function's role can read. Each
 * purpose has its own key and each cookie's name is authenticated with its value, so a login cookie can
 * never pass for a session, nor one link's session for another's.
 *
 * Cookies are `__Host-` prefixed: the browser only accepts them with `Secure`, `Path=/` and no `Domain`,
 * so no other host (not even a sibling subdomain) can set or overwrite them.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

export type CookiePurpose = "login" | "session";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = "v1";

/** A key for one purpose; the client secret itself never touches a cookie. */
export function deriveCookieKey(clientSecret: string, purpose: CookiePurpose): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(clientSecret, "utf8"), Buffer.from("human-approval sign-in", "utf8"), Buffer.from(`cookie ${purpose} ${VERSION}`, "utf8"), 32));
}

/** Encrypts and authenticates `payload` for the cookie called `name`. */
export function seal(key: Buffer, name: string, payload: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(name, "utf8"));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString("base64url");
}

/** The payload, or undefined when the value was not sealed by us for this name (tampered, foreign, truncated). */
export function unseal(key: Buffer, name: string, value: string | undefined): unknown {
  if (value === undefined || !/^[A-Za-z0-9_-]{40,4096}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, "base64url");
  if (bytes.length < IV_BYTES + TAG_BYTES + 2) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(name, "utf8"));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A short, stable, non-reversible tag of a value, for cookie names and bindings. */
export function tagOf(purpose: string, value: string, length = 22): string {
  return createHash("sha256").update(`human-approval ${purpose}\n${value}`, "utf8").digest("base64url").slice(0, length);
}

/** The login cookie of one sign-in attempt, named after its `state`, so parallel sign-ins (two tabs) do not collide. */
export const loginCookieName = (state: string) => `__Host-approval-login-${tagOf("login cookie", state, 16)}`;
/** The session cookie of one link: a person may have several links open, each with its own session. */
export const sessionCookieName = (linkId: string) => `__Host-approval-session-${tagOf("session cookie", linkId, 16)}`;

/** `__Host-`: Secure, Path=/, no Domain. HttpOnly (no script reads it), SameSite=Lax (sent on the provider's redirect back). */
export function setCookieHeader(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

export function clearCookieHeader(name: string): string {
  return `${name}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** Cookies from `Cookie` headers (payload 1.0) or the `cookies` array (payload 2.0); the first of a name wins. */
export function parseCookies(sources: string[]): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null);
  for (const source of sources) {
    for (const pair of source.split(";")) {
      const at = pair.indexOf("=");
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim();
      if (name && !(name in cookies)) cookies[name] = pair.slice(at + 1).trim();
    }
  }
  return cookies;
}
