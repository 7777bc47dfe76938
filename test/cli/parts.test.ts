import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { outcomeOf, parseReference } from "../../cli/commands";
import { errorLine } from "../../cli/main";
import { CliError, EXIT, parseCommandLine } from "../../cli/options";
import { need } from "../../cli/stack";
import { requestRefFor } from "../../functions/shared/approvalRequest";

const EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:human-approval-workflow-1a2b3c4:deploy-42";

describe("the human-approval CLI's parts", () => {
  describe("outcomeOf: what a pipeline branches on", () => {
    const succeeded = (approval: unknown) => ({ status: "SUCCEEDED", output: JSON.stringify({ title: "x", approval }) });

    it("0 approved, 20 rejected, 21 expired, 22 withdrawn; still running: no outcome", () => {
      assert.deepEqual([outcomeOf(succeeded({ decision: "approved", decidedBy: "a@x.io" }))?.exitCode, outcomeOf(succeeded({ decision: "rejected" }))?.exitCode, outcomeOf(succeeded({ decision: "expired" }))?.exitCode], [0, 20, 21]);
      assert.deepEqual(outcomeOf({ status: "ABORTED", error: "Withdrawn", cause: "Called off" }), { outcome: "withdrawn", exitCode: 22, reason: "Called off" });
      assert.equal(outcomeOf({ status: "RUNNING" }), undefined);
      assert.equal(outcomeOf(succeeded(undefined))?.exitCode, 70, "an output without a decision is a failure, never an approval");
      assert.equal(outcomeOf({ status: "SUCCEEDED", output: "not json" })?.exitCode, 70);
    });

    it("no decision shares an exit code with Node's, npm's or the shell's own failures, nor with another outcome", () => {
      // Node: 1 uncaught exception, 2 (bash builtins), 3 to 14 its internal failures, 128+n a signal; npm/npx: 1; bash: 126, 127.
      const taken = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 126, 127]);
      const codes = [EXIT.rejected, EXIT.expired, EXIT.withdrawn, EXIT.usage, EXIT.failure];
      for (const code of codes) assert.ok(!taken.has(code) && code > 0 && code < 126, `exit code ${code}`);
      assert.equal(new Set([EXIT.approved, ...codes]).size, 6, "every outcome and both kinds of error have their own code");
    });

    it("a refusal in AWS's shape (a Lambda error's JSON cause) shows its message, never its trace", () => {
      const cause = JSON.stringify({ errorType: "InvalidApprovalRequest", errorMessage: "Input approvers lists m@x.io, which is not an approver of this stack.", trace: ["InvalidApprovalRequest: ...", "    at askedApprovers (/var/task/index.js:1:2)"] });
      const outcome = outcomeOf({ status: "FAILED", error: "InvalidApprovalRequest", cause })!;
      assert.deepEqual([outcome.outcome, outcome.exitCode], ["failed", 64], "a refusal is the caller's to fix: a usage error");
      assert.equal(outcomeOf({ status: "FAILED", error: "States.TaskFailed" })?.exitCode, 70, "any other failed execution is a failure");
      assert.equal(outcome.reason, "The approval request was refused: Input approvers lists m@x.io, which is not an approver of this stack.");
      assert.equal(outcomeOf({ status: "TIMED_OUT" })?.reason, "The execution timed out.");
      assert.equal(outcomeOf({ status: "FAILED", error: "ApprovalRequestFailed", cause: "line one\nline two" })?.reason, "The execution failed (ApprovalRequestFailed): line one");
    });
  });

  describe("references", () => {
    it("takes a requestRef or an execution ARN (whose requestRef it derives), and echoes neither back in its error", () => {
      const ref = requestRefFor(EXECUTION);
      assert.deepEqual(parseReference(ref), { requestRef: ref });
      assert.deepEqual(parseReference(EXECUTION), { requestRef: ref, executionArn: EXECUTION });
      const linkLike = "w2Vl-yxJGZoAZwOfHh9mzHDlNY_SRkfi";
      assert.throws(() => parseReference(linkLike), (error: Error) => error instanceof CliError && !error.message.includes(linkLike));
    });
  });

  describe("the command line", () => {
    it("parses each command's options", () => {
      assert.deepEqual(parseCommandLine(["request", "--title", " Ship ", "--approvers", "a@x.io, b@x.io", "--wait", "--poll-seconds", "2.5", "--stack-outputs", "o.json"]), {
        name: "request",
        json: false,
        resources: { stackOutputs: "o.json", stateMachineArn: undefined, table: undefined, local: false, localUrl: undefined },
        title: "Ship",
        description: undefined,
        detailsFile: undefined,
        requestedBy: undefined,
        approvers: ["a@x.io", "b@x.io"],
        wait: true,
        pollSeconds: 2.5,
      });
      assert.equal((parseCommandLine(["list", "--status", "approved"]) as { status: string }).status, "APPROVED");
      assert.equal(parseCommandLine(["withdraw", "req-x", "--local-url", "http://127.0.0.1:4000"]).name, "withdraw");
      assert.equal((parseCommandLine(["withdraw", "req-x", "--local-url", "http://127.0.0.1:4000"]) as { resources: { local: boolean } }).resources.local, true);
    });

    it("refuses what it does not know, in one line", () => {
      assert.throws(() => parseCommandLine(["list", "--all"]), /^CliError: Unknown option --all for list/);
      assert.throws(() => parseCommandLine(["request", "--title", "x", "--poll-seconds", "5"]), /--poll-seconds only applies with --wait/);
      assert.throws(() => parseCommandLine(["request", "--title", "   "]), /--title is empty/);
      assert.throws(() => parseCommandLine(["withdraw", "a", "b"]), /withdraw needs one requestRef .*, not 2/);
    });

    it("names every way to give a missing stack value", () => {
      assert.throws(() => need({ sources: [] }, "table"), /Missing the stack's approvalsTable: no stack given\. Pass --table, set HUMAN_APPROVAL_TABLE, or give --stack-outputs <file>/);
    });

    it("shows AWS errors in one line with their name", () => {
      assert.equal(errorLine(Object.assign(new Error("User is not authorized\nmore"), { name: "AccessDeniedException" })), "AccessDeniedException: User is not authorized");
      assert.equal(errorLine(new CliError("plain")), "plain");
    });
  });

  describe("the documented calls and codes", () => {
    const ROOT = path.resolve(__dirname, "../..");
    // The CLI's reference is docs/cli.md; the pipeline's call is in docs/gate.md (the README links both).
    const cliPage = readFileSync(path.join(ROOT, "docs/cli.md"), "utf8");
    const gatePage = readFileSync(path.join(ROOT, "docs/gate.md"), "utf8");
    const pages = readdirSync(path.join(ROOT, "docs")).filter((file) => file.endsWith(".md")).map((file) => `docs/${file}`);

    it("every documented call runs the CLI with node, never through npx's shared cache", () => {
      const files = ["README.md", ...pages, ".github/actions/approval-gate/action.yml", ".github/workflows/gated-deploy-example.yml"];
      for (const file of files) {
        const text = readFileSync(path.join(ROOT, file), "utf8").replace(/never with `npx human-approval`/g, "");
        assert.ok(!/\b(npx|npm exec)( --no-install| --no)? human-approval\b/.test(text), `${file} calls the CLI through npx`);
      }
      assert.match(gatePage, /node cli\/human-approval\.js request --title/);
    });

    it("the documented table of exit codes (docs/cli.md) is the CLI's", () => {
      for (const [code, meaning] of [[EXIT.approved, "approved"], [EXIT.rejected, "rejected"], [EXIT.expired, "expired"], [EXIT.withdrawn, "withdrawn"], [EXIT.usage, "usage or configuration error"], [EXIT.failure, "failure"]] as const) {
        assert.ok(cliPage.includes(`| **${code}** | ${meaning}`), `docs/cli.md: exit code ${code} ${meaning}`);
      }
    });
  });
});
