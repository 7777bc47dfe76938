import { strict as assert } from "node:assert";
import { createSign, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bundleHandler } from "../../functions/bundle";
import type { HttpResponse } from "../../functions/decision/decision";
import type { Transport } from "../../functions/decision/httpEvent";
import { createHandler, dependenciesFromEnvironment } from "../../functions/decision/index";
import { OpenIdSignIn } from "../../functions/decision/signIn/signIn";
import { createLogger } from "../../functions/shared/logger";
import { startLocalOpenIdProvider, type LocalOpenIdProvider } from "../../local/openIdProvider";
import { ALL_TRANSPORTS, EVENT_BUILDERS, formPost, jsonPost, type HttpCall } from "../support/events";
import { headingOf, jsonOf, leadOf, startHarness, type Harness, type RequestedApproval } from "../support/harness";
import { callOf, CookieJar, follow, redirectUriFor, setCookiesOf, signInAtProvider } from "../support/signIn";

/**
 * Issue 10 against a real OpenID provider (oidc-provider on 127.0.0.1), on every transport: the
 * decision function's real handler (dynalite, the AWS stand-in answering Secrets Manager), the real
 * provider's login form, codes, tokens and keys.
 */
const ANN = "ann@example.com";
const BOB = "bob@example.com";
const OUTSIDER = "mallory@example.com";
const UNVERIFIED = "unverified@example.com";
const KATE = "kate@example.com";
/** Verified ID-token emails that lower-case or trim to an approver's address: the Kelvin sign (U+212A) and a byte-order mark (U+FEFF). */
const LOOK_ALIKES = [{ login: "kelvin", email: "\u212Aate@example.com" }, { login: "bom", email: "\ufeffkate@example.com" }];
const CLIENT_ID = "human-approval-test";
const CLIENT_SECRET = "test-client-secret-0123456789abcdef";
const OTHER_CLIENT_ID = "another-app";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:human-approval-sign-in-AbCdEf";
const STACK = { approverEmails: [ANN, BOB], requiredApprovals: 1, allowSelfApproval: false };
const browser = (jar: CookieJar, extra: Record<string, string> = {}) => ({ Accept: "text/html,application/xhtml+xml", "User-Agent": "Mozilla/5.0 test", ...(jar.cookies.size ? { Cookie: jar.header() } : {}), ...extra });

