/**
 * Optional OpenID Connect sign-in in front of the review links. A link without a valid session for it
 * starts a login at the organisation's provider; the provider's redirect back (`GET /auth/callback`)
 * is checked against the login cookie of that attempt (single use), the code is exchanged and the ID
 * token checked; then a session cookie bound to that one link lets its approver see the page and vote.
 *
 * Cookies hold no secret in clear: they are sealed with keys derived from the client secret
 * (cookies.ts), which the decision function reads from Secrets Manager once per container.
 */
import { normaliseAddress } from "../../shared/address";
import type { HttpRequest } from "../httpEvent";
import { clearCookieHeader, deriveCookieKey, loginCookieName, parseCookies, seal, sessionCookieName, setCookieHeader, tagOf, unseal } from "./cookies";
import { OpenIdClient, ProviderUnavailableError, sameIssuer, SignInRejectedError, type OpenIdClientSettings } from "./openIdClient";

/** Where the provider sends the person back, under the endpoint's base URL. Every transport routes it. */
export const SIGN_IN_CALLBACK_PATH = "/auth/callback";
/** How long a signed-in approver may look and vote before signing in again. */
export const SESSION_SECONDS = 15 * 60;
/** How long a login may take at the provider. */
export const LOGIN_SECONDS = 10 * 60;

export interface SignInSettings extends OpenIdClientSettings {
  /** The OpenID client secret; read once per container (Secrets Manager), rejects when it cannot be read. */
  clientSecret(): Promise<string>;
}

/** A person the provider verified, with a session for one link. */
export interface VerifiedApprover {
  email: string;
  /** The issuer that verified `email`; `verifiedBy` in the vote and the output. */
  issuer: string;
}

/** Why a callback cannot sign anyone in; each has its own page. */
export type SignInFailure =
  /** The person cancelled at the provider (`error=access_denied`). */
  | "cancelled"
  /** The provider redirected back with another error. */
  | "providerError"
  /** No login of this browser matches the callback's `state`: forged, replayed, expired, or another browser. */
  | "noLoginInProgress"
  /** The provider's redirect itself was refused (e.g. an `iss` that is not our provider's). */
  | "responseRejected"
  /** The token endpoint refused the code: already used, issued to another client, or expired. */
  | "codeRejected"
  /** The ID token failed a check: signature, issuer, audience, expiry or nonce. */
  | "tokenRejected"
  /** The token carries no email address. */
  | "emailMissing"
  /** The provider does not vouch for the email address (`email_verified` is not true). */
  | "emailNotVerified"
  /** The email address is not plain printable ASCII (an invisible or look-alike character): refused before any comparison. */
  | "emailNotPlain";

export type CallbackResult =
  | { type: "signedIn"; linkId: string; choice?: string; approver: VerifiedApprover; signedInAt: number; cookies: string[] }
  | { type: "failed"; reason: SignInFailure; detail?: string; signedInAs?: string; cookies: string[] };

interface LoginState {
  v: 1;
  /** state, nonce, PKCE code verifier */
  s: string;
  n: string;
  c: string;
  /** The link to return to, and its preselected choice. */
  l: string;
  q?: string;
  /** Expiry, epoch seconds. */
  x: number;
}

interface SessionState {
  v: 1;
  /** A tag of the link id: the session opens this link only. */
  l: string;
  e: string;
  i: string;
  x: number;
}

const nowSeconds = (now: Date) => Math.floor(now.getTime() / 1000);
const isString = (value: unknown, max = 2048): value is string => typeof value === "string" && value.length > 0 && value.length <= max;

function asLoginState(value: unknown): LoginState | undefined {
  const state = value as Partial<LoginState> | undefined;
  if (!state || state.v !== 1 || !isString(state.s) || !isString(state.n) || !isString(state.c) || !isString(state.l) || typeof state.x !== "number") return undefined;
  return state as LoginState;
}

function asSessionState(value: unknown): SessionState | undefined {
  const state = value as Partial<SessionState> | undefined;
  if (!state || state.v !== 1 || !isString(state.l) || !isString(state.e, 320) || !isString(state.i) || typeof state.x !== "number") return undefined;
  return state as SessionState;
}

export class OpenIdSignIn {
  readonly issuer: string;
  private readonly client: OpenIdClient;
  private keys?: { secret: string; login: Buffer; session: Buffer };

  constructor(private readonly settings: SignInSettings) {
    this.issuer = settings.issuer;
    this.client = new OpenIdClient(settings);
  }

  /** Keys derived from the client secret, once per secret value. Throws when the secret cannot be read. */
  private async cookieKeys(): Promise<{ secret: string; login: Buffer; session: Buffer }> {
    const secret = await this.settings.clientSecret();
    if (this.keys?.secret !== secret) this.keys = { secret, login: deriveCookieKey(secret, "login"), session: deriveCookieKey(secret, "session") };
    return this.keys;
  }

