/**
 * The relying party's side of OpenID Connect, over `oauth4webapi`: discovery, the authorization URL
 * (code flow, PKCE S256, state, nonce), the code exchange with the client secret, and the ID token's
 * checks (issuer, audience, expiry, nonce, and its signature against the provider's published keys).
 * The library is loaded on first use, so a stack without sign-in never evaluates it.
 */
import type * as OAuth from "oauth4webapi";

/** The provider could not be reached or answered with a server error: try again later (503). */
export class ProviderUnavailableError extends Error {
  override name = "ProviderUnavailableError";
}

/** What the provider or its token said cannot be accepted; the reason is for logs, never a secret. */
export class SignInRejectedError extends Error {
  override name = "SignInRejectedError";
  constructor(readonly reason: "codeRejected" | "tokenRejected" | "responseRejected", message: string) {
    super(message);
  }
}

export interface OpenIdClientSettings {
  /** `signInIssuer`: discovery is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** HTTP for discovery, the token endpoint and the key set; the global fetch unless a test injects one. */
  fetch?: typeof fetch;
  /** Per call to the provider; the decision function's own timeout is 20 s. */
  timeoutMs?: number;
}

/** The identity an ID token asserted, once every check passed. */
export interface VerifiedIdentity {
  /** The token's `iss`: the provider's exact issuer identifier. */
  issuer: string;
  subject: string;
  email?: string;
  /** `email_verified`, or for Microsoft Entra ID (which never sends it) the `xms_edov` optional claim. */
  emailVerified: boolean;
}

const DEFAULT_TIMEOUT_MS = 3_000;
/** Discovery and keys are re-read after this, so a provider's configuration changes reach a warm container. */
const METADATA_MAX_AGE_MS = 60 * 60 * 1000;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

let oauthModule: Promise<typeof OAuth> | undefined;
const loadOAuth = () => (oauthModule ??= import("oauth4webapi"));

const withoutTrailingSlash = (value: string) => value.replace(/\/+$/, "");
/** Issuer identifiers compared as configured: one trailing slash (some providers add it) makes no difference. */
export const sameIssuer = (a: string, b: string) => withoutTrailingSlash(a) === withoutTrailingSlash(b);

/** No answer at all: a timeout, a refused or reset connection. */
function isNetworkFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TimeoutError" || error.name === "AbortError") return true;
  // fetch rejects with a plain TypeError ("fetch failed"); oauth4webapi's own TypeErrors carry a `code` (ERR_…).
  return error instanceof TypeError && typeof (error as { code?: unknown }).code !== "string";
}

/** A server error (5xx) of the provider, however the library reports it. */
function isServerError(error: unknown): boolean {
  const status = (error as { status?: unknown; cause?: { status?: unknown } } | undefined)?.status ?? (error as { cause?: { status?: unknown } } | undefined)?.cause?.status;
  return typeof status === "number" && status >= 500;
}

export class OpenIdClient {
  private server?: { metadata: Promise<OAuth.AuthorizationServer>; loadedAt: number };
  /** oauth4webapi keeps the provider's key set here between invocations of a warm container. */
  private keySetCache: Record<string, never> | OAuth.ExportedJWKSCache = {};
  private readonly client: OAuth.Client;

  constructor(private readonly settings: OpenIdClientSettings) {
    this.client = { client_id: settings.clientId };
  }

  private requestOptions(oauth: typeof OAuth) {
    const timeoutMs = this.settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Plain http only for a provider on this machine (the local mode); config accepts https issuers only.
    const issuerHost = new URL(this.settings.issuer).hostname;
    const insecure = new URL(this.settings.issuer).protocol === "http:" && LOOPBACK_HOSTS.has(issuerHost);
    return {
      [oauth.customFetch]: this.settings.fetch ?? fetch,
      [oauth.allowInsecureRequests]: insecure,
      signal: () => AbortSignal.timeout(timeoutMs),
    };
  }

  /** The provider's metadata, discovered once per container (and again after an hour or a failure). */
  private authorizationServer(oauth: typeof OAuth, now: number): Promise<OAuth.AuthorizationServer> {
    if (this.server && now - this.server.loadedAt < METADATA_MAX_AGE_MS) return this.server.metadata;
    const metadata = this.discover(oauth);
    this.server = { metadata, loadedAt: now };
    metadata.catch(() => (this.server = undefined));
    return metadata;
  }

  private async discover(oauth: typeof OAuth): Promise<OAuth.AuthorizationServer> {
    const configured = new URL(this.settings.issuer);
    let response: Response;
    try {
      response = await oauth.discoveryRequest(configured, this.requestOptions(oauth));
    } catch (error) {
      throw new ProviderUnavailableError(`OpenID discovery failed: ${(error as Error).message}`);
    }
    // Accept the provider's own spelling of its identifier when it differs from the config by a trailing slash.
    const body = (await response.clone().json().catch(() => undefined)) as { issuer?: unknown } | undefined;
    const expected = typeof body?.issuer === "string" && sameIssuer(body.issuer, this.settings.issuer) ? new URL(body.issuer) : configured;
    try {
      return await oauth.processDiscoveryResponse(expected, response);
    } catch (error) {
      // A provider that answers, but not with its metadata for this issuer, cannot be used now either.
      throw new ProviderUnavailableError(`OpenID discovery answered unusably (HTTP ${response.status}): ${(error as Error).message}`);
    }
  }

