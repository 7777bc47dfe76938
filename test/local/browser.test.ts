import { strict as assert } from "node:assert";
import { launchChromiumOrSkip } from "../support/chromium";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { type Browser, type Page } from "playwright-core";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { startLocalApprovals, type ApprovalEmail, type LocalApprovals } from "../../local/localApprovals";

const SCREENSHOTS = path.resolve(__dirname, "../../.local/screenshots");
/** The picture of a review page with votes (docs/http.md). */
const README_SCREENSHOT = path.resolve(__dirname, "../../docs/review-page.png");
const [ANN, BOB, CY] = ["ann@example.com", "bob@example.com", "cy@example.com"];

/** Presses a button of the page's form and waits for the answer page to load. */
async function press(page: Page, name: "Approve" | "Reject"): Promise<number> {
  const [response] = await Promise.all([page.waitForResponse((candidate) => candidate.request().method() === "POST"), page.getByRole("button", { name }).click()]);
  await page.waitForLoadState("load");
  return response.status();
}

describe("the approval in a real browser (headless Chromium)", function () {
  this.timeout(60_000);
  let browser: Browser;
  let local: LocalApprovals;

  before(async function () {
    browser = await launchChromiumOrSkip(this);
    mkdirSync(SCREENSHOTS, { recursive: true });
    local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 86_400, approverEmails: [ANN, BOB, CY], requiredApprovals: 2 });
  });
  after(async () => {
    await browser?.close();
    await local?.close();
  });

  it("2 of 3: an approver opens their link and approves; the next one sees that vote, approves, and the execution ends approved", async () => {
    const execution = local.startExecution({
      title: "Deploy release 2026.11 to production",
      description: "Staging is green.",
      requestedBy: "dee@example.com",
      details: { service: "checkout", version: "2026.11.0" },
    });
    const emails = await execution.emails;
    const linkOf = (approver: string) => (emails.find((email) => email.approver === approver) as ApprovalEmail).reviewUrl;
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    const consoleErrors: string[] = [];
    page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));

    const review = await page.goto(linkOf(ANN));
    assert.equal(review?.status(), 200);
    const text = (await page.locator("main").textContent()) ?? "";
    assert.match(text, /Deploy release 2026\.11 to production/);
    assert.match(text, /2026\.11\.0/, "the details are shown");
    assert.ok(text.includes(ANN), "the page names whose link it is");
    assert.match(text, /dee@example\.com/, "and who asked");
    assert.equal(await page.getByLabel(/Comment/).count(), 1, "the comment box has a label");
    assert.equal(await page.locator("[autofocus]").count(), 0, "no autofocused button");
    assert.equal(await page.locator("script").count(), 0, "no JavaScript");

    await page.getByLabel(/Comment/).fill("Checked the dashboards.");
    assert.equal(await press(page, "Approve"), 200);
    assert.match((await page.locator("main").textContent()) ?? "", /1 of 2 approvals/);
    assert.equal(await page.locator("form").count(), 0, "one vote per approver: no second chance to click");
    assert.equal((await fetch(`${local.origin}/executions/${execution.executionName}`).then((response) => response.json()) as { status: string }).status, "RUNNING");

    // Bob's link, after Ann's vote: the picture of a review page with votes.
    const second = await page.goto(linkOf(BOB));
    assert.equal(second?.status(), 200);
    const votes = page.locator(".votes li");
    assert.equal(await votes.count(), 1);
    assert.match((await votes.first().textContent()) ?? "", /ann@example\.com approved at .*Checked the dashboards\./);
    assert.ok(((await page.locator("main").textContent()) ?? "").includes(BOB), "Bob's page names Bob");
    // The docs' pictures change only when asked (UPDATE_SCREENSHOTS=1 npm test): a test run leaves the tree clean.
    if (process.env.UPDATE_SCREENSHOTS === "1") await page.screenshot({ path: README_SCREENSHOT, fullPage: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, "review-page-with-votes.png"), fullPage: true });

    assert.equal(await press(page, "Approve"), 200);
    await page.waitForSelector("h1:text('Approved')");
    assert.equal(await page.locator("form").count(), 0);
    assert.equal(await page.locator(".votes li").count(), 2);
    await page.screenshot({ path: path.join(SCREENSHOTS, "result-page.png"), fullPage: true });

    const outcome = await execution.outcome;
    assert.equal(outcome.path.at(-1), STATE_NAMES.approved);
    assert.deepEqual(outcome.path.slice(-4), [STATE_NAMES.requestApproval, STATE_NAMES.verifyDecision, STATE_NAMES.choice, STATE_NAMES.approved]);
    const approval = (outcome.output as { approval: { decidedBy: string; approvals: Array<{ approver: string; comment: string }> } }).approval;
    assert.equal(approval.decidedBy, BOB);
    assert.deepEqual(approval.approvals.map(({ approver, comment }) => ({ approver, comment })), [
      { approver: ANN, comment: "Checked the dashboards." },
      { approver: BOB, comment: "" },
    ]);

    // Cy's link after the quorum: the outcome, and no buttons.
    const late = await page.goto(linkOf(CY));
    assert.equal(late?.status(), 200);
    assert.equal(await page.locator("h1").textContent(), "Approved");
    assert.equal(await page.locator("form").count(), 0);
    assert.deepEqual(consoleErrors, [], "no Content-Security-Policy violation or other console error");
  });

  it("fits a phone screen: no horizontal scrolling, and ?choice=approve only highlights the button", async () => {
    const execution = local.startExecution({ title: "A rather long title that must wrap nicely on a small phone screen without overflowing", details: { note: "x".repeat(300) } });
    const [{ reviewUrl }] = await execution.emails;
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await page.goto(`${reviewUrl}?choice=approve`);
    const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    assert.ok(Number(overflow) <= 0, `page is ${overflow}px wider than the screen`);
    assert.match((await page.getByRole("button", { name: "Approve" }).getAttribute("class")) ?? "", /chosen/);
    assert.equal(await page.locator("[autofocus]").count(), 0, "a preselection is no autofocus");
    assert.equal(await page.evaluate("document.activeElement === document.body"), true, "nothing has focus: a stray Enter decides nothing");
    await page.screenshot({ path: path.join(SCREENSHOTS, "review-page-phone.png"), fullPage: true });
    const view = (await (await fetch(reviewUrl, { headers: { Accept: "application/json" } })).json()) as { votes: unknown[]; status: string };
    assert.deepEqual([view.status, view.votes], ["pending", []], "opening the preselecting link decided nothing");
  });
});
