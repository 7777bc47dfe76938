import { strict as assert } from "node:assert";
import type { Transport } from "../../functions/decision/httpEvent";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";
import { STATE_NAMES } from "../../components/stateMachineDefinition";

/** End to end over real HTTP: the local mode exactly as `npm start` runs it, once per transport. */
const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html" },
  body: new URLSearchParams(fields).toString(),
});
/** JSON bodies in these tests are checked field by field. */
const json = (response: Response): Promise<any> => response.json();
const linksIn = (message: string) => message.match(/http:\/\/127\.0\.0\.1:\d+\S*/g) ?? [];

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`local mode over ${transport}`, function () {
    this.timeout(30_000);

    describe("with a day-long timeout", () => {
      let local: LocalApprovals;
      before(async () => (local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400 })));
      after(async () => local.close());

      it("approves: the link's page, the Approve button, an approved execution", async () => {
        const execution = local.startExecution({ title: "Ship it", details: { version: "1.2.3" } });
        const { reviewUrl, subject } = await execution.email;
        assert.equal(subject, "Approval needed: Ship it");
        assert.ok(reviewUrl.startsWith(`${local.callbackUrl}/requests/`));
        if (transport === "restApi") assert.match(local.callbackUrl, /\/approvals$/);

        const page = await fetch(reviewUrl);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /Ship it/);
        const decided = await fetch(reviewUrl, form({ decision: "approve", comment: "LGTM" }));
        assert.equal(decided.status, 200);
        assert.match(await decided.text(), /<h1>Approved<\/h1>/);

        const outcome = await execution.outcome;
        assert.equal(outcome.status, "SUCCEEDED");
        assert.deepEqual(outcome.path, [STATE_NAMES.requestApproval, STATE_NAMES.choice, STATE_NAMES.approved]);
        const approval = (outcome.output as { approval: Record<string, string> }).approval;
        assert.equal(approval.decision, "approved");
        assert.equal(approval.comment, "LGTM");
      });

      it("rejects", async () => {
        const execution = local.startExecution({ title: "Risky change" });
        const { reviewUrl } = await execution.email;
        assert.equal((await fetch(reviewUrl, form({ decision: "reject", comment: "Not on a Friday" }))).status, 200);
        const outcome = await execution.outcome;
        assert.equal(outcome.path.at(-1), STATE_NAMES.rejected);
        assert.equal((outcome.output as { approval: { decision: string } }).approval.decision, "rejected");
      });

      it("decides nothing when a mail scanner fetches every link with GET and HEAD first", async () => {
        const execution = local.startExecution({ title: "Scanned" });
        const { message, reviewUrl } = await execution.email;
        const links = linksIn(message);
        assert.equal(links.length, 3, "the review link and the two preselecting links");
        const scanner = { "User-Agent": "Mozilla/5.0 (compatible; SafeLinks scanner)" };
        for (const link of links) {
          for (const method of ["GET", "HEAD", "GET"]) assert.equal((await fetch(link, { method, headers: scanner })).status, 200, `${method} ${link}`);
        }
        const status = await json(await fetch(`${local.origin}/executions/${execution.executionName}`));
        assert.equal(status.status, "RUNNING", "still waiting for a person");

        assert.equal((await fetch(`${reviewUrl}?choice=reject`, form({ decision: "reject" }))).status, 200);
        assert.equal((await execution.outcome).path.at(-1), STATE_NAMES.rejected);
      });

      it("answers a double click with the already-decided page, and the first click stands", async () => {
        const execution = local.startExecution({ title: "Double click" });
        const { reviewUrl } = await execution.email;
        const [first, second] = [await fetch(reviewUrl, form({ decision: "approve" })), await fetch(reviewUrl, form({ decision: "reject" }))];
        assert.equal(first.status, 200);
        assert.equal(second.status, 409);
        assert.match(await second.text(), /Already decided/);
        assert.equal((await execution.outcome).path.at(-1), STATE_NAMES.approved);
      });

      it("serves the JSON API: start over POST /executions, read status, decide with JSON", async () => {
        const started = await fetch(`${local.origin}/executions`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ title: "From ChatOps" }) });
        assert.equal(started.status, 201);
        const { executionName, reviewUrl } = await json(started);
        const status = await fetch(reviewUrl, { headers: { Accept: "application/json" } });
        assert.equal((await json(status)).status, "pending");

        const decided = await fetch(reviewUrl, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision: "approve", comment: "via bot" }) });
        assert.equal(decided.status, 200);
        assert.match(decided.headers.get("content-type") ?? "", /^application\/json/);
        const body = await json(decided);
        assert.equal(body.decision, "approved");
        assert.equal(body.comment, "via bot");

        let execution: { status: string; path?: string[] } = { status: "RUNNING" };
        for (let attempt = 0; attempt < 50 && execution.status === "RUNNING"; attempt++) {
          execution = await json(await fetch(`${local.origin}/executions/${executionName}`));
          if (execution.status === "RUNNING") await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(execution.status, "SUCCEEDED");
        assert.equal(execution.path?.at(-1), STATE_NAMES.approved);
        assert.equal((await fetch(`${local.origin}/executions`, { method: "POST", body: "{oops" })).status, 400);
      });
    });

    it("close() aborts executions still waiting, so nothing outlives the stack", async () => {
      const local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400 });
      const execution = local.startExecution({ title: "Left waiting" });
      await execution.email;
      await local.close();
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "FAILED");
      assert.equal(outcome.error?.name, "ExecutionAbortedError");
    });

    describe("with a one-second timeout", () => {
      let local: LocalApprovals;
      before(async () => (local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 1 })));
      after(async () => local.close());

      it("takes the expired path, and the link then answers 410 and decides nothing", async () => {
        const execution = local.startExecution({ title: "Nobody looks" });
        const { reviewUrl } = await execution.email;
        const outcome = await execution.outcome;
        assert.equal(outcome.status, "SUCCEEDED");
        assert.deepEqual(outcome.path, [STATE_NAMES.requestApproval, STATE_NAMES.expired]);
        assert.equal((outcome.output as { approval: { decision: string } }).approval.decision, "expired");

        const view = await fetch(reviewUrl);
        assert.equal(view.status, 410);
        assert.match(await view.text(), /has expired/);
        assert.equal((await fetch(reviewUrl, form({ decision: "approve" }))).status, 410);
      });
    });
  });
}