  private cookiesOf(http: HttpRequest): Record<string, string> {
    return parseCookies(http.cookies);
  }

  /** The verified approver whose session for this link the request carries, or undefined (none, expired, tampered, another link's). */
  async session(http: HttpRequest, linkId: string, now: Date): Promise<VerifiedApprover | undefined> {
    const name = sessionCookieName(linkId);
    const value = this.cookiesOf(http)[name];
    if (value === undefined) return undefined;
    const { session: key } = await this.cookieKeys();
    const state = asSessionState(unseal(key, name, value));
    if (!state || state.l !== tagOf("session link", linkId) || state.x <= nowSeconds(now) || !sameIssuer(state.i, this.issuer)) return undefined;
    return { email: state.e, issuer: state.i };
  }

  /** The redirect to the provider, and the login cookie that the callback checks. */
  async beginLogin(http: HttpRequest, linkId: string, options: { choice?: string; prompt?: "login" }, now: Date): Promise<{ location: string; cookies: string[] }> {
    const { login: key } = await this.cookieKeys();
    const attempt = await OpenIdClient.newAttempt();
    const location = await this.client.authorizationUrl({ redirectUri: redirectUriOf(http), ...attempt, prompt: options.prompt }, now.getTime());
    const state: LoginState = { v: 1, s: attempt.state, n: attempt.nonce, c: attempt.codeVerifier, l: linkId, ...(options.choice ? { q: options.choice } : {}), x: nowSeconds(now) + LOGIN_SECONDS };
    const name = loginCookieName(attempt.state);
    return { location, cookies: [setCookieHeader(name, seal(key, name, state), LOGIN_SECONDS)] };
  }

  /** Checks the provider's redirect back; on success, the verified approver and the link they signed in for. */
  async completeLogin(http: HttpRequest, now: Date): Promise<CallbackResult> {
    const state = http.query.state;
    const name = isString(state, 512) ? loginCookieName(state) : undefined;
    // Single use: whatever happens next, this attempt's cookie is cleared.
    const cookies = name ? [clearCookieHeader(name)] : [];
    const failed = (reason: SignInFailure, detail?: string, signedInAs?: string): CallbackResult => ({ type: "failed", reason, detail, signedInAs, cookies });

    if (http.query.error !== undefined) return failed(http.query.error === "access_denied" ? "cancelled" : "providerError", http.query.error.slice(0, 64));
    if (!name) return failed("noLoginInProgress", "no state");
    const { login: key } = await this.cookieKeys();
    const login = asLoginState(unseal(key, name, this.cookiesOf(http)[name]));
    if (!login || login.s !== state) return failed("noLoginInProgress", "no login cookie for this state");
    if (login.x <= nowSeconds(now)) return failed("noLoginInProgress", "login expired");

    let identity;
    try {
      identity = await this.client.verifyCallback(
        { parameters: new URLSearchParams(Object.entries(http.query)), redirectUri: redirectUriOf(http), state: login.s, nonce: login.n, codeVerifier: login.c, clientSecret: (await this.cookieKeys()).secret },
        now.getTime(),
      );
    } catch (error) {
      if (error instanceof SignInRejectedError) return failed(error.reason, error.message.slice(0, 300));
      throw error;
    }
    if (!identity.email) return failed("emailMissing");
    if (!identity.emailVerified) return failed("emailNotVerified", undefined, identity.email);
    // "\u212Aate@example.com" (Kelvin sign) lower-cases to kate's address: only the plain form is ever compared.
    const email = normaliseAddress(identity.email);
    if (email === undefined) return failed("emailNotPlain", JSON.stringify(identity.email).slice(0, 330));
    return { type: "signedIn", linkId: login.l, choice: login.q, approver: { email, issuer: identity.issuer }, signedInAt: nowSeconds(now), cookies };
  }

  /** The session cookie for one link, after the callback matched the approver. */
  async sessionCookie(linkId: string, approver: VerifiedApprover, now: Date): Promise<string> {
    const { session: key } = await this.cookieKeys();
    const name = sessionCookieName(linkId);
    const state: SessionState = { v: 1, l: tagOf("session link", linkId), e: approver.email, i: approver.issuer, x: nowSeconds(now) + SESSION_SECONDS };
    return setCookieHeader(name, seal(key, name, state), SESSION_SECONDS);
  }
}

/** `<callbackUrl>/auth/callback`, from the request as the gateway received it (the REST API's stage included). */
export function redirectUriOf(http: HttpRequest): string {
  return `${http.publicBaseUrl}${SIGN_IN_CALLBACK_PATH}`;
}

export { ProviderUnavailableError };
