/**
 * Every page state, as the local stack serves it (headers and Content-Security-Policy included),
 * checked by axe-core inside headless Chromium in light and dark mode, on a desktop and a phone;
 * and on a phone the request's title, who asks, the expiry and the buttons fit the first screen.
 */
import { strict as assert } from "node:assert";
import { launchChromiumOrSkip } from "../support/chromium";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { type Browser, type BrowserContextOptions } from "playwright-core";
import { requestRefFor } from "../../functions/shared/approvalRequest";
import { startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";

const SCREENSHOTS = path.resolve(__dirname, "../../.local/screenshots/pages");
const DOCS = path.resolve(__dirname, "../../docs");
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
/** WCAG 2.1 A and AA, and axe's best practices. */
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
const [ANN, BOB, CY] = ["ann@example.com", "bob@example.com", "cy@example.com"];
const INPUT = {
  title: "Deploy release 2026.11 to production",
  description: "Staging has been green for two days.\nChanges:\n- faster checkout\n- new payment provider\n\nRoll back with the previous release if error rates rise.",
  requestedBy: "dee@example.com",
  details: { service: "checkout", version: "2026.11.0", regions: ["eu-west-1", "us-east-1"], changelog: "Fix rounding of totals.\n".repeat(30) },
  ticket: "CHG-2026-1142",
};

/** One answer of the decision endpoint, replayed in the browser exactly as it was served. */
interface Snapshot {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function snapshot(url: string, init?: RequestInit): Promise<Snapshot> {
  const response = await fetch(url, { ...init, headers: { Accept: "text/html", ...(init?.headers as Record<string, string>) } });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!["content-length", "transfer-encoding", "connection", "keep-alive", "date"].includes(name)) headers[name] = value;
  });
  return { url, status: response.status, headers, body: await response.text() };
}

const form = (decision: "approve" | "reject", extra: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin", ...extra },
  body: new URLSearchParams({ decision, comment: "Looked at the dashboards." }).toString(),
});

