import { strict as assert } from "node:assert";
import { existsSync, mkdirSync } from "node:fs";
import * as path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = path.resolve(__dirname, "../../.local/screenshots");
const INSTALL_HINT = `Headless Chromium not found at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (Debian), or set CHROMIUM_PATH.`;

describe("the approval in a real browser (headless Chromium)", function () {
  this.timeout(60_000);
  let browser: Browser;
  let local: LocalApprovals;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      // CI installs Chromium (.ci/run), so there a missing browser is a failure; on a laptop it is a hint.
      if (process.env.CI) throw new Error(INSTALL_HINT);
      console.log(`      (skipped) ${INSTALL_HINT}`);
      this.skip();
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
    });
    local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 3600 });
  });
  after(async () => {
    await browser?.close();
    await local?.close();
  });

  it("opens the emailed link, approves with a comment, sees the result, and the execution ends approved", async () => {
    const execution = local.startExecution({ title: "Deploy release 2026.11 to production", description: "Staging is green.", details: { service: "checkout", version: "2026.11.0" } });
    const { reviewUrl } = await execution.email;
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const consoleErrors: string[] = [];
    page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));

    const review = await page.goto(reviewUrl);
    assert.equal(review?.status(), 200);
    assert.equal(await page.locator("h1").textContent(), "Approval needed");
    assert.equal(await page.locator("h2").textContent(), "Deploy release 2026.11 to production");
    assert.match((await page.locator("pre").textContent()) ?? "", /"version": "2026.11.0"/);
    assert.equal(await page.getByLabel(/Comment/).count(), 1, "the comment box has a label");
    await page.screenshot({ path: path.join(SCREENSHOTS, "review-page.png"), fullPage: true });

    await page.getByLabel(/Comment/).fill("Checked the dashboards.");
    await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Approve" }).click()]);
    await page.waitForSelector("h1:text('Approved')");
    assert.match((await page.locator(".lead").textContent()) ?? "", /The workflow has been told/);
    assert.equal(await page.locator("form").count(), 0, "no second chance to click");
    await page.screenshot({ path: path.join(SCREENSHOTS, "result-page.png"), fullPage: true });

    const outcome = await execution.outcome;
    assert.deepEqual(outcome.path, [STATE_NAMES.requestApproval, STATE_NAMES.choice, STATE_NAMES.approved]);
    assert.equal((outcome.output as { approval: { comment: string } }).approval.comment, "Checked the dashboards.");
    assert.deepEqual(consoleErrors, [], "no Content-Security-Policy violation or other console error");
  });

  it("fits a phone screen: no horizontal scrolling on the review page", async () => {
    const execution = local.startExecution({ title: "A rather long title that must wrap nicely on a small phone screen without overflowing", details: { note: "x".repeat(300) } });
    const { reviewUrl } = await execution.email;
    const page = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true });
    await page.goto(`${reviewUrl}?choice=approve`);
    const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    assert.ok(Number(overflow) <= 0, `page is ${overflow}px wider than the screen`);
    assert.match((await page.getByRole("button", { name: "Approve" }).getAttribute("class")) ?? "", /chosen/);
    await page.screenshot({ path: path.join(SCREENSHOTS, "review-page-phone.png"), fullPage: true });
  });
});
