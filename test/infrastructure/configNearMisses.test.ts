/** Config near-misses that would otherwise pass silently (a typo in the namespace, a made-up region), and one problem per bad value. */
import { strict as assert } from "node:assert";
import { parseStackConfig, StackConfigError, unknownKeyProblems, type RawStackConfig } from "../../stacks/config";

function problemsOf(raw: RawStackConfig): string[] {
  try {
    parseStackConfig(raw);
  } catch (error) {
    assert.ok(error instanceof StackConfigError);
    return error.problems;
  }
  assert.fail("expected the configuration to be rejected");
}

describe("config near-misses", () => {
  it("names a key in a namespace one or two edits from human-approval, with the key it meant", () => {
    assert.deepEqual(unknownKeyProblems(["humanapproval:transport", "human-aproval:approvalTimeoutMinutes", "Human_Approval:timeoutMinutes"]), [
      'humanapproval:transport is in the namespace "humanapproval", which no setting is in: did you mean human-approval:transport?',
      'human-aproval:approvalTimeoutMinutes is in the namespace "human-aproval", which no setting is in: did you mean human-approval:approvalTimeoutMinutes?',
      'Human_Approval:timeoutMinutes is in the namespace "Human_Approval", which no setting is in: did you mean human-approval:approvalTimeoutMinutes?',
    ]);
    // Other providers' namespaces are not ours to judge.
    assert.deepEqual(unknownKeyProblems(["aws:profile", "pulumi:tags", "approval:x"]), []);
  });

  it("refuses an aws:region that is not a region's name, and accepts real ones", () => {
    assert.deepEqual(unknownKeyProblems(["aws:region"], { "aws:region": "mars-north-9" }), ['aws:region is "mars-north-9": it must be an AWS region\'s name, like eu-west-1 or us-east-2.']);
    for (const region of ["eu-west-1", "us-east-2", "ap-southeast-7", "us-gov-west-1", "cn-north-1", "eu-central-2", "il-central-1", "mx-central-1"]) {
      assert.deepEqual(unknownKeyProblems(["aws:region"], { "aws:region": region }), [], region);
    }
  });

  it("gives one problem per bad value: a fractional quorum is not also 'more than the approvers'", () => {
    assert.deepEqual(problemsOf({ approverEmails: '["a@example.com"]', requiredApprovals: "1.5" }), ['human-approval:requiredApprovals is "1.5": it must be a whole number from 1 to 100.']);
    // A bad timeout is its own problem; the reminders are not also refused for being past it.
    assert.deepEqual(problemsOf({ approverEmails: '["a@example.com"]', approvalTimeoutMinutes: "abc", reminderMinutesBeforeExpiry: "[60]" }), ['human-approval:approvalTimeoutMinutes is "abc": it must be a whole number from 1 to 525600.']);
  });

  it("reads reminders only as a list, as the CLI hands over an array<integer> key", () => {
    assert.match(problemsOf({ approverEmails: '["a@example.com"]', reminderMinutesBeforeExpiry: "60,10" })[0], /human-approval:reminderMinutesBeforeExpiry is "60,10": it must be a list of whole minutes/);
  });
});
