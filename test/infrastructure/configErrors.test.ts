/**
 * Config errors as a newcomer meets them: one line per problem, naming the file and the key, no stack
 * trace; a misspelled key is an error with a "did you mean"; approverEmails as a plain string is
 * refused with the list syntax to use; a stack file that is not valid YAML is an error, never ignored.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { closestConfigKey, parseStackConfig, StackConfigError, unknownKeyProblems } from "../../stacks/config";
import { loadStackConfig } from "../../stacks/loadStackConfig";
import { readStackFile, stackFileProblems } from "../../stacks/stackFiles";
import { errorLines, localDefaultsFromStackFile, UsageError } from "../../local/cliOptions";

const ROOT = path.resolve(__dirname, "../..");

function problemsOf(raw: Parameters<typeof parseStackConfig>[0]): string[] {
  try {
    parseStackConfig(raw);
  } catch (error) {
    assert.ok(error instanceof StackConfigError);
    return error.problems;
  }
  assert.fail("expected the configuration to be refused");
}

describe("config errors", () => {
  describe("unknown and misspelled keys", () => {
    it("names the key it most likely meant", () => {
      assert.equal(closestConfigKey("approverEmail"), "approverEmails");
      assert.equal(closestConfigKey("transprot"), "transport");
      assert.equal(closestConfigKey("RequiredApprovals"), "requiredApprovals");
      assert.equal(closestConfigKey("approvalTimeout"), "approvalTimeoutMinutes");
      assert.equal(closestConfigKey("colour"), undefined);
    });

    it("is one problem per unknown key of the human-approval namespace; other namespaces are not ours", () => {
      const problems = unknownKeyProblems(["human-approval:approverEmail", "human-approval:transport", "aws:region", "human-approval:colour"]);
      assert.equal(problems.length, 2);
      assert.equal(problems[0], "human-approval:approverEmail is not a setting of this stack: did you mean human-approval:approverEmails?");
      assert.match(problems[1], /^human-approval:colour is not a setting of this stack: the settings are transport, approverEmails, approvalTimeoutMinutes, .*\.$/);
    });

    it("fails the Pulumi program (pulumi preview, pulumi up) with every problem at once and no stack trace", () => {
      const previous = pulumi.runtime.allConfig();
      pulumi.runtime.setAllConfig({ "human-approval:approverEmails": '["a@example.com"]', "human-approval:transprot": "httpApi", "human-approval:logRetentionDays": "10" });
      try {
        assert.throws(
          () => loadStackConfig(),
          (error: Error) => {
            assert.ok(pulumi.RunError.isInstance(error), "a RunError: Pulumi prints its message without a stack trace");
            assert.deepEqual(error.message.split("\n"), [
              "Invalid stack configuration:",
              "  - human-approval:transprot is not a setting of this stack: did you mean human-approval:transport?",
              '  - human-approval:logRetentionDays is "10": allowed values are 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.',
            ]);
            return true;
          },
        );
      } finally {
        pulumi.runtime.setAllConfig(previous);
      }
    });
  });

  describe("approverEmails as a plain string", () => {
    for (const raw of ["ops@example.com", "a@example.com, b@example.org", '"ops@example.com"']) {
      it(`refuses ${raw} and shows the list syntax to use`, () => {
        const [problem] = problemsOf({ approverEmails: raw });
        const first = raw.replace(/"/g, "").split(",")[0];
        assert.equal(problem, `human-approval:approverEmails is ${JSON.stringify(raw)}: it must be a list, not a plain string: set it with pulumi config set --path 'human-approval:approverEmails[0]' ${first} (then [1], [2], … for more), or as a YAML list in the stack file.`);
      });
    }
    it("still reads a list, as Pulumi hands a YAML list to the program", () => {
      assert.deepEqual(parseStackConfig({ approverEmails: '["a@example.com","b@example.org"]' }).approverEmails, ["a@example.com", "b@example.org"]);
      assert.match(problemsOf({ approverEmails: "[not json" })[0], /it must be a list of email addresses/);
    });
  });

  describe("stack files", () => {
    let directory: string;
    beforeEach(() => (directory = mkdtempSync(path.join(tmpdir(), "stack-files-"))));
    afterEach(() => rmSync(directory, { recursive: true, force: true }));
    const stackFile = (stack: string, text: string) => writeFileSync(path.join(directory, `Pulumi.${stack}.yaml`), text);

    it("refuses a file that is not valid YAML, or not shaped like a stack file, instead of reading it as empty", () => {
      stackFile("broken", "config:\n  human-approval:transport: [unclosed\n");
      assert.throws(() => readStackFile("broken", directory), (error: Error) => error.name === "YAMLParseError");
      stackFile("list", "- config\n");
      assert.throws(() => readStackFile("list", directory), /Pulumi\.list\.yaml is not a stack file/);
      stackFile("scalar", "config: 5\n");
      assert.throws(() => readStackFile("scalar", directory), /Pulumi\.scalar\.yaml: config: must be a map/);
      stackFile("empty", "");
      assert.deepEqual(readStackFile("empty", directory), {});
    });

    it("lists every problem of a stack file, each naming the file and the key", () => {
      assert.deepEqual(stackFileProblems("Pulumi.qa.yaml", { "aws:region": "eu-west-1", "human-approval:approverEmails": '["a@example.com"]', "human-approval:auditRetentionDay": "30", "human-approval:requiredApprovals": "3" }), [
        "Pulumi.qa.yaml: human-approval:auditRetentionDay is not a setting of this stack: did you mean human-approval:auditRetentionDays?",
        'Pulumi.qa.yaml: human-approval:requiredApprovals is "3": it must be at most the number of approverEmails (1), or no request could ever be approved.',
      ]);
      for (const stack of ["dev", "staging", "prod"]) assert.deepEqual(stackFileProblems(`Pulumi.${stack}.yaml`, readStackFile(stack)), [], `Pulumi.${stack}.yaml`);
    });

    it("npm run plan prints config errors one line per problem, with no stack trace, and exits 2", function () {
      this.timeout(60_000);
      stackFile("bad", ["config:", "  aws:region: eu-west-1", "  human-approval:approverEmails: [a@example.com, b@example.com]", "  human-approval:transprot: httpApi", "  human-approval:logRetentionDays: 10", ""].join("\n"));
      // The Pulumi CLI checks types first and stops at the first (validateStackConfigValues): the plan does the same.
      stackFile("cliType", ["config:", "  human-approval:approverEmails: a@example.com, b@example.com", ""].join("\n"));
      stackFile("yamlerror", "config:\n  human-approval:transport: [unclosed\n");
      const plan = (stack: string) => spawnSync(process.execPath, ["-r", "tsx/cjs", "scripts/plan.ts", "--check", "--stacks-dir", directory, stack], { cwd: ROOT, encoding: "utf8", env: { ...process.env } });

      const bad = plan("bad");
      assert.equal(bad.status, 2, bad.stderr);
      assert.deepEqual(bad.stderr.trimEnd().split("\n"), [
        "Error: Pulumi.bad.yaml: human-approval:transprot is not a setting of this stack: did you mean human-approval:transport?",
        'Error: Pulumi.bad.yaml: human-approval:logRetentionDays is "10": allowed values are 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.',
      ]);
      assert.equal(bad.stdout, "");
      const cliType = plan("cliType");
      assert.equal(cliType.status, 2, cliType.stderr);
      assert.deepEqual(cliType.stderr.trimEnd().split("\n"), [
        "Error: Pulumi.cliType.yaml: Stack 'cliType' with configuration key 'approverEmails' must be of type 'array<string>' (the Pulumi CLI's config check; set a list with pulumi config set --path 'human-approval:approverEmails[0]' <value>, or as a YAML list in the stack file)",
      ]);

      const yamlError = plan("yamlerror");
      assert.equal(yamlError.status, 2, yamlError.stderr);
      assert.match(yamlError.stderr, /^Error: Pulumi\.yamlerror\.yaml is not valid YAML: [^\n]+ at line 3, column 1\.\n$/);
      for (const result of [bad, yamlError]) assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    });

    it("npm start prints a dev stack file's problems exactly as npm run plan does, whole: the CLI's check, then every other problem", function () {
      this.timeout(120_000);
      const planErrors = () => spawnSync(process.execPath, ["-r", "tsx/cjs", "scripts/plan.ts", "--check", "--stacks-dir", directory, "dev"], { cwd: ROOT, encoding: "utf8", env: { ...process.env } }).stderr.trimEnd();
      // What local/start.ts prints for the same file: the defaults it reads, refused, each line an error.
      const startErrors = () => {
        try {
          localDefaultsFromStackFile("approver@example.com", directory);
        } catch (error) {
          assert.ok(error instanceof UsageError, String(error));
          return errorLines(error);
        }
        return assert.fail("expected npm start to refuse the stack file");
      };
      const cases: Record<string, { file: string; lines: Array<string | RegExp> }> = {
        "a CLI type error and two other problems": {
          file: ["config:", "  human-approval:transport: carrierPigeon", "  human-approval:approverEmails: [a@example.com]", "  human-approval:requiredApprovals: 1.5", "  human-aproval:approvalTimeoutMinutes: 5", ""].join("\n"),
          lines: [
            "Error: Pulumi.dev.yaml: Stack 'dev' with configuration key 'requiredApprovals' must be of type 'integer' (the Pulumi CLI's config check)",
            'Error: Pulumi.dev.yaml: human-aproval:approvalTimeoutMinutes is in the namespace "human-aproval", which no setting is in: did you mean human-approval:approvalTimeoutMinutes?',
            'Error: Pulumi.dev.yaml: human-approval:transport is "carrierPigeon": allowed values are restApi, httpApi, functionUrl.',
          ],
        },
        // The parser's message ends with a colon before its code frame: printed whole, ended with a full stop.
        "not valid YAML": { file: "config:\n  human-approval:approverEmails: [a@example.com\n", lines: [/^Error: Pulumi\.dev\.yaml is not valid YAML: .+ at line 3, column 1\.$/] },
      };
      for (const [name, { file, lines }] of Object.entries(cases)) {
        stackFile("dev", file);
        const printed = startErrors();
        assert.equal(printed, planErrors(), name);
        const printedLines = printed.split("\n");
        assert.equal(printedLines.length, lines.length, `${name}: ${printed}`);
        lines.forEach((line, index) => (typeof line === "string" ? assert.equal(printedLines[index], line, name) : assert.match(printedLines[index], line, name)));
      }
    });
  });
});

// Near-misses that would otherwise pass silently (a typo in the namespace, a made-up region), and one problem per bad value.
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