const VIEWPORTS: Record<string, BrowserContextOptions> = {
  desktop: { viewport: { width: 1280, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

describe("every page state is accessible (axe-core in headless Chromium: light and dark, desktop and phone)", function () {
  this.timeout(180_000);
  let browser: Browser;
  let local: LocalApprovals;
  const pages = new Map<string, Snapshot>();

  before(async function () {
    browser = await launchChromiumOrSkip(this);
    mkdirSync(SCREENSHOTS, { recursive: true });
    local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 3600, approverEmails: [ANN, BOB, CY], requiredApprovals: 2, stackLabel: "prod" });

    const started = async (input: unknown = INPUT) => {
      const execution = local.startExecution(input);
      const links = Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl]));
      return { execution, links };
    };
    const decided = await started();
    pages.set("pending", await snapshot(decided.links[ANN]));
    await snapshot(decided.links[ANN], form("approve"));
    pages.set("voted", await snapshot(decided.links[ANN]));
    pages.set("second", await snapshot(decided.links[BOB]));
    await snapshot(decided.links[BOB], form("approve"));
    pages.set("approved", await snapshot(decided.links[CY]));
    // Cy presses Reject on the page they opened before Bob's vote settled it: a late vote.
    pages.set("409", await snapshot(decided.links[CY], form("reject")));

    const rejected = await started({ ...INPUT, title: "Rotate the payment provider's keys" });
    pages.set("rejected", await snapshot(rejected.links[ANN], form("reject")));

    const crossSite = await started({ ...INPUT, title: "Open port 443 on the edge firewall" });
    pages.set("403", await snapshot(crossSite.links[ANN], form("approve", { "Sec-Fetch-Site": "cross-site" })));
    pages.set("404", await snapshot(`${local.callbackUrl}/requests/${randomBytes(24).toString("base64url")}`));

    const withdrawn = await started({ ...INPUT, title: "Drop the legacy orders table" });
    const sfn = new SFNClient({ endpoint: process.env.AWS_ENDPOINT_URL_SFN, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    try {
      await sfn.send(new StopExecutionCommand({ executionArn: withdrawn.execution.executionArn, error: "Cancelled", cause: "The release was called off." }));
    } finally {
      sfn.destroy();
    }
    await withdrawn.execution.outcome;
    // The decision function learns of the stop when the settling vote cannot be delivered.
    await snapshot(withdrawn.links[ANN], form("approve"));
    await snapshot(withdrawn.links[BOB], form("approve"));
    pages.set("withdrawn", await snapshot(withdrawn.links[CY]));

    const expired = await started({ ...INPUT, title: "Scale the checkout database" });
    await expire(local, expired.execution);
    pages.set("expired", await snapshot(expired.links[BOB]));
  });
  after(async () => {
    await browser?.close();
    await local?.close();
  });

  it("serves each state with its status code", () => {
    const statuses = Object.fromEntries([...pages].map(([state, page]) => [state, page.status]));
    assert.deepEqual(statuses, { pending: 200, voted: 200, second: 200, approved: 200, "409": 409, rejected: 200, "403": 403, "404": 404, withdrawn: 410, expired: 410 });
  });

  for (const state of ["pending", "second", "voted", "approved", "rejected", "expired", "withdrawn", "404", "409", "403"]) {
    it(`${state}: no axe violations, no console errors (so no CSP violation), light and dark, desktop and phone`, async () => {
      const page = pages.get(state)!;
      const problems: string[] = [];
      for (const colorScheme of ["light", "dark"] as const) {
        for (const [device, options] of Object.entries(VIEWPORTS)) {
          const context = await browser.newContext({ ...options, colorScheme });
          try {
            const tab = await context.newPage();
            const consoleErrors: string[] = [];
            // Chromium logs every 4xx page load as an error; anything else (a CSP violation is "Refused to ...") counts.
            tab.on("console", (message) => message.type() === "error" && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text()) && consoleErrors.push(message.text()));
            await tab.route(page.url, (route) => route.fulfill({ status: page.status, headers: page.headers, body: page.body }));
            await tab.goto(page.url);
            // Through the DevTools protocol: the page's own CSP allows no script, and must not be loosened for the check.
            await tab.evaluate(AXE_SOURCE);
            const violations = (await tab.evaluate(`axe.run(document, { runOnly: { type: "tag", values: ${JSON.stringify(AXE_TAGS)} } }).then((result) => result.violations.map((violation) => violation.id + ": " + violation.help + " [" + violation.nodes.map((node) => node.target.join(" ")).join(", ") + "]"))`)) as string[];
            for (const violation of violations) problems.push(`${colorScheme} ${device}: ${violation}`);
            for (const error of consoleErrors) problems.push(`${colorScheme} ${device}: console error: ${error}`);
            const overflow = Number(await tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"));
            if (overflow > 0) problems.push(`${colorScheme} ${device}: ${overflow}px wider than the screen`);
            await tab.screenshot({ path: path.join(SCREENSHOTS, `${state}-${device}-${colorScheme}.png`), fullPage: true });
            if (process.env.UPDATE_SCREENSHOTS === "1" && device === "desktop" && colorScheme === "light" && (state === "approved" || state === "expired")) {
              await tab.setViewportSize({ width: 900, height: 900 });
              await tab.screenshot({ path: path.join(DOCS, `${state}-page.png`), fullPage: true });
            }
            // The README's phone pictures: the second approver's review page in both schemes, and the late vote.
            const docsName = state === "second" ? `review-page-phone-${colorScheme}.png` : state === "409" && colorScheme === "light" ? "late-vote-page-phone.png" : undefined;
            if (process.env.UPDATE_SCREENSHOTS === "1" && device === "phone" && docsName) await tab.screenshot({ path: path.join(DOCS, docsName) });
          } finally {
            await context.close();
          }
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  /** Where each part of a page ends, from the top, on a 390×844 phone. */
  async function phoneLayout(state: string, parts: (tab: import("playwright-core").Page) => Record<string, import("playwright-core").Locator>) {
    const page = pages.get(state)!;
    const context = await browser.newContext({ ...VIEWPORTS.phone });
    const tab = await context.newPage();
    await tab.route(page.url, (route) => route.fulfill({ status: page.status, headers: page.headers, body: page.body }));
    await tab.goto(page.url);
    const boxes: Record<string, { top: number; bottom: number }> = {};
    for (const [what, locator] of Object.entries(parts(tab))) {
      const box = await locator.first().boundingBox();
      assert.ok(box, `${what} is shown`);
      boxes[what] = { top: Math.round(box.y), bottom: Math.round(box.y + box.height) };
    }
    return { tab, boxes, close: () => context.close() };
  }

  it("on a 390×844 phone, the stack, who asks, the title, the votes, the expiry, who votes and both buttons are on the first screen, in that order", async () => {
    const { tab, boxes, close } = await phoneLayout("pending", (tab) => ({
      stack: tab.locator(".context"),
      "who asks": tab.getByText("Requested by"),
      title: tab.locator("h1"),
      "key details": tab.locator(".facts.key"),
      votes: tab.locator("h2", { hasText: "Votes" }),
      expiry: tab.locator(".expiry"),
      identity: tab.locator(".identity"),
      approve: tab.getByRole("button", { name: "Approve" }),
      reject: tab.getByRole("button", { name: "Reject" }),
    }));
    try {
      for (const [what, { bottom }] of Object.entries(boxes)) assert.ok(bottom <= 844, `${what} ends at ${bottom}px, below the first screen: ${JSON.stringify(boxes)}`);
      const tops = Object.values(boxes).map((box) => box.top);
      assert.deepEqual(tops.slice(0, -1), [...tops.slice(0, -1)].sort((a, b) => a - b), `in the order a decision needs: ${JSON.stringify(boxes)}`);
      assert.ok((await tab.locator("h1").textContent())?.includes("Deploy release 2026.11"), "the request's title is the heading");
      assert.match((await tab.locator(".context").textContent()) ?? "", /Stack prod/);
      assert.match((await tab.locator(".identity").textContent()) ?? "", /You vote as ann@example\.com/);
      assert.equal(await tab.locator("[autofocus]").count(), 0);
      assert.ok((await tab.locator("h2", { hasText: "Details" }).boundingBox())!.y > boxes.approve.bottom, "the full details come after the buttons");
      // The details come below the buttons, folded where long, and every fold opens from the keyboard.
      const fold = tab.locator("details summary").first();
      await fold.focus();
      await tab.keyboard.press("Enter");
      assert.equal(await tab.locator("details").first().getAttribute("open"), "");
    } finally {
      await close();
    }
  });

  it("on a phone, the second approver sees the first vote, what is still needed and the key details before the buttons, on the first screen", async () => {
    const { tab, boxes, close } = await phoneLayout("second", (tab) => ({
      "ann's vote": tab.locator(".votes li", { hasText: "ann@example.com approved" }),
      "still needed": tab.locator(".needs", { hasText: "Needs 1 more approval" }),
      version: tab.locator(".facts.key dd", { hasText: "2026.11.0" }),
      approve: tab.getByRole("button", { name: "Approve" }),
    }));
    try {
      for (const [what, { bottom }] of Object.entries(boxes)) assert.ok(bottom <= 844, `${what} ends at ${bottom}px: ${JSON.stringify(boxes)}`);
      for (const what of ["ann's vote", "still needed", "version"]) assert.ok(boxes[what].bottom <= boxes.approve.top, `${what} before the buttons: ${JSON.stringify(boxes)}`);
      assert.match((await tab.locator(".identity").textContent()) ?? "", /You vote as bob@example\.com/);
    } finally {
      await close();
    }
  });

  it("on a phone, email addresses wrap only after their @, never inside a word", async () => {
    for (const state of ["second", "approved", "409"]) {
      const { tab, close } = await phoneLayout(state, (tab) => ({ address: tab.locator(".addr") }));
      try {
        const broken = (await tab.evaluate(`[...document.querySelectorAll(".addr > span")].filter((part) => part.getClientRects().length > 1).map((part) => part.textContent)`)) as string[];
        assert.deepEqual(broken, [], `${state}: parts of addresses split across lines`);
      } finally {
        await close();
      }
    }
  });

  it("a late vote: neutral, headed and titled by what happened to it, the comment shown back", async () => {
    const { tab, close } = await phoneLayout("409", (tab) => ({ heading: tab.locator("h1"), comment: tab.locator("blockquote.yours") }));
    try {
      assert.match((await tab.locator("h1").textContent()) ?? "", /^Your rejection was not recorded: bob@example\.com approved at \d\d:\d\d UTC$/);
      assert.match(await tab.title(), /^Your rejection was not recorded: bob@example\.com approved at .* · prod · Human approval$/);
      assert.equal((await tab.locator("blockquote.yours").textContent())?.trim(), "Looked at the dashboards.");
      assert.equal(await tab.locator(".banner.t-ok, .banner.t-no").count(), 0, "no success (or rejection) colour for a vote that was not recorded");
    } finally {
      await close();
    }
  });
});

/** Moves a pending request's expiry into the past, as time would: the pages then say it expired. */
async function expire(local: LocalApprovals, execution: LocalExecution): Promise<void> {
  const client = new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    const key = { id: requestRefFor(execution.executionArn) };
    const item = (await documents.send(new GetCommand({ TableName: local.tableName, Key: key, ConsistentRead: true }))).Item!;
    // Asked an hour ago, expired a minute ago.
    const createdAt = new Date(Date.now() - 61 * 60_000).toISOString();
    await documents.send(new PutCommand({ TableName: local.tableName, Item: { ...item, createdAt, expiresAt: new Date(Date.now() - 60_000).toISOString(), version: item.version + 1 } }));
  } finally {
    client.destroy();
  }
}
