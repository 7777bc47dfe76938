/**
 * What a browser does during an OpenID sign-in, without a browser: a cookie jar per site, and the walk
 * through the local provider's login form (local/openIdProvider.ts) until it redirects back to us.
 */
import type { HttpResponse } from "../../functions/decision/decision";
import type { Transport } from "../../functions/decision/httpEvent";
import { REST_API_STAGE_PATH } from "../../local/transportEvents";

/** The cookies one site set, by name; what a browser would send back. Paths, domains and expiry dates are not needed here. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** Applies Set-Cookie values; `Max-Age=0` deletes. */
  apply(setCookies: string[]): void {
    for (const setCookie of setCookies) {
      const [pair, ...attributes] = setCookie.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const maxAge = attributes.map((attribute) => attribute.trim()).find((attribute) => /^max-age=/i.test(attribute));
      if (maxAge && Number(maxAge.split("=")[1]) <= 0) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** From a fetch Response (the provider). */
  applyResponse(response: Response): void {
    this.apply(response.headers.getSetCookie());
  }

  /** From a decision function response, whichever payload format's field it used. */
  applyDecision(response: HttpResponse): void {
    this.apply([...(response.cookies ?? []), ...(response.multiValueHeaders?.["Set-Cookie"] ?? [])]);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  get names(): string[] {
    return [...this.cookies.keys()];
  }
}

/** The Set-Cookie values of a decision function response. */
export const setCookiesOf = (response: HttpResponse) => [...(response.cookies ?? []), ...(response.multiValueHeaders?.["Set-Cookie"] ?? [])];

/** Follows the provider's redirects (on its own origin) from `url`, carrying its cookies; returns the first URL off the provider, or the page it ends on. */
export async function follow(url: string, jar: CookieJar, origin: string, init?: RequestInit): Promise<{ leftTo?: URL; page?: Response }> {
  let next: string | undefined = url;
  let request: RequestInit | undefined = init;
  for (let hops = 0; next && hops < 10; hops++) {
    const target: URL = new URL(next, origin);
    if (target.origin !== origin) return { leftTo: target };
    const response = await fetch(target, { ...request, redirect: "manual", headers: { ...(request?.headers as Record<string, string> | undefined), Cookie: jar.header() } });
    jar.applyResponse(response);
    request = undefined;
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      next = new URL(location, target).href;
      continue;
    }
    return { page: response };
  }
  throw new Error(`too many redirects from ${url}`);
}

/**
 * Opens the provider's authorization URL, fills in its login form (or cancels it) and returns where the
 * provider sends the browser back: our callback URL with `code` and `state` (or `error`).
 */
export async function signInAtProvider(authorizationUrl: string, login: string, password: string, jar = new CookieJar(), action: "login" | "abort" = "login"): Promise<URL> {
  const origin = new URL(authorizationUrl).origin;
  const opened = await follow(authorizationUrl, jar, origin);
  if (opened.leftTo) return opened.leftTo; // already signed in at the provider
  const form = await opened.page!.text();
  const uid = /action="\/interaction\/([^/"]+)\/login"/.exec(form)?.[1];
  if (!uid) throw new Error(`no login form at the provider: ${form.slice(0, 300)}`);
  const submitted = await follow(`/interaction/${uid}/${action}`, jar, origin, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ login, password }).toString(),
  });
  if (!submitted.leftTo) throw new Error(`the provider did not redirect back: ${submitted.page?.status} ${(await submitted.page?.text())?.slice(0, 300)}`);
  return submitted.leftTo;
}

/** The fake public host of each transport's events (local/transportEvents.ts), and so its redirect URI. */
export const TRANSPORT_BASE_URLS: Record<Transport, string> = {
  restApi: `https://abc123.execute-api.eu-west-1.amazonaws.com${REST_API_STAGE_PATH}`,
  httpApi: "https://xyz789.execute-api.eu-west-1.amazonaws.com",
  functionUrl: "https://a1b2c3d4e5f6g7h8.lambda-url.eu-west-1.on.aws",
};
export const redirectUriFor = (transport: Transport) => `${TRANSPORT_BASE_URLS[transport]}/auth/callback`;

/** A URL the decision function sent the browser to on its own endpoint, as the path and query of a call (the stage prefix removed). */
export function callOf(url: URL | string, transport: Transport): { path: string; query: Record<string, string> } {
  const parsed = new URL(url);
  const prefix = transport === "restApi" ? REST_API_STAGE_PATH : "";
  if (!parsed.pathname.startsWith(prefix)) throw new Error(`${parsed.pathname} is not under ${prefix}`);
  return { path: parsed.pathname.slice(prefix.length), query: Object.fromEntries(parsed.searchParams) };
}

/**
 * A browser's navigation on this machine: follows every redirect (a 302/303 after a POST becomes a GET),
 * sending and keeping cookies in one jar. Cookies are per host, not per port, as in browsers; the local
 * gateway and the local provider share 127.0.0.1 and their cookies' names differ.
 */
export async function navigate(url: string, jar: CookieJar, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<{ response: Response; url: string; body: string; hops: string[] }> {
  let target = url;
  let method = init.method ?? "GET";
  let body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  const hops: string[] = [];
  for (let hop = 0; hop < 15; hop++) {
    const headers: Record<string, string> = { Accept: "text/html", "User-Agent": "Mozilla/5.0 test", ...init.headers, ...(jar.cookies.size ? { Cookie: jar.header() } : {}) };
    if (body !== undefined) headers["Content-Type"] = "application/x-www-form-urlencoded";
    const response = await fetch(target, { method, headers, body, redirect: "manual" });
    jar.applyResponse(response);
    hops.push(`${response.status} ${method} ${new URL(target).pathname}`);
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      target = new URL(location, target).href;
      method = "GET";
      body = undefined;
      continue;
    }
    return { response, url: target, body: method === "HEAD" ? "" : await response.text(), hops };
  }
  throw new Error(`too many redirects from ${url}`);
}
