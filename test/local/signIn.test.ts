import { strict as assert } from "node:assert";
import type { Transport } from "../../functions/decision/httpEvent";
import { parseCliOptions, UsageError } from "../../local/cliOptions";
import { LOCAL_OUTSIDER, startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";
import { CookieJar, navigate } from "../support/signIn";

/**
 * `npm start -- --sign-in` over real HTTP on every transport: the local gateway, the decision function
 * with sign-in, and oidc-provider on 127.0.0.1, driven as a browser would (redirects, cookies, forms).
 */
const ANN = "ann@example.com";
const BOB = "bob@example.com";

interface ApprovalOutput {
  decision: string;
  decidedBy: string;
  verifiedBy?: string;
  approvals: Array<{ approver: string }>;
}
const approvalOf = (output: unknown) => (output as { approval: ApprovalOutput }).approval;
const formAction = (html: string) => /<form method="post" action="([^"]+)"/.exec(html)?.[1];

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`local mode with sign-in over ${transport}`, function () {
    this.timeout(30_000);
    let local: LocalApprovals;
    before(async () => (local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400, approverEmails: [ANN, BOB], signIn: true })));
    after(async () => local?.close());

    /** Opens a link in a fresh browser and signs in at the local provider as `login`; the page it lands on. */
    async function openAndSignIn(reviewUrl: string, login: string, jar = new CookieJar()) {
      const loginPage = await navigate(reviewUrl, jar);
      assert.equal(loginPage.response.status, 200);
      assert.ok(loginPage.url.startsWith(local.openIdProvider!.issuer), `the link leads to the provider: ${loginPage.hops.join(" → ")}`);
      const action = formAction(loginPage.body);
      assert.ok(action, "the provider shows its login form");
      const landed = await navigate(new URL(action!, loginPage.url).href, jar, { method: "POST", form: { login, password: local.openIdProvider!.password } });
      return { ...landed, jar };
    }

    it("the approver signs in at the local provider, sees the page and approves: the output carries verifiedBy", async () => {
      const execution = local.startExecution({ title: "Signed-in release" });
      const emails = await execution.emails;
      const annsLink = emails.find((email) => email.approver === ANN)!.reviewUrl;
      const { response, url, body, jar, hops } = await openAndSignIn(annsLink, ANN);
      assert.equal(response.status, 200, hops.join(" → "));
      assert.equal(url, annsLink, "back on the link after sign-in");
      assert.match(body, /Signed-in release/);
      assert.ok(body.replace(/<[^>]+>/g, "").includes(`Signed in as ${ANN}, verified by ${local.openIdProvider!.issuer}`));
      assert.ok(hops.some((hop) => hop.endsWith("/auth/callback")), hops.join(" → "));

      const voted = await navigate(annsLink, jar, { method: "POST", form: { decision: "approve", comment: "verified" }, headers: { "Sec-Fetch-Site": "same-origin" } });
      assert.equal(voted.response.status, 200);
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "SUCCEEDED");
      const approval = approvalOf(outcome.output);
      assert.equal(approval.decision, "approved");
      assert.equal(approval.decidedBy, ANN);
      assert.equal(approval.verifiedBy, local.openIdProvider!.issuer);
    });

    it("someone else who signs in gets 403 naming both addresses, and nothing is decided", async () => {
      const execution = local.startExecution({ title: "Not for Bob" });
      const annsLink = (await execution.emails).find((email) => email.approver === ANN)!.reviewUrl;
      for (const intruder of [BOB, LOCAL_OUTSIDER]) {
        const { response, body } = await openAndSignIn(annsLink, intruder);
        assert.equal(response.status, 403);
        assert.ok(body.includes(`You are signed in as ${intruder}`));
        assert.ok(!body.includes("Not for Bob"), "nothing of the request is shown");
      }
      const status = (await (await fetch(`${local.origin}/executions/${execution.executionName}`)).json()) as { status: string };
      assert.equal(status.status, "RUNNING");
    });

    it("a mail scanner's GET, HEAD and POST reach the provider's login page at most, and decide nothing", async () => {
      const execution = local.startExecution({ title: "Scanned" });
      const link = (await execution.emails)[0].reviewUrl;
      for (const method of ["GET", "HEAD", "GET"]) {
        const answer = await fetch(`${link}?choice=approve`, { method, redirect: "manual", headers: { "User-Agent": "Mozilla/5.0 (compatible; SafeLinks scanner)" } });
        assert.equal(answer.status, 302);
        assert.ok(answer.headers.get("location")!.startsWith(local.openIdProvider!.issuer));
      }
      const followed = await navigate(link, new CookieJar());
      assert.ok(followed.url.startsWith(local.openIdProvider!.issuer));
      assert.match(followed.body, /Sign in/);
      const posted = await fetch(link, { method: "POST", redirect: "manual", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "decision=approve" });
      assert.equal(posted.status, 303);
      const status = (await (await fetch(`${local.origin}/executions/${execution.executionName}`)).json()) as { status: string };
      assert.equal(status.status, "RUNNING");
    });
  });
}

describe("npm start -- --sign-in", () => {
  const defaults = { transport: "functionUrl" as const, approverEmails: [ANN] };

  it("is off by default and on with the flag", () => {
    assert.equal(parseCliOptions([], defaults).signIn, false);
    assert.equal(parseCliOptions(["--sign-in"], defaults).signIn, true);
  });

  it("is refused off this machine: browsers keep its Secure cookies only on loopback (or https)", () => {
    assert.throws(() => parseCliOptions(["--sign-in", "--host", "0.0.0.0"], defaults), (error: Error) => error instanceof UsageError && /--sign-in with --host 0\.0\.0\.0: sign-in works on this machine only/.test(error.message));
    assert.equal(parseCliOptions(["--sign-in", "--host", "localhost"], defaults).signIn, true);
  });
});