  /** Where to send the person: the provider's authorization endpoint with this attempt's parameters. */
  async authorizationUrl(attempt: { redirectUri: string; state: string; nonce: string; codeVerifier: string; prompt?: "login" }, now: number): Promise<string> {
    const oauth = await loadOAuth();
    const server = await this.authorizationServer(oauth, now);
    if (!server.authorization_endpoint) throw new ProviderUnavailableError("The provider's metadata has no authorization_endpoint.");
    const url = new URL(server.authorization_endpoint);
    url.searchParams.set("client_id", this.settings.clientId);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("redirect_uri", attempt.redirectUri);
    url.searchParams.set("scope", "openid email");
    url.searchParams.set("state", attempt.state);
    url.searchParams.set("nonce", attempt.nonce);
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(attempt.codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
    if (attempt.prompt) url.searchParams.set("prompt", attempt.prompt);
    return url.href;
  }

  /** Fresh random values for one attempt. */
  static async newAttempt(): Promise<{ state: string; nonce: string; codeVerifier: string }> {
    const oauth = await loadOAuth();
    return { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), codeVerifier: oauth.generateRandomCodeVerifier() };
  }

  /**
   * Checks the provider's redirect back (state, and `iss` where the provider sends it), exchanges the
   * code with the client secret and PKCE verifier, and checks the ID token: signature against the
   * provider's keys, issuer, audience, expiry, nonce.
   */
  async verifyCallback(callback: { parameters: URLSearchParams; redirectUri: string; state: string; nonce: string; codeVerifier: string; clientSecret: string }, now: number): Promise<VerifiedIdentity> {
    const oauth = await loadOAuth();
    const server = await this.authorizationServer(oauth, now);
    const options = this.requestOptions(oauth);

    let parameters: URLSearchParams;
    try {
      parameters = oauth.validateAuthResponse(server, this.client, callback.parameters, callback.state);
    } catch (error) {
      throw new SignInRejectedError("responseRejected", `The provider's redirect was refused: ${(error as Error).message}`);
    }

    let tokens: OAuth.TokenEndpointResponse;
    let response: Response;
    try {
      response = await oauth.authorizationCodeGrantRequest(server, this.client, oauth.ClientSecretBasic(callback.clientSecret), parameters, callback.redirectUri, callback.codeVerifier, options);
      tokens = await oauth.processAuthorizationCodeResponse(server, this.client, response, { expectedNonce: callback.nonce, requireIdToken: true });
    } catch (error) {
      if (isNetworkFailure(error) || isServerError(error)) throw new ProviderUnavailableError(`The token endpoint could not be used: ${(error as Error).message}`);
      if (error instanceof oauth.ResponseBodyError) throw new SignInRejectedError("codeRejected", `The provider refused the code: ${error.error}`);
      throw new SignInRejectedError("tokenRejected", `The ID token was refused: ${(error as Error).message}`);
    }
    try {
      // The token came straight from the token endpoint; its signature is checked all the same.
      await oauth.validateApplicationLevelSignature(server, response, { ...options, [oauth.jwksCache]: this.keySetCache });
    } catch (error) {
      if (isNetworkFailure(error) || isServerError(error)) throw new ProviderUnavailableError(`The provider's keys could not be read: ${(error as Error).message}`);
      throw new SignInRejectedError("tokenRejected", `The ID token's signature was refused: ${(error as Error).message}`);
    }
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    if (!claims) throw new SignInRejectedError("tokenRejected", "The provider returned no ID token.");
    // Providers that follow OpenID Connect to the letter put `email` in UserInfo, not in the ID token, when
    // an access token is issued too; ask there (its `sub` must be the ID token's).
    const emailClaims = typeof claims.email === "string" ? claims : await this.userInfo(oauth, server, tokens.access_token, claims.sub);
    const email = typeof emailClaims.email === "string" ? emailClaims.email : undefined;
    const emailVerified = emailClaims.email_verified === true || (emailClaims.email_verified === undefined && emailClaims.xms_edov === true);
    return { issuer: claims.iss, subject: claims.sub, email, emailVerified };
  }

  private async userInfo(oauth: typeof OAuth, server: OAuth.AuthorizationServer, accessToken: string, subject: string): Promise<Record<string, unknown>> {
    if (!server.userinfo_endpoint) return {};
    try {
      const response = await oauth.userInfoRequest(server, this.client, accessToken, this.requestOptions(oauth));
      return (await oauth.processUserInfoResponse(server, this.client, subject, response)) as Record<string, unknown>;
    } catch (error) {
      if (isNetworkFailure(error) || isServerError(error)) throw new ProviderUnavailableError(`UserInfo could not be read: ${(error as Error).message}`);
      throw new SignInRejectedError("tokenRejected", `UserInfo was refused: ${(error as Error).message}`);
    }
  }
}
