import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser } from "playwright-core";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";
import { launchChromiumOrSkip } from "../support/chromium";

const ANN = "ann@example.com";

/**
 * Clickjacking: a review page framed by another origin must not render, since a click inside the frame would
 * arrive as Sec-Fetch-Site: same-origin. X-Frame-Options: DENY and CSP frame-ancestors 'none' forbid it.
 */
describe("a review page framed by another origin does not render (headless Chromium)", function () {
  this.timeout(60_000);
  let browser: Browser;
  let local: LocalApprovals;
  let attacker: Server;
  let framed = "";

  before(async function () {
    browser = await launchChromiumOrSkip(this);
    local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 86_400, approverEmails: [ANN], requiredApprovals: 1 });
    // Another origin (another port) whose page frames the review link.
    attacker = createServer((_request, response) => response.writeHead(200, { "Content-Type": "text/html" }).end(`<!doctype html><title>Win a prize</title><iframe src="${framed}" width="800" height="600"></iframe>`));
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    await browser?.close();
    await local?.close();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  it("the frame shows neither the review page, its buttons nor the request", async () => {
    const execution = local.startExecution({ title: "Framed release 7" });
    const [email] = await execution.emails;
    framed = email.reviewUrl;
    const page = await browser.newPage();
    try {
      const reviewResponse = page.waitForResponse((response) => response.url() === framed);
      // "load" waits for the iframe too, whether its page rendered or was blocked.
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`, { waitUntil: "load" });
      assert.equal((await reviewResponse).status(), 200, "the framed link was fetched");
      const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
      assert.ok(frame, "the attacker's page has its iframe");
      await frame.waitForLoadState("load");
      assert.notEqual(frame.url(), framed, "the review page was not committed into the frame (Chromium shows its own error page)");
      assert.equal(await frame.getByRole("button", { name: /Approve|Reject/ }).count(), 0, "no decision button inside the frame");
      assert.doesNotMatch(await frame.content(), /Framed release 7/, "nothing of the request inside the frame");
    } finally {
      await page.close();
    }
  });
});
