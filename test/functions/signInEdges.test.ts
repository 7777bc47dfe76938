/**
 * Sign-in protections no other test would miss, against the real local OpenID provider and the real
 * decision handler, on every transport:
 * - the login cookie's server-side expiry (the sealed `x`), with the clock moved past it between the login's
 *   start and the provider's callback (the provider's own code is still good: only our expiry refuses);
 * - an ID token that carries no `email_verified` claim at all (not false: absent);
 * - an approver removed from the stack between the login's start and the callback.
 * Each: no session cookie, nothing shown, nothing recorded.
 */
import { strict as assert } from "node:assert";
import type { Transport } from "../../functions/decision/httpEvent";
import { startLocalOpenIdProvider, type LocalOpenIdProvider } from "../../local/openIdProvider";
import { ALL_TRANSPORTS, formPost } from "../support/events";
import { headingOf, startHarness, type Harness, type RequestedApproval } from "../support/harness";
import { callOf, CookieJar, redirectUriFor, setCookiesOf, signInAtProvider } from "../support/signIn";

const ANN = "ann@example.com";
const BOB = "bob@example.com";
/** An account whose ID token (and UserInfo) carries `email` but no `email_verified` claim. */
const SILENT = "silent@example.com";
const CLIENT_ID = "human-approval-edges";
const CLIENT_SECRET = "edges-client-secret-0123456789abcdef";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:human-approval-sign-in-EdGeS1";
/** How long a login may take between its start and the callback, written out (10 minutes). */
const LOGIN_SECONDS = 600;
const STACK = { approverEmails: [ANN, BOB, SILENT], requiredApprovals: 1, allowSelfApproval: false };

describe("sign-in edges: login expiry, no email_verified claim, an approver removed mid-login", function () {
  this.timeout(60_000);
  let provider: LocalOpenIdProvider;
  let harness: Harness;

  before(async () => {
    provider = await startLocalOpenIdProvider({
      accounts: [{ login: ANN }, { login: BOB }, { login: SILENT, emailVerified: null }],
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: ALL_TRANSPORTS.map(redirectUriFor) }],
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

  const browser = (jar: CookieJar) => ({ Accept: "text/html,application/xhtml+xml", "User-Agent": "Mozilla/5.0 test", ...(jar.cookies.size ? { Cookie: jar.header() } : {}) });
  const hasSession = (cookies: string[]) => cookies.some((cookie) => /^__Host-approval-session-[^=]*=[^;]+/.test(cookie));

  /** Starts the login on the link and walks the provider's form; `between` runs before the callback reaches us. */
  async function login(transport: Transport, approval: RequestedApproval, approver: string, between: () => void = () => undefined) {
    const jar = new CookieJar();
    const opened = await harness.call(transport, { method: "GET", path: approval.links[approver], headers: browser(jar) });
    assert.equal(opened.statusCode, 302, "the link sends the browser to the provider");
    jar.applyDecision(opened);
    const back = await signInAtProvider(opened.headers.Location, approver, provider.password);
    assert.ok(back.searchParams.get("code"), "the provider signed them in");
    between();
    const callback = await harness.call(transport, { method: "GET", ...callOf(back, transport), headers: browser(jar) });
    jar.applyDecision(callback);
    return { callback, jar };
  }

  /** Nothing was recorded, and the link still asks for a sign-in (a POST with this browser's cookies decides nothing). */
  async function assertNothingDecided(transport: Transport, approval: RequestedApproval, approver: string, jar: CookieJar) {
    const post = await harness.call(transport, formPost(approval.links[approver], { decision: "approve" }, { Cookie: jar.header() }));
    assert.notEqual(post.statusCode, 200, "the POST decided nothing");
    assert.deepEqual((await harness.stored(approval.requestRef)).votes, []);
    assert.equal(approval.deliveries(), 0);
  }

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it("a callback after the login expired (the clock moved past 10 minutes since its start) is refused: no session", async () => {
        const approval = await harness.requestApproval({ title: "Slow login" });
        // Control: one second inside the limit signs in.
        const inTime = await login(transport, approval, ANN, () => harness.clock.advanceSeconds(LOGIN_SECONDS - 1));
        harness.clock.advanceSeconds(-(LOGIN_SECONDS - 1));
        assert.equal(inTime.callback.statusCode, 302, inTime.callback.body);
        assert.ok(hasSession(setCookiesOf(inTime.callback)), "in time: a session");

        const late = await login(transport, approval, ANN, () => harness.clock.advanceSeconds(LOGIN_SECONDS));
        try {
          assert.equal(late.callback.statusCode, 400, late.callback.body);
          assert.ok(!hasSession(setCookiesOf(late.callback)), "no session cookie");
          assert.ok(setCookiesOf(late.callback).some((cookie) => /^__Host-approval-login-[^=]*=; Max-Age=0/.test(cookie)), "the expired attempt is cleared");
          await assertNothingDecided(transport, approval, ANN, late.jar);
        } finally {
          harness.clock.advanceSeconds(-LOGIN_SECONDS);
        }
      });

      it("an ID token without email_verified is refused like an unverified address: 403, no session, nothing recorded", async () => {
        const approval = await harness.requestApproval({ title: "No email_verified", approvers: [SILENT] });
        const { callback, jar } = await login(transport, approval, SILENT);
        assert.equal(callback.statusCode, 403, callback.body);
        assert.equal(headingOf(callback), "Email address not verified");
        assert.ok(!hasSession(setCookiesOf(callback)));
        await assertNothingDecided(transport, approval, SILENT, jar);
      });

      it("an approver removed from the stack during their login: the callback answers 403 'no longer works', no session", async () => {
        const approval = await harness.requestApproval({ title: "Removed mid-login", approvers: [BOB] });
        try {
          const { callback, jar } = await login(transport, approval, BOB, () => harness.configure({ approverEmails: [ANN, SILENT] }));
          assert.equal(callback.statusCode, 403, callback.body);
          assert.equal(headingOf(callback), "This link no longer works");
          assert.ok(!hasSession(setCookiesOf(callback)), "no session for a removed approver");
          // Even added back, the refused callback left nothing behind to decide with.
          harness.configure(STACK);
          await assertNothingDecided(transport, approval, BOB, jar);
        } finally {
          harness.configure(STACK);
        }
      });
    });
  }
});
