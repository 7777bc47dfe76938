/**
 * A real OpenID provider on 127.0.0.1 for the local mode and the tests: `oidc-provider` (a certified
 * OpenID Connect implementation), in this process, with one account per address and a plain login
 * form. Nothing about it is simulated: discovery, the authorization code flow with PKCE, signed ID
 * tokens and its key set are the library's own. Loaded only when sign-in is asked for: it is a
 * development dependency, never part of a Lambda bundle.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface LocalAccount {
  /** What the person types in the login form; also the account's `email` claim unless `email` says otherwise. */
  login: string;
  /** The `email` claim, as the provider asserts it (default: `login`). */
  email?: string;
  /** The `email_verified` claim (default true); null: the provider sends no such claim at all (some never do). */
  emailVerified?: boolean | null;
}

export interface LocalClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface LocalOpenIdProviderOptions {
  accounts: LocalAccount[];
  clients: LocalClient[];
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** The one password of every local account (default: "local"). */
  password?: string;
  /**
   * Put `email` and `email_verified` in the ID token, as Google, Okta, Keycloak and Cognito do (default).
   * false: only UserInfo has them, as OpenID Connect's letter has it when an access token is issued too.
   */
  emailInIdToken?: boolean;
}

export interface LocalOpenIdProvider {
  /** The issuer identifier, `http://127.0.0.1:<port>`: what `signInIssuer` would hold. */
  issuer: string;
  /** The password of every account. */
  password: string;
  accounts: LocalAccount[];
  close(): Promise<void>;
}

export const LOCAL_PASSWORD = "local";

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function loginPage(uid: string, clientId: string, accounts: LocalAccount[], problem?: string): string {
  const names = accounts.map((account) => `<li><code>${escapeHtml(account.login)}</code></li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · Local OpenID provider</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem}label{display:block;font-weight:600;margin-top:1rem}
input{width:100%;font:inherit;padding:.5rem;box-sizing:border-box}.actions{display:flex;gap:.75rem;margin-top:1.2rem}button{font:inherit;padding:.6rem 1.2rem}
.problem{color:#b42318;font-weight:600}.muted{color:#57606a;font-size:.9rem}</style></head>
<body><main>
<h1>Sign in</h1>
<p>Local OpenID provider (<code>oidc-provider</code> on 127.0.0.1), signing in to <strong>${escapeHtml(clientId)}</strong>.</p>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ""}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Email address</label><input id="login" name="login" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button><button type="submit" formaction="/interaction/${escapeHtml(uid)}/abort" formnovalidate>Cancel</button></div>
</form>
<p class="muted">Accounts on this provider: </p><ul class="muted">${names}</ul>
</main></body></html>`;
}

/** Starts the provider; the caller closes it. */
export async function startLocalOpenIdProvider(options: LocalOpenIdProviderOptions): Promise<LocalOpenIdProvider> {
  const password = options.password ?? LOCAL_PASSWORD;
  const accounts = new Map(options.accounts.map((account, index) => [`account-${index + 1}`, account]));
  const accountByLogin = (login: string) => [...accounts].find(([, account]) => account.login.toLowerCase() === login.trim().toLowerCase());

  // The port first: the issuer identifier, which every token carries, contains it.
  let handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => void response.writeHead(503).end();
  const server: Server = createServer((request, response) => handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { Provider } = await quietly(() => import("oidc-provider") as Promise<{ Provider: new (issuer: string, configuration: Record<string, unknown>) => any }>);
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const provider = await quietly(async () => new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), kid: `local-${randomBytes(4).toString("hex")}`, use: "sig", alg: "RS256" }] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    scopes: ["openid", "email"],
    pkce: { required: () => true },
    conformIdTokenClaims: options.emailInIdToken === false,
    // Short lives, as a login needs: an interaction (the login form) 10 minutes, a session an hour.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, email: account.email ?? account.login, ...(account.emailVerified === null ? {} : { email_verified: account.emailVerified ?? true }) }) };
    },
    // A first-party client: the login is the consent (no second "allow" screen).
    async loadExistingGrant(ctx: any) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email");
      await grant.save();
      return grant;
    },
    renderError(ctx: any, out: Record<string, string>) {
      ctx.type = "html";
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head><body><main><h1>Sign-in error</h1><p>${escapeHtml(out.error ?? "error")}: ${escapeHtml(out.error_description ?? "")}</p></main></body></html>`;
    },
  }));
  const providerCallback = provider.callback();

  async function interaction(request: IncomingMessage, response: ServerResponse, uid: string, action: string | undefined) {
    const details = await provider.interactionDetails(request, response);
    if (details.uid !== uid) throw new Error("interaction mismatch");
    const clientId = String(details.params.client_id ?? "");
    const html = (status: number, body: string) => response.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(body);
    if (action === undefined && request.method === "GET") return html(200, loginPage(uid, clientId, options.accounts));
    if (action === "abort" && request.method === "POST") {
      return provider.interactionFinished(request, response, { error: "access_denied", error_description: "The person cancelled the sign-in." }, { mergeWithLastSubmission: false });
    }
    if (action === "login" && request.method === "POST") {
      const form = await readForm(request);
      const found = accountByLogin(form.get("login") ?? "");
      if (!found || form.get("password") !== password) return html(200, loginPage(uid, clientId, options.accounts, "Unknown address or wrong password."));
      return provider.interactionFinished(request, response, { login: { accountId: found[0] } }, { mergeWithLastSubmission: false });
    }
    return html(405, "Method not allowed");
  }

  handle = (request, response) => {
    const path = new URL(request.url ?? "/", issuer).pathname;
    const match = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(path);
    if (!match) return void providerCallback(request, response);
    interaction(request, response, match[1], match[2]).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" }).end(`Sign-in could not continue: ${error.message}. Open your approval link again.`);
    });
  };

  return {
    issuer,
    password,
    accounts: options.accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Two of oidc-provider's warnings do not apply to a throwaway provider on this machine, and are left out:
 * "Unsupported runtime" on Node 20 (it asks for 22; it is an ES module that Node 20.19 and later load with
 * require(), and the tests prove it on the Node version the development machines have), and its in-memory
 * store (exactly what a provider that lives as long as `npm start` needs). Every other message shows.
 */
const SILENCED_WARNINGS = ["oidc-provider WARNING: Unsupported runtime", "oidc-provider WARNING: a quick start development-only in-memory adapter is used"];

async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && SILENCED_WARNINGS.some((warning) => (args[0] as string).includes(warning))) return;
    warn(...args);
  };
  try {
    return await load();
  } finally {
    console.warn = warn;
  }
}
