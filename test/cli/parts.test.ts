import { strict as assert } from "node:assert";
import { outcomeOf, parseReference } from "../../cli/commands";
import { errorLine } from "../../cli/main";
import { CliError, parseCommandLine } from "../../cli/options";
import { need } from "../../cli/stack";
import { requestRefFor } from "../../functions/shared/approvalRequest";

const EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:human-approval-workflow-1a2b3c4:deploy-42";

describe("the human-approval CLI's parts", () => {
  describe("outcomeOf: what a pipeline branches on", () => {
    const succeeded = (approval: unknown) => ({ status: "SUCCEEDED", output: JSON.stringify({ title: "x", approval }) });

    it("0 approved, 1 rejected, 2 expired or withdrawn, still running: no outcome", () => {
      assert.deepEqual([outcomeOf(succeeded({ decision: "approved", decidedBy: "a@x.io" }))?.exitCode, outcomeOf(succeeded({ decision: "rejected" }))?.exitCode, outcomeOf(succeeded({ decision: "expired" }))?.exitCode], [0, 1, 2]);
      assert.deepEqual(outcomeOf({ status: "ABORTED", error: "Withdrawn", cause: "Called off" }), { outcome: "withdrawn", exitCode: 2, reason: "Called off" });
      assert.equal(outcomeOf({ status: "RUNNING" }), undefined);
      assert.equal(outcomeOf(succeeded(undefined))?.exitCode, 3, "an output without a decision is an error, never an approval");
      assert.equal(outcomeOf({ status: "SUCCEEDED", output: "not json" })?.exitCode, 3);
    });

    it("a refusal in AWS's shape (a Lambda error's JSON cause) shows its message, never its trace", () => {
      const cause = JSON.stringify({ errorType: "InvalidApprovalRequest", errorMessage: "Input approvers lists m@x.io, which is not an approver of this stack.", trace: ["InvalidApprovalRequest: ...", "    at askedApprovers (/var/task/index.js:1:2)"] });
      const outcome = outcomeOf({ status: "FAILED", error: "InvalidApprovalRequest", cause })!;
      assert.deepEqual([outcome.outcome, outcome.exitCode], ["failed", 3]);
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
});