describe("sign-in with OpenID Connect (oidc-provider + dynalite + AWS stand-in)", function () {
  this.timeout(60_000);
  let provider: LocalOpenIdProvider;
  let harness: Harness;

  before(async () => {
    const redirectUris = ALL_TRANSPORTS.map(redirectUriFor);
    provider = await startLocalOpenIdProvider({
      accounts: [{ login: ANN }, { login: BOB, email: "Bob@Example.COM" }, { login: OUTSIDER }, { login: UNVERIFIED, emailVerified: false }, ...LOOK_ALIKES],
      clients: [
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris },
        { clientId: OTHER_CLIENT_ID, clientSecret: "another-secret-0123456789", redirectUris: ["https://other.example.com/callback"] },
      ],
    });
    harness = await startHarness(STACK);
    harness.standIn.secrets.set(SECRET_ARN, CLIENT_SECRET);
    Object.assign(harness.env, { SIGN_IN_ISSUER: provider.issuer, SIGN_IN_CLIENT_ID: CLIENT_ID, SIGN_IN_SECRET_ARN: SECRET_ARN });
    harness.configure(STACK);
  });
  after(async () => {
    await harness?.close();
    await provider?.close();
  });

  /** Opens a link in a fresh "browser", signs in at the provider as `login`, and returns what the callback answered. */
  async function signIn(transport: Transport, linkPath: string, login: string, jar = new CookieJar()) {
    const opened = await harness.call(transport, { method: "GET", path: linkPath, headers: browser(jar) });
    assert.equal(opened.statusCode, 302, `GET ${linkPath} without a session goes to the provider`);
    jar.applyDecision(opened);
    const back = await signInAtProvider(opened.headers.Location, login, provider.password);
    const loginCookies = new Map(jar.cookies);
    const callback = await harness.call(transport, { method: "GET", ...callOf(back, transport), headers: browser(jar) });
    jar.applyDecision(callback);
    return { opened, back, callback, jar, loginCookies };
  }

  const votesOf = async (approval: RequestedApproval) => (await harness.stored(approval.requestRef)).votes;

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("sends a link without a session to the provider: code flow, PKCE S256, state, nonce, scope openid email, our redirect URI", async () => {
        const approval = await harness.requestApproval({ title: "Sign-in redirect" });
        const opened = await harness.call(transport, { method: "GET", path: approval.links[ANN], headers: browser(new CookieJar()) });
        assert.equal(opened.statusCode, 302);
        const location = new URL(opened.headers.Location);
        assert.equal(location.origin, provider.issuer);
        const parameters = Object.fromEntries(location.searchParams);
        assert.equal(parameters.response_type, "code");
        assert.equal(parameters.client_id, CLIENT_ID);
        assert.equal(parameters.scope, "openid email");
        assert.equal(parameters.redirect_uri, redirectUriFor(transport));
        assert.equal(parameters.code_challenge_method, "S256");
        assert.match(parameters.code_challenge, /^[A-Za-z0-9_-]{43}$/);
        assert.match(parameters.state, /^[A-Za-z0-9_-]{20,}$/);
        assert.match(parameters.nonce, /^[A-Za-z0-9_-]{20,}$/);
        assert.ok(!opened.headers.Location.includes(approval.links[ANN].split("/").pop()!), "the link id never goes to the provider");
        const [cookie] = setCookiesOf(opened);
        assert.match(cookie, /^__Host-approval-login-[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]+; Max-Age=600; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
        assert.ok(!cookie.includes(parameters.state) && !cookie.includes(parameters.nonce), "the login cookie is sealed");
        assert.deepEqual(await votesOf(approval), []);
      });

      it("the right approver signs in and votes: the vote, the JSON and the workflow's output carry verifiedBy", async () => {
        const approval = await harness.requestApproval({ title: "Signed-in approval" });
        const { callback, jar, back } = await signIn(transport, approval.links[ANN], ANN);
        assert.ok(back.searchParams.get("code"), "the provider sent a code");
        assert.equal(callback.statusCode, 302);
        assert.equal(callback.headers.Location, `${redirectUriFor(transport).replace(/\/auth\/callback$/, "")}${approval.links[ANN]}`);
        const setCookies = setCookiesOf(callback);
        assert.ok(setCookies.some((cookie) => /^__Host-approval-login-.*=; Max-Age=0; Path=\/; Secure; HttpOnly; SameSite=Lax$/.test(cookie)), "the login cookie is cleared (single use)");
        assert.ok(setCookies.some((cookie) => /^__Host-approval-session-[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]+; Max-Age=900; Path=\/; Secure; HttpOnly; SameSite=Lax$/.test(cookie)), "a 15-minute session cookie");
        assert.equal(jar.names.filter((name) => name.startsWith("__Host-approval-login-")).length, 0);

        const page = await harness.call(transport, { method: "GET", path: approval.links[ANN], headers: browser(jar) });
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /<form method="post">/);
        assert.ok(page.body.replace(/<[^>]+>/g, "").includes(`Signed in as ${ANN}, verified by ${provider.issuer}`));

        const voted = await harness.call(transport, formPost(approval.links[ANN], { decision: "approve", comment: "signed in" }, { Cookie: jar.header() }));
        assert.equal(voted.statusCode, 200);
        const [vote] = await votesOf(approval);
        assert.equal(vote.approver, ANN);
        assert.equal(vote.verifiedBy, provider.issuer);
        const output = await approval.received;
        assert.equal(output.decision, "approved");
        assert.equal(output.decidedBy, ANN);
        assert.equal(output.verifiedBy, provider.issuer);

        const json = jsonOf(await harness.call(transport, { method: "GET", path: approval.links[ANN], headers: { Accept: "application/json", Cookie: jar.header() } }));
        assert.equal(json.verifiedBy, provider.issuer);
        assert.equal(json.votes[0].verifiedBy, provider.issuer);
      });

      it("keeps a preselected choice through the sign-in: back on the link with ?choice=approve", async () => {
        const approval = await harness.requestApproval({ title: "Preselected" });
        const jar = new CookieJar();
        const opened = await harness.call(transport, { method: "GET", path: approval.links[ANN], query: { choice: "approve" }, headers: browser(jar) });
        jar.applyDecision(opened);
        const back = await signInAtProvider(opened.headers.Location, ANN, provider.password);
        const callback = await harness.call(transport, { method: "GET", ...callOf(back, transport), headers: browser(jar) });
        assert.equal(callback.statusCode, 302);
        assert.match(callback.headers.Location, /\/requests\/[A-Za-z0-9_-]{32}\?choice=approve$/);
        jar.applyDecision(callback);
        const page = await harness.call(transport, { method: "GET", ...callOf(callback.headers.Location, transport), headers: browser(jar) });
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /value="approve" class="approve chosen"/);
      });

      it("matches the signed-in address to the approver without regard to case", async () => {
        const approval = await harness.requestApproval({ title: "Case" });
        const { callback, jar } = await signIn(transport, approval.links[BOB], BOB); // the provider says Bob@Example.COM
        assert.equal(callback.statusCode, 302);
        const voted = await harness.call(transport, formPost(approval.links[BOB], { decision: "reject" }, { Cookie: jar.header() }));
        assert.equal(voted.statusCode, 200);
        assert.equal((await approval.received).decision, "rejected");
        assert.equal((await approval.received).verifiedBy, provider.issuer);
      });

      it("refuses another signed-in person with 403 naming both addresses; nothing is shown, recorded or remembered", async () => {
        const approval = await harness.requestApproval({ title: "Not yours" });
        const before = await harness.stored(approval.requestRef);
        for (const intruder of [BOB, OUTSIDER]) {
          const { callback, jar } = await signIn(transport, approval.links[ANN], intruder);
          assert.equal(callback.statusCode, 403);
          assert.equal(headingOf(callback), "This link is for someone else");
          assert.ok(leadOf(callback).includes(`You are signed in as ${intruder}`), leadOf(callback)); // in its one stored form
          assert.ok(leadOf(callback).includes(`this link is ${ANN}&#39;s`), leadOf(callback));
          assert.ok(!callback.body.includes("Not yours"), "nothing of the request is shown");
          assert.ok(!jar.names.some((name) => name.startsWith("__Host-approval-session-")), "no session");
          // The offer to sign in again asks the provider for the credentials again.
          const retry = /<a href="([^"]+)">Sign in as/.exec(callback.body)![1].replace(/&#38;/g, "&");
          assert.match(retry, /\?signIn=again$/);
          const again = await harness.call(transport, { method: "GET", ...callOf(retry, transport), headers: browser(jar) });
          assert.equal(again.statusCode, 302);
          assert.equal(new URL(again.headers.Location).searchParams.get("prompt"), "login");
          // With the cookies it has, the intruder still cannot vote.
          const post = await harness.call(transport, formPost(approval.links[ANN], { decision: "approve" }, { Cookie: jar.header() }));
          assert.equal(post.statusCode, 303);
        }
        const after = await harness.stored(approval.requestRef);
        assert.equal(after.version, before.version);
        assert.deepEqual(after.votes, []);
        assert.equal(approval.receivedOutput(), undefined);
      });

      it("a session opens only its own link: Ann's session does not open Bob's link, even under the other cookie name", async () => {
        const approval = await harness.requestApproval({ title: "Two links" });
        const { jar } = await signIn(transport, approval.links[ANN], ANN);
        const onBobs = await harness.call(transport, { method: "GET", path: approval.links[BOB], headers: browser(jar) });
        assert.equal(onBobs.statusCode, 302, "no session for Bob's link");
        // Renaming the cookie to the name Bob's link expects does not help: the name is authenticated with the value.
        const [name, value] = [...jar.cookies].find(([cookie]) => cookie.startsWith("__Host-approval-session-"))!;
        const bobsJar = new CookieJar();
        bobsJar.apply(setCookiesOf(await harness.call(transport, { method: "GET", path: approval.links[BOB], headers: browser(new CookieJar()) }))); // (only to learn nothing: login cookie)
        const bobsSessionName = await sessionCookieNameFor(approval.links[BOB]);
        assert.notEqual(bobsSessionName, name);
        const renamed = await harness.call(transport, { method: "GET", path: approval.links[BOB], headers: browser(new CookieJar(), { Cookie: `${bobsSessionName}=${value}` }) });
        assert.equal(renamed.statusCode, 302);
        assert.deepEqual(await votesOf(approval), []);
      });

      it("a session opens only the link it was made for: not the same approver's link of another request", async () => {
        const first = await harness.requestApproval({ title: "First request" });
        const second = await harness.requestApproval({ title: "Second request" });
        const { jar } = await signIn(transport, first.links[ANN], ANN);
        assert.equal((await harness.call(transport, { method: "GET", path: first.links[ANN], headers: browser(jar) })).statusCode, 200);
        // The same session value presented under the second link's cookie name, too.
        const [, value] = [...jar.cookies].find(([name]) => name.startsWith("__Host-approval-session-"))!;
        for (const cookie of [jar.header(), `${await sessionCookieNameFor(second.links[ANN])}=${value}`]) {
          const other = await harness.call(transport, formPost(second.links[ANN], { decision: "approve" }, { Cookie: cookie }));
          assert.equal(other.statusCode, 303, "no session for the second link");
        }
        assert.deepEqual(await votesOf(second), []);
      });

      it("refuses a tampered session cookie: a POST with it goes to the provider and records nothing", async () => {
        const approval = await harness.requestApproval({ title: "Tampered session" });
        const { jar } = await signIn(transport, approval.links[ANN], ANN);
        const [sessionName, sessionValue] = [...jar.cookies].find(([name]) => name.startsWith("__Host-approval-session-"))!;
        const flipped = sessionValue.slice(0, 20) + (sessionValue[20] === "A" ? "B" : "A") + sessionValue.slice(21);
        const tampered = await harness.call(transport, formPost(approval.links[ANN], { decision: "approve" }, { Cookie: `${sessionName}=${flipped}` }));
        assert.equal(tampered.statusCode, 303);
        assert.deepEqual(await votesOf(approval), []);
        // The untampered one works (the control case).
        assert.equal((await harness.call(transport, { method: "GET", path: approval.links[ANN], headers: browser(jar) })).statusCode, 200);
      });

      it("refuses a replayed callback: with the login cookie it had (the code works once), and without it", async () => {
        const approval = await harness.requestApproval({ title: "Replay" });
        const { back, loginCookies, callback } = await signIn(transport, approval.links[ANN], ANN);
        assert.equal(callback.statusCode, 302);
        const loginJar = new CookieJar();
        for (const [name, value] of loginCookies) loginJar.cookies.set(name, value);
        const replayed = await harness.call(transport, { method: "GET", ...callOf(back, transport), headers: browser(loginJar) });
        assert.equal(replayed.statusCode, 400);
        assert.equal(headingOf(replayed), "Sign-in could not be verified");
        assert.ok(!setCookiesOf(replayed).some((cookie) => cookie.startsWith("__Host-approval-session-")));
        const withoutCookie = await harness.call(transport, { method: "GET", ...callOf(back, transport), headers: browser(new CookieJar()) });
        assert.equal(withoutCookie.statusCode, 400);
        assert.equal(headingOf(withoutCookie), "This sign-in is not valid here");
      });

      /** A login started in `jar` and completed at the provider, but not yet brought back: the callback's path and query. */
      async function pendingCallback(linkPath: string, jar: CookieJar) {
        const opened = await harness.call(transport, { method: "GET", path: linkPath, headers: browser(jar) });
        jar.applyDecision(opened);
        return callOf(await signInAtProvider(opened.headers.Location, ANN, provider.password), transport);
      }

      it("refuses a callback whose state is not the one this browser's login started with (a forged callback)", async () => {
        const approval = await harness.requestApproval({ title: "Wrong state" });
        const jar = new CookieJar();
        const callback = await pendingCallback(approval.links[ANN], jar);
        const forged = await harness.call(transport, { method: "GET", path: callback.path, query: { ...callback.query, state: callback.query.state.replace(/^./, (c) => (c === "x" ? "y" : "x")) }, headers: browser(jar) });
        assert.equal(forged.statusCode, 400);
        assert.equal(headingOf(forged), "This sign-in is not valid here");
        assert.ok(!setCookiesOf(forged).some((cookie) => cookie.startsWith("__Host-approval-session-")));
        // Another browser's login (a login cookie for another state) does not make it valid either.
        const otherJar = new CookieJar();
        await pendingCallback(approval.links[ANN], otherJar);
        const crossed = await harness.call(transport, { method: "GET", ...callback, headers: browser(otherJar) });
        assert.equal(crossed.statusCode, 400);
        assert.equal(headingOf(crossed), "This sign-in is not valid here");
        assert.deepEqual(await votesOf(approval), []);
      });

      it("refuses a tampered login cookie", async () => {
        const approval = await harness.requestApproval({ title: "Tampered login" });
        const jar = new CookieJar();
        const callback = await pendingCallback(approval.links[ANN], jar);
        const [loginName, loginValue] = [...jar.cookies].find(([name]) => name.startsWith("__Host-approval-login-"))!;
        const tampered = await harness.call(transport, { method: "GET", ...callback, headers: browser(new CookieJar(), { Cookie: `${loginName}=${loginValue.slice(0, -2)}${loginValue.endsWith("AA") ? "BB" : "AA"}` }) });
        assert.equal(tampered.statusCode, 400);
        assert.equal(headingOf(tampered), "This sign-in is not valid here");
        assert.deepEqual(await votesOf(approval), []);
      });

      it("a cancelled login, an unverified email address: clear pages, 403, nothing recorded", async () => {
        const approval = await harness.requestApproval({ title: "Cancelled" });
        const jar = new CookieJar();
        const opened = await harness.call(transport, { method: "GET", path: approval.links[ANN], headers: browser(jar) });
        jar.applyDecision(opened);
        const back = await signInAtProvider(opened.headers.Location, ANN, provider.password, new CookieJar(), "abort");
        assert.equal(back.searchParams.get("error"), "access_denied");
        const cancelled = await harness.call(transport, { method: "GET", ...callOf(back, transport), headers: browser(jar) });
        assert.equal(cancelled.statusCode, 403);
        assert.equal(headingOf(cancelled), "Sign-in cancelled");
        assert.ok(setCookiesOf(cancelled).some((cookie) => /^__Host-approval-login-.*=; Max-Age=0/.test(cookie)), "the attempt is over");

        harness.configure({ approverEmails: [ANN, BOB, UNVERIFIED] });
        try {
          const asked = await harness.requestApproval({ title: "Unverified", approvers: [UNVERIFIED] });
          const { callback } = await signIn(transport, asked.links[UNVERIFIED], UNVERIFIED);
          assert.equal(callback.statusCode, 403);
          assert.equal(headingOf(callback), "Email address not verified");
          assert.ok(leadOf(callback).includes(`You signed in as ${UNVERIFIED}`));
          assert.deepEqual(await votesOf(asked), []);
        } finally {
          harness.configure(STACK);
        }
        assert.deepEqual(await votesOf(approval), []);
      });

      it("an ID-token email with a look-alike or invisible character is refused before any comparison: 403, nothing recorded", async () => {
        harness.configure({ approverEmails: [ANN, BOB, KATE] });
        try {
          const asked = await harness.requestApproval({ title: "Kate's", approvers: [KATE] });
          for (const { login, email } of LOOK_ALIKES) {
            assert.ok(email.toLowerCase() === KATE || email.trim() === KATE, "the attack: a naive comparison would match");
            const { callback, jar } = await signIn(transport, asked.links[KATE], login);
            assert.equal(callback.statusCode, 403, login);
            assert.equal(headingOf(callback), "Email address not accepted");
            assert.ok(!jar.names.some((name) => name.startsWith("__Host-approval-session-")), "no session");
          }
          assert.deepEqual(await votesOf(asked), []);
        } finally {
          harness.configure(STACK);
        }
      });

      it("after 15 minutes the session is over: back to the provider, and a POST records nothing", async () => {
        const approval = await harness.requestApproval({ title: "Expiring session" });
        const { jar } = await signIn(transport, approval.links[ANN], ANN);
        assert.equal((await harness.call(transport, { method: "GET", path: approval.links[ANN], headers: browser(jar) })).statusCode, 200);
        harness.clock.advanceSeconds(15 * 60 + 1);
        try {
          assert.equal((await harness.call(transport, { method: "GET", path: approval.links[ANN], headers: browser(jar) })).statusCode, 302);
          assert.equal((await harness.call(transport, formPost(approval.links[ANN], { decision: "approve" }, { Cookie: jar.header() }))).statusCode, 303);
        } finally {
          harness.clock.advanceSeconds(-(15 * 60 + 1));
        }
        assert.deepEqual(await votesOf(approval), []);
      });

      it("mail scanners reach the provider's login page and decide nothing; a script is told to sign in", async () => {
        const approval = await harness.requestApproval({ title: "Scanned" });
        const link = approval.links[ANN];
        const scanner = { "User-Agent": "Mozilla/5.0 (compatible; SafeLinks scanner)" };
        for (const call of [
          { method: "GET", path: link, headers: scanner },
          { method: "HEAD", path: link, headers: scanner },
          { method: "GET", path: link, query: { choice: "approve" }, headers: scanner },
        ] as HttpCall[]) {
          const answer = await harness.call(transport, call);
          assert.equal(answer.statusCode, 302, `${call.method} ${JSON.stringify(call.query ?? {})}`);
          // Following the redirect (as a browser-based scanner does, cookies and all) ends on the provider's
          // login form, which a scanner cannot fill in.
          const { page } = await follow(answer.headers.Location, new CookieJar(), provider.issuer);
          assert.equal(page?.status, 200);
          assert.match(await page!.text(), /<form method="post" action="\/interaction\/[^"]+\/login">/);
        }
        const posted = await harness.call(transport, formPost(link, { decision: "approve" }, scanner));
        assert.equal(posted.statusCode, 303);
        const script = await harness.call(transport, jsonPost(link, { decision: "approve" }));
        assert.equal(script.statusCode, 403);
        assert.equal(jsonOf(script).error, "sign_in_required");
        assert.deepEqual(await votesOf(approval), []);
        assert.equal(approval.receivedOutput(), undefined);
      });
    });
  }

  describe("forged tokens in the code exchange (a tampered token endpoint answer)", () => {
    const transport: Transport = "functionUrl";
    /** A real ID token from the provider, for a client and a nonce of our choosing. */
    async function idTokenFrom(clientId: string, clientSecret: string, redirectUri: string, nonce: string, login = ANN): Promise<string> {
      const { calculatePKCECodeChallenge, generateRandomCodeVerifier } = await import("oauth4webapi");
      const verifier = generateRandomCodeVerifier();
      const url = new URL(`${provider.issuer}/auth`);
      for (const [name, value] of Object.entries({ client_id: clientId, response_type: "code", scope: "openid email", redirect_uri: redirectUri, state: "s-" + nonce, nonce, code_challenge: await calculatePKCECodeChallenge(verifier), code_challenge_method: "S256" })) url.searchParams.set(name, value);
      const back = await signInAtProvider(url.href, login, provider.password);
      const token = await fetch(`${provider.issuer}/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}` },
        body: new URLSearchParams({ grant_type: "authorization_code", code: back.searchParams.get("code")!, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
      });
      return ((await token.json()) as { id_token: string }).id_token;
    }

    /** A decision handler whose provider traffic goes through `replaceIdToken`. */
    function handlerWithTokenEndpoint(replaceIdToken: (nonce: string) => Promise<string>) {
      const tampering: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input instanceof Request ? input.url : input).endsWith("/token")) return response;
        const body = (await response.json()) as Record<string, unknown>;
        const original = JSON.parse(Buffer.from(String(body.id_token).split(".")[1], "base64url").toString("utf8")) as { nonce: string };
        return new Response(JSON.stringify({ ...body, id_token: await replaceIdToken(original.nonce) }), { status: response.status, headers: { "Content-Type": "application/json" } });
      };
      const logger = createLogger({ service: "decision", write: (line) => harness.logLines.push(line) });
      const handler = createHandler({
        ...dependenciesFromEnvironment(harness.env),
        now: () => harness.clock.now,
        logger,
        signIn: new OpenIdSignIn({ issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: async () => CLIENT_SECRET, fetch: tampering }),
      });
      return (call: HttpCall) => handler(EVENT_BUILDERS[transport](call)) as Promise<HttpResponse>;
    }

    async function callbackWith(replaceIdToken: (nonce: string) => Promise<string>) {
      const call = handlerWithTokenEndpoint(replaceIdToken);
      const approval = await harness.requestApproval({ title: "Forged token" });
      const jar = new CookieJar();
      const opened = await call({ method: "GET", path: approval.links[ANN], headers: browser(jar) });
      jar.applyDecision(opened);
      const back = await signInAtProvider(opened.headers.Location, ANN, provider.password);
      const answer = await call({ method: "GET", ...callOf(back, transport), headers: browser(jar) });
      jar.applyDecision(answer);
      return { answer, approval, jar };
    }

    it("accepts the provider's own token through the same path (the control case)", async () => {
      const { answer } = await callbackWith(async (nonce) => idTokenFrom(CLIENT_ID, CLIENT_SECRET, redirectUriFor(transport), nonce));
      assert.equal(answer.statusCode, 302);
      assert.ok(setCookiesOf(answer).some((cookie) => cookie.startsWith("__Host-approval-session-")));
    });

    it("refuses a genuine token for another client (wrong audience), even with the right nonce", async () => {
      const { answer, approval, jar } = await callbackWith(async (nonce) => idTokenFrom(OTHER_CLIENT_ID, "another-secret-0123456789", "https://other.example.com/callback", nonce));
      assert.equal(answer.statusCode, 400);
      assert.equal(headingOf(answer), "Sign-in could not be verified");
      assert.ok(!jar.names.some((name) => name.startsWith("__Host-approval-session-")));
      assert.deepEqual(await votesOf(approval), []);
    });

    it("refuses a genuine token for our client with another nonce (a token from another login)", async () => {
      const { answer } = await callbackWith(async () => idTokenFrom(CLIENT_ID, CLIENT_SECRET, redirectUriFor(transport), "some-other-nonce-0123456789"));
      assert.equal(answer.statusCode, 400);
      assert.equal(headingOf(answer), "Sign-in could not be verified");
    });

    it("answers 503 with retry advice when the token endpoint does not answer; the login cookie stays for a retry", async () => {
      const { answer, approval } = await callbackWith(async () => {
        throw new TypeError("fetch failed");
      });
      assert.equal(answer.statusCode, 503);
      assert.equal(answer.headers["Retry-After"], "30");
      assert.match(answer.body, /Sign-in is unavailable right now/);
      assert.deepEqual(await votesOf(approval), []);
    });

    it("refuses a token with the right claims signed by a key that is not the provider's", async () => {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const { answer } = await callbackWith(async (nonce) => {
        const genuine = await idTokenFrom(CLIENT_ID, CLIENT_SECRET, redirectUriFor(transport), nonce);
        const [header, payload] = genuine.split(".");
        const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(privateKey).toString("base64url");
        return `${header}.${payload}.${signature}`;
      });
      assert.equal(answer.statusCode, 400);
      assert.equal(headingOf(answer), "Sign-in could not be verified");
      assert.ok(harness.logLines.some((line) => line.includes("signature")), "the log says why");
    });
  });

  describe("the client secret and the bundle", () => {
    it("reads the secret from Secrets Manager once per container, not per request", async () => {
      const handler = createHandler({ ...dependenciesFromEnvironment(harness.env), now: () => harness.clock.now, logger: createLogger({ service: "decision", write: () => undefined }) });
      const approval = await harness.requestApproval({ title: "Cached secret" });
      const reads = harness.counter("GetSecretValue");
      for (let request = 0; request < 4; request++) {
        const answer = (await handler(EVENT_BUILDERS.httpApi({ method: "GET", path: approval.links[ANN], headers: browser(new CookieJar()) }))) as HttpResponse;
        assert.equal(answer.statusCode, 302);
      }
      assert.equal(reads(), 1);
    });

    it("the bundled decision function (as Lambda runs it, no node_modules) signs in and votes: oauth4webapi and the Secrets Manager client are inside", async function () {
      this.timeout(120_000);
      const directory = mkdtempSync(path.join(tmpdir(), "bundle-sign-in-"));
      const environment = { ...harness.env, LOG_LEVEL: "ERROR" };
      const previous = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
      try {
        Object.assign(process.env, environment);
        const file = path.join(directory, "decision.js");
        writeFileSync(file, await bundleHandler("decision"));
        const bundled = require(file) as { handler: (event: unknown) => Promise<HttpResponse> };
        const call = (transport: Transport, request: HttpCall) => bundled.handler(EVENT_BUILDERS[transport](request));
        const approval = await harness.requestApproval({ title: "Bundled sign-in" });
        const jar = new CookieJar();
        const opened = await call("restApi", { method: "GET", path: approval.links[ANN], headers: browser(jar) });
        assert.equal(opened.statusCode, 302);
        jar.applyDecision(opened);
        const back = await signInAtProvider(opened.headers.Location, ANN, provider.password);
        const callback = await call("restApi", { method: "GET", ...callOf(back, "restApi"), headers: browser(jar) });
        assert.equal(callback.statusCode, 302, callback.body);
        jar.applyDecision(callback);
        const voted = await call("restApi", formPost(approval.links[ANN], { decision: "approve" }, { Cookie: jar.header() }));
        assert.equal(voted.statusCode, 200);
        assert.equal((await approval.received).verifiedBy, provider.issuer);
      } finally {
        for (const [name, value] of Object.entries(previous)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });

  describe("failures of the provider or the secret, and sign-in off", () => {
    it("answers 503 with retry advice when the provider cannot be reached or the secret cannot be read; nothing recorded", async () => {
      const approval = await harness.requestApproval({ title: "Provider down" });
      const unreachable = new OpenIdSignIn({ issuer: "http://127.0.0.1:9", clientId: CLIENT_ID, clientSecret: async () => CLIENT_SECRET, timeoutMs: 500 });
      const noSecret = { ...harness.env, SIGN_IN_SECRET_ARN: `${SECRET_ARN}-missing` };
      for (const dependencies of [{ ...dependenciesFromEnvironment(harness.env), signIn: unreachable }, dependenciesFromEnvironment(noSecret)]) {
        const handler = createHandler({ ...dependencies, now: () => harness.clock.now, logger: createLogger({ service: "decision", write: () => undefined }) });
        const answer = (await handler(EVENT_BUILDERS.httpApi({ method: "GET", path: approval.links[ANN], headers: browser(new CookieJar()) }))) as HttpResponse;
        assert.equal(answer.statusCode, 503);
        assert.equal(answer.headers["Retry-After"], "30");
        assert.match(answer.body, /Sign-in is unavailable right now/);
      }
      assert.deepEqual(await votesOf(approval), []);
    });

    it("with sign-in off, links open and vote as before and /auth/callback is not found", async () => {
      const env = Object.fromEntries(Object.entries(harness.env).filter(([name]) => !name.startsWith("SIGN_IN_")));
      const handler = createHandler({ ...dependenciesFromEnvironment(env), now: () => harness.clock.now, logger: createLogger({ service: "decision", write: () => undefined }) });
      const approval = await harness.requestApproval({ title: "No sign-in" });
      for (const transport of ALL_TRANSPORTS) {
        const callback = (await handler(EVENT_BUILDERS[transport]({ method: "GET", path: "/auth/callback", query: { code: "x", state: "y" } }))) as HttpResponse;
        assert.equal(callback.statusCode, 404);
        const page = (await handler(EVENT_BUILDERS[transport]({ method: "GET", path: approval.links[ANN] }))) as HttpResponse;
        assert.equal(page.statusCode, 200);
        assert.equal(setCookiesOf(page).length, 0);
      }
      const voted = (await handler(EVENT_BUILDERS.restApi(formPost(approval.links[ANN], { decision: "approve" })))) as HttpResponse;
      assert.equal(voted.statusCode, 200);
      const output = await approval.received;
      assert.equal(output.verifiedBy, undefined);
      assert.equal((await votesOf(approval))[0].verifiedBy, undefined);
    });

    it("logs no code, state, nonce, cookie, link id or secret, on success or failure", async () => {
      const approval = await harness.requestApproval({ title: "Logs" });
      const start = harness.logLines.length;
      const { back, jar, loginCookies } = await signIn("restApi", approval.links[ANN], ANN);
      await harness.call("restApi", formPost(approval.links[ANN], { decision: "approve" }, { Cookie: jar.header() }));
      // Failures too: a replay, and a forged state.
      const replayJar = new CookieJar();
      for (const [name, value] of loginCookies) replayJar.cookies.set(name, value);
      const callback = callOf(back, "restApi");
      assert.equal((await harness.call("restApi", { method: "GET", ...callback, headers: browser(replayJar) })).statusCode, 400);
      assert.equal((await harness.call("restApi", { method: "GET", path: callback.path, query: { ...callback.query, state: "forged-state-value-0123456789" }, headers: browser(replayJar) })).statusCode, 400);
      const logs = harness.logLines.slice(start).join("\n");
      assert.match(logs, /Sign-in refused/);
      const secrets = [back.searchParams.get("code")!, back.searchParams.get("state")!, "forged-state-value-0123456789", approval.links[ANN].split("/").pop()!, CLIENT_SECRET, ...jar.cookies.values(), ...loginCookies.values()];
      for (const secret of secrets) assert.ok(!logs.includes(secret), `the logs hold ${secret.slice(0, 12)}…`);
    });
  });
});

/** The session cookie name a link expects (cookies.ts), computed as the function does. */
async function sessionCookieNameFor(linkPath: string): Promise<string> {
  const { sessionCookieName }: typeof import("../../functions/decision/signIn/cookies") = require("../../functions/decision/signIn/cookies");
  return sessionCookieName(linkPath.split("/").pop()!);
}

describe("sign-in with a provider that keeps the email address in UserInfo", function () {
  this.timeout(60_000);

  it("reads email and email_verified from UserInfo (subject checked) when the ID token lacks them", async () => {
    const provider = await startLocalOpenIdProvider({ accounts: [{ login: ANN }], clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUriFor("httpApi")] }], emailInIdToken: false });
    const harness = await startHarness(STACK);
    try {
      harness.standIn.secrets.set(SECRET_ARN, CLIENT_SECRET);
      Object.assign(harness.env, { SIGN_IN_ISSUER: provider.issuer, SIGN_IN_CLIENT_ID: CLIENT_ID, SIGN_IN_SECRET_ARN: SECRET_ARN });
      harness.configure(STACK);
      const approval = await harness.requestApproval({ title: "UserInfo" });
      const jar = new CookieJar();
      const opened = await harness.call("httpApi", { method: "GET", path: approval.links[ANN], headers: browser(jar) });
      jar.applyDecision(opened);
      const back = await signInAtProvider(opened.headers.Location, ANN, provider.password);
      const callback = await harness.call("httpApi", { method: "GET", ...callOf(back, "httpApi"), headers: browser(jar) });
      assert.equal(callback.statusCode, 302, callback.body);
      jar.applyDecision(callback);
      const voted = await harness.call("httpApi", formPost(approval.links[ANN], { decision: "approve" }, { Cookie: jar.header() }));
      assert.equal(voted.statusCode, 200);
      assert.equal((await approval.received).verifiedBy, provider.issuer);
    } finally {
      await harness.close();
      await provider.close();
    }
  });
});
