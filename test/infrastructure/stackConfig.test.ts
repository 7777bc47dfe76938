import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { readStackFile } from "../../stacks/stackFiles";
import { CLOUDWATCH_RETENTION_DAYS, CONFIG_KEYS, parseStackConfig, SECRET_KEYS, StackConfigError, type RawStackConfig } from "../../stacks/config";

const ROOT = path.resolve(__dirname, "../..");
const valid: RawStackConfig = { approverEmails: '["ops@example.com"]' };

function problemsOf(raw: RawStackConfig): string[] {
  try {
    parseStackConfig(raw);
  } catch (error) {
    assert.ok(error instanceof StackConfigError);
    return error.problems;
  }
  assert.fail("expected the configuration to be rejected");
}

describe("stack configuration", () => {
  it("applies the documented defaults", () => {
    assert.deepEqual(parseStackConfig(valid), {
      transport: "functionUrl",
      approverEmails: ["ops@example.com"],
      approvalTimeoutMinutes: 1440,
      logRetentionDays: 14,
      auditRetentionDays: 90,
      emailSubject: "Approval needed: {title}",
      apiThrottleRateLimit: 10,
      apiThrottleBurstLimit: 20,
      decisionReservedConcurrency: 5,
      approvedFunctionArn: undefined,
      requiredApprovals: 1,
      allowSelfApproval: false,
      tableDeletionProtection: true,
      protectState: true,
      reminderMinutesBeforeExpiry: [],
      sweepIntervalMinutes: 1,
      alarmEmail: undefined,
      alarmTopicArn: undefined,
      deployerArn: undefined,
      breakGlassRoleArn: undefined,
    });
  });

  it("approverEmails and alarmEmail are printable ASCII addresses: an invisible or look-alike character is refused", () => {
    for (const disguised of ["\ufeffops@example.com", "\u212Aate@example.com"]) {
      assert.match(problemsOf({ ...valid, approverEmails: JSON.stringify([disguised]) })[0], /each entry must be an email address in printable ASCII/);
      assert.match(problemsOf({ ...valid, alarmEmail: disguised })[0], /it must be an email address in printable ASCII/);
    }
  });

  it("deployerArn and breakGlassRoleArn name one IAM role or user, never a session or a wildcard", () => {
    const role = "arn:aws:iam::123456789012:role/ci/deployer";
    assert.equal(parseStackConfig({ ...valid, deployerArn: role }).deployerArn, role);
    assert.equal(parseStackConfig({ ...valid, breakGlassRoleArn: "arn:aws:iam::123456789012:user/ops" }).breakGlassRoleArn, "arn:aws:iam::123456789012:user/ops");
    for (const bad of ["arn:aws:sts::123456789012:assumed-role/deployer/session", "arn:aws:iam::123456789012:role/*", "arn:aws:iam::123456789012:role/deploye?", "deployer"]) {
      assert.match(problemsOf({ ...valid, deployerArn: bad })[0], /human-approval:deployerArn is .*: it must be the ARN of one IAM role or user/);
    }
  });

  it("sign-in needs the issuer, the client id and the secret together; the issuer must be https", () => {
    const signIn = { signInIssuer: "https://login.example.com/", signInClientId: "approvals", signInClientSecret: "(secret)" };
    assert.deepEqual(problemsOf({ ...valid, signInIssuer: "https://login.example.com" }), [
      "human-approval:signInClientId is not set: sign-in needs the OpenID client id registered for this stack.",
      "human-approval:signInClientSecret is not set: sign-in needs the client secret, set with pulumi config set --secret human-approval:signInClientSecret <secret>.",
    ]);
    assert.match(problemsOf({ ...valid, ...signIn, signInIssuer: "http://login.example.com" })[0], /human-approval:signInIssuer is "http:\/\/login.example.com": it must be an https URL/);
    assert.match(problemsOf({ ...valid, signInClientId: "approvals" })[0], /human-approval:signInIssuer is not set/);
    assert.doesNotThrow(() => parseStackConfig({ ...valid, ...signIn }));
  });

  it("reads reminders as minutes before expiry, largest first, and alarms as an address or a topic", () => {
    assert.deepEqual(parseStackConfig({ ...valid, reminderMinutesBeforeExpiry: "[10, 60]" }).reminderMinutesBeforeExpiry, [60, 10]);
    assert.deepEqual(parseStackConfig({ ...valid, reminderMinutesBeforeExpiry: "[]" }).reminderMinutesBeforeExpiry, []);
    assert.match(problemsOf({ ...valid, approvalTimeoutMinutes: "30", reminderMinutesBeforeExpiry: "[45]" })[0], /human-approval:reminderMinutesBeforeExpiry is "\[45\]": it must be a list of whole minutes from 1 to 29/);
    assert.equal(parseStackConfig({ ...valid, alarmEmail: "platform@example.com" }).alarmEmail, "platform@example.com");
    assert.match(problemsOf({ ...valid, alarmEmail: "platform" })[0], /human-approval:alarmEmail is "platform"/);
    assert.match(problemsOf({ ...valid, alarmEmail: "a@example.com", alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:alarms" })[0], /either alarmEmail or alarmTopicArn/);
  });

  it("refuses a quorum larger than the approvers, and a boolean that is not true or false", () => {
    assert.throws(() => parseStackConfig({ ...valid, requiredApprovals: "2" }), /human-approval:requiredApprovals is "2": it must be at most the number of approverEmails \(1\)/);
    assert.equal(parseStackConfig({ ...valid, approverEmails: '["a@example.com","b@example.com"]', requiredApprovals: "2" }).requiredApprovals, 2);
    assert.throws(() => parseStackConfig({ ...valid, requiredApprovals: "0" }), /human-approval:requiredApprovals is "0"/);
    assert.throws(() => parseStackConfig({ ...valid, allowSelfApproval: "yes" }), /human-approval:allowSelfApproval is "yes": it must be true or false/);
    assert.equal(parseStackConfig({ ...valid, tableDeletionProtection: "false" }).tableDeletionProtection, false);
  });

  it("reads every transport and the limits of the numeric keys", () => {
    for (const transport of ["restApi", "httpApi", "functionUrl"]) assert.equal(parseStackConfig({ ...valid, transport }).transport, transport);
    assert.equal(parseStackConfig({ ...valid, approvalTimeoutMinutes: "1" }).approvalTimeoutMinutes, 1);
    assert.equal(parseStackConfig({ ...valid, approvalTimeoutMinutes: "525600" }).approvalTimeoutMinutes, 525600);
    for (const days of CLOUDWATCH_RETENTION_DAYS) assert.equal(parseStackConfig({ ...valid, logRetentionDays: String(days) }).logRetentionDays, days);
    assert.equal(parseStackConfig({ ...valid, decisionReservedConcurrency: "-1" }).decisionReservedConcurrency, -1);
  });

  it("accepts approvers as a YAML list (JSON), and refuses a plain string with the list syntax to use", () => {
    assert.deepEqual(parseStackConfig({ approverEmails: '["a@example.com","b@example.org"]' }).approverEmails, ["a@example.com", "b@example.org"]);
    assert.throws(() => parseStackConfig({ approverEmails: "a@example.com, b@example.org" }), /it must be a list, not a plain string: set it with pulumi config set --path 'human-approval:approverEmails\[0\]' a@example\.com/);
  });

  const rejected: Array<[string, RawStackConfig, RegExp]> = [
    ["an unknown transport", { transport: "websocket" }, /human-approval:transport is "websocket": allowed values are restApi, httpApi, functionUrl/],
    ["no approvers", { approverEmails: undefined }, /human-approval:approverEmails is not set/],
    ["an empty approver list", { approverEmails: "[]" }, /human-approval:approverEmails is "\[\]": it must be a non-empty list/],
    ["a malformed address", { approverEmails: '["ops@example.com","not-an-address"]' }, /human-approval:approverEmails is "not-an-address": each entry must be an email address/],
    ["a duplicate address", { approverEmails: '["a@example.com","A@example.com"]' }, /each address may appear only once/],
    ["a list of numbers", { approverEmails: "[1,2]" }, /human-approval:approverEmails is "\[1,2\]": it must be a non-empty list of email addresses/],
    ["a zero timeout", { approvalTimeoutMinutes: "0" }, /human-approval:approvalTimeoutMinutes is "0": it must be a whole number from 1 to 525600/],
    ["a timeout over a year", { approvalTimeoutMinutes: "525601" }, /approvalTimeoutMinutes is "525601"/],
    ["a fractional timeout", { approvalTimeoutMinutes: "1.5" }, /approvalTimeoutMinutes is "1.5"/],
    ["a retention CloudWatch does not offer", { logRetentionDays: "10" }, /human-approval:logRetentionDays is "10": allowed values are 1, 3, 5, 7, 14, 30/],
    ["a zero audit retention", { auditRetentionDays: "0" }, /human-approval:auditRetentionDays is "0": it must be a whole number of days, at least 1/],
    ["a reserved concurrency of zero", { decisionReservedConcurrency: "0" }, /decisionReservedConcurrency is "0": it must be -1 \(no reservation\) or a whole number from 1 to 1000/],
    ["a bad approved-function ARN", { approvedFunctionArn: "my-function" }, /human-approval:approvedFunctionArn is "my-function": it must be a Lambda function ARN/],
  ];
  for (const [what, overrides, message] of rejected) {
    it(`rejects ${what}, naming the key, the value and what is allowed`, () => {
      const problems = problemsOf({ ...valid, ...overrides });
      assert.ok(problems.some((problem) => message.test(problem)), problems.join("\n"));
    });
  }

  it("reports every bad key at once", () => {
    assert.equal(problemsOf({ transport: "x", approvalTimeoutMinutes: "-3", logRetentionDays: "2" }).length, 4);
  });

  it("fails the Pulumi program with a RunError (no stack trace) naming the key", async () => {
    const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
    const { loadStackConfig }: typeof import("../../stacks/loadStackConfig") = require("../../stacks/loadStackConfig");
    const config = { get: (key: string) => ({ transport: "smtp", approverEmails: '["a@example.com"]' })[key], getSecret: () => undefined } as unknown as InstanceType<typeof pulumi.Config>;
    assert.throws(() => loadStackConfig(config), (error: Error) => pulumi.RunError.isInstance(error) && /human-approval:transport is "smtp"/.test(error.message));
  });

  it("reads the client secret only as a Pulumi secret, never with get", async () => {
    const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
    const { loadStackConfig }: typeof import("../../stacks/loadStackConfig") = require("../../stacks/loadStackConfig");
    const values: Record<string, string> = { approverEmails: '["a@example.com"]', signInIssuer: "https://login.example.com", signInClientId: "approvals" };
    const config = {
      get: (key: string) => {
        if (key === "signInClientSecret") throw new Error("the secret was read in clear");
        return values[key];
      },
      getSecret: (key: string) => (key === "signInClientSecret" ? pulumi.secret("s3cret") : undefined),
    } as unknown as InstanceType<typeof pulumi.Config>;
    // Whether it was set with --secret is checked against the stack file (test/infrastructure/deployPath.test.ts).
    const loaded = loadStackConfig(config);
    assert.equal(loaded.signIn?.issuer, "https://login.example.com");
    assert.equal(loaded.signIn?.clientId, "approvals");
    assert.ok(pulumi.Output.isInstance(loaded.signIn?.clientSecret));
  });

  describe("Pulumi.yaml", () => {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

    it("declares the project name and the TypeScript nodejs runtime", () => {
      assert.equal(project.name, "human-approval");
      assert.deepEqual(project.runtime, { name: "nodejs", options: { typescript: true } });
    });

    it("has a schema entry with type, description and the same default for every key", () => {
      // Secrets are not declared: the CLI would copy a default onto every stack in clear and refuse it.
      const declared = Object.keys(CONFIG_KEYS).filter((key) => !SECRET_KEYS.includes(key as keyof typeof CONFIG_KEYS));
      assert.deepEqual(Object.keys(project.config).sort(), declared.sort());
      for (const [key, { default: expected }] of Object.entries(CONFIG_KEYS).filter(([key]) => declared.includes(key))) {
        const entry = project.config[key];
        assert.ok(entry.type && entry.description, key);
        if (key === "approverEmails") assert.equal(entry.default, undefined, "required: no default");
        else assert.equal(String(entry.default), String(expected ?? ""), key);
      }
    });

    const stacks: Array<[string, string]> = [["dev", "functionUrl"], ["staging", "httpApi"], ["prod", "restApi"]];
    for (const [stack, transport] of stacks) {
      it(`Pulumi.${stack}.yaml is valid and uses ${transport}`, () => {
        const raw = Object.fromEntries(
          Object.entries(readStackFile(stack))
            .filter(([key]) => key.startsWith("human-approval:"))
            .map(([key, value]) => [key.slice("human-approval:".length), value]),
        );
        assert.equal(parseStackConfig(raw).transport, transport);
      });
    }
  });
});
