import { strict as assert } from "node:assert";
import { launchChromiumOrSkip } from "../support/chromium";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { LOCAL_OUTSIDER, startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";

/**
 * Sign-in in a real browser: headless Chromium opens an emailed link, is sent to the local OpenID
 * provider (oidc-provider on 127.0.0.1), fills in its login form, comes back with a session cookie
 * (`__Host-`, Secure, on http://127.0.0.1: Chromium treats loopback as a secure context) and votes.
 */
const SCREENSHOTS = path.resolve(__dirname, "../../.local/screenshots");
const [ANN, BOB] = ["ann@example.com", "bob@example.com"];

async function signIn(page: Page, login: string, password: string): Promise<void> {
  await page.getByLabel("Email address").fill(login);
  await page.getByLabel("Password").fill(password);
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Sign in" }).click()]);
  await page.waitForLoadState("load");
}

describe("sign-in in a real browser (headless Chromium + oidc-provider)", function () {
  this.timeout(60_000);
  let browser: Browser;
  let local: LocalApprovals;

  before(async function () {
    browser = await launchChromiumOrSkip(this);
    mkdirSync(SCREENSHOTS, { recursive: true });
    local = await startLocalApprovals({ transport: "restApi", approvalTimeoutSeconds: 3600, approverEmails: [ANN, BOB], signIn: true });
  });
  after(async () => {
    await browser?.close();
    await local?.close();
  });

  it("the approver opens the link, signs in at the provider's form, comes back with a session and approves", async () => {
    const execution = local.startExecution({ title: "Rotate the payment keys", description: "Quarterly rotation.", details: { service: "payments" } });
    const link = (await execution.emails).find((email) => email.approver === ANN)!.reviewUrl;
    const context: BrowserContext = await browser.newContext({ viewport: { width: 900, height: 900 } });
    const page = await context.newPage();

    await page.goto(link);
    assert.ok(page.url().startsWith(local.openIdProvider!.issuer), `the link leads to the provider's login: ${page.url()}`);
    assert.equal(await page.getByRole("heading", { name: "Sign in" }).count(), 1);
    await page.screenshot({ path: path.join(SCREENSHOTS, "sign-in-provider-login.png") });
    // The login cookie the decision function set before sending the browser away: Chromium kept it.
    const before = await context.cookies();
    const login = before.find((cookie) => cookie.name.startsWith("__Host-approval-login-"));
    assert.ok(login, `Chromium kept the __Host- login cookie on http://127.0.0.1: ${before.map((cookie) => cookie.name).join(", ")}`);
    assert.deepEqual([login.secure, login.httpOnly, login.sameSite, login.path], [true, true, "Lax", "/"]);

    await signIn(page, ANN, local.openIdProvider!.password);
    assert.equal(page.url(), link, "back on the link after sign-in");
    const text = (await page.locator("main").textContent()) ?? "";
    assert.match(text, /Rotate the payment keys/);
    assert.ok(text.includes(`Signed in as ${ANN}, verified by ${local.openIdProvider!.issuer}`), text);
    const cookies = await context.cookies();
    assert.ok(!cookies.some((cookie) => cookie.name.startsWith("__Host-approval-login-")), "the login cookie was used once and cleared");
    const session = cookies.find((cookie) => cookie.name.startsWith("__Host-approval-session-"));
    assert.ok(session, "a session cookie");
    assert.deepEqual([session.secure, session.httpOnly, session.sameSite, session.path], [true, true, "Lax", "/"]);
    assert.ok(session.expires - Date.now() / 1000 <= 15 * 60 + 5, "15 minutes at most");
    await page.screenshot({ path: path.join(SCREENSHOTS, "sign-in-review-page.png"), fullPage: true });

    await page.getByLabel(/Comment/).fill("rotated with a verified identity");
    const [response] = await Promise.all([page.waitForResponse((candidate) => candidate.request().method() === "POST"), page.getByRole("button", { name: "Approve" }).click()]);
    await page.waitForLoadState("load");
    assert.equal(response.status(), 200);
    await page.screenshot({ path: path.join(SCREENSHOTS, "sign-in-approved.png"), fullPage: true });

    const outcome = await execution.outcome;
    const approval = (outcome.output as { approval: { decision: string; decidedBy: string; verifiedBy?: string; comment: string } }).approval;
    assert.deepEqual([approval.decision, approval.decidedBy, approval.verifiedBy, approval.comment], ["approved", ANN, local.openIdProvider!.issuer, "rotated with a verified identity"]);
    await context.close();
  });

  it("another person who signs in sees whose link it is, and can sign in again as that approver", async () => {
    const execution = local.startExecution({ title: "Forwarded to the wrong person" });
    const link = (await execution.emails).find((email) => email.approver === ANN)!.reviewUrl;
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const page = await context.newPage();
    await page.goto(link);
    await signIn(page, LOCAL_OUTSIDER, local.openIdProvider!.password);
    const text = (await page.locator("main").textContent()) ?? "";
    assert.match(text, /This link is for someone else/);
    assert.ok(text.includes(`You are signed in as ${LOCAL_OUTSIDER}`) && text.includes(ANN), text);
    assert.ok(!text.includes("Forwarded to the wrong person"), "nothing of the request is shown");
    await page.screenshot({ path: path.join(SCREENSHOTS, "sign-in-wrong-approver.png"), fullPage: true });

    // "Sign in as ann@…": the provider asks for credentials again (prompt=login), and the right person gets in.
    await Promise.all([page.waitForLoadState("load"), page.getByRole("link", { name: `Sign in as ${ANN}` }).click()]);
    assert.ok(page.url().startsWith(local.openIdProvider!.issuer));
    await signIn(page, ANN, local.openIdProvider!.password);
    assert.equal(page.url(), link);
    assert.equal(await page.getByRole("button", { name: "Approve" }).count(), 1);
    const status = (await (await fetch(`${local.origin}/executions/${execution.executionName}`)).json()) as { status: string };
    assert.equal(status.status, "RUNNING", "nothing was decided");
    await context.close();
  });
});
