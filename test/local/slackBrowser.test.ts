import { strict as assert } from "node:assert";
import * as path from "node:path";
import { type Browser } from "playwright-core";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";
import { launchChromiumOrSkip } from "../support/chromium";

/** The docs' picture of the Slack stand-in's direct messages (docs/slack.md). */
const DOCS_SCREENSHOT = path.resolve(__dirname, "../../docs/slack-direct-message.png");
const [ANN, BOB, CY] = ["ann@example.com", "bob@example.com", "cy@example.com"];

/**
 * `npm start -- --slack`, in headless Chromium: the whole flow with the local Slack stand-in, one vote
 * pressed on the stand-in's page (a signed interaction payload to the local gateway) and one from an email link.
 */
describe("Slack in local mode (the stand-in's page in headless Chromium)", function () {
  this.timeout(90_000);
  let browser: Browser;
  let local: LocalApprovals;

  before(async function () {
    browser = await launchChromiumOrSkip(this);
    // CY has no Slack account in this workspace: email only.
    local = await startLocalApprovals({ transport: "restApi", approvalTimeoutSeconds: 86_400, approverEmails: [ANN, BOB, CY], requiredApprovals: 2, slack: { members: [ANN, BOB, "dee@example.com"] } });
  });
  after(async () => {
    await browser?.close();
    await local?.close();
  });

  it("2 of 3, mixed: BOB approves with his email link, ANN presses Approve in her Slack direct message; every message then shows the outcome", async () => {
    const slack = local.slack!;
    const execution = local.startExecution({ title: "Deploy release 2026.11 to production", description: "Staging is green.", requestedBy: "dee@example.com", details: { service: "checkout", version: "2026.11.0" } });
    const emails = await execution.emails;
    assert.equal(emails.length, 3, "every approver is emailed");
    assert.equal(slack.messages.length, 2, "ANN and BOB are in Slack; CY is not");

    const bob = emails.find((email) => email.approver === BOB)!;
    const byEmail = await fetch(bob.reviewUrl, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision: "approve", comment: "by email" }) });
    assert.equal(byEmail.status, 200);

    const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
    await page.goto(`${slack.origin}/`);
    const annMessages = page.locator("section", { hasText: `Direct messages of ${ANN}` });
    const text = (await annMessages.textContent()) ?? "";
    for (const shown of ["Deploy release 2026.11 to production", "Requested by: dee@example.com", "Fingerprint:", "version: 2026.11.0", "Votes so far"]) assert.ok(text.includes(shown), shown);
    assert.equal(await annMessages.getByRole("link", { name: "Open review page" }).getAttribute("href"), emails.find((email) => email.approver === ANN)!.reviewUrl, "the button opens ANN's own review page");
    // The docs' picture changes only when asked (UPDATE_SCREENSHOTS=1): a test run leaves the tree clean.
    if (process.env.UPDATE_SCREENSHOTS === "1") await annMessages.screenshot({ path: DOCS_SCREENSHOT });

    await Promise.all([page.waitForURL(/notice=/), annMessages.getByRole("button", { name: "Approve" }).click()]);
    assert.match(decodeURIComponent(page.url()), /notice=200: Your approval is recorded; the request is (approved|settling)/);

    const outcome = await execution.outcome;
    assert.equal(outcome.path.at(-1), STATE_NAMES.approved);
    const approval = (outcome.output as { approval: { approvals: Array<{ approver: string; channel: string; verifiedBy?: string }> } }).approval;
    assert.deepEqual(approval.approvals.map(({ approver, channel }) => [approver, channel]), [[BOB, "email"], [ANN, "slack"]]);
    assert.match(approval.approvals[1].verifiedBy ?? "", /^slack:T/);
    await page.goto(`${slack.origin}/`);
    assert.equal(await page.getByRole("button", { name: "Approve" }).count(), 0, "no buttons left on any message");
    assert.equal(await page.locator("h3", { hasText: /^Approved: Deploy release/ }).count(), 2);
  });
});
