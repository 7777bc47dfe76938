/**
 * The deploy path as the Pulumi CLI runs it. No Pulumi CLI can be installed here, so its config stage is
 * reproduced (stacks/pulumiCliConfig.ts, each rule citing the CLI source it mirrors) and the program then runs
 * under the mocks with exactly what the CLI would hand it: Pulumi.yaml's defaults merged in as plain values,
 * secure values marked secret. Then: today's URNs still answer (aliases), and what the approvals rest on is protected.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { cliConfigForProgram, cliConfigOfStackFile, keysStoredInClear, PulumiCliConfigError, readProject, stackValuesOf, type Project } from "../../stacks/pulumiCliConfig";
import { stackNames } from "../../stacks/stackFiles";
import type { Registration } from "../support/pulumiMocks";

const ROOT = path.resolve(__dirname, "../..");
const TRANSPORTS = ["functionUrl", "httpApi", "restApi"] as const;
const project = () => readProject(ROOT);
const stackFile = (yaml: string) => stackValuesOf(parse(yaml), "Pulumi.test.yaml");
const cliError = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PulumiCliConfigError, String(error));
    return error.message;
  }
  assert.fail("the CLI would have accepted this");
};

/** Runs index.ts under the mocks in a child process (mocks are per process) and returns its registrations. */
function registrationsOf(stack: string, config: Record<string, string>, secretKeys: string[], cwd = ROOT): Promise<{ registrations?: Registration[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(ROOT, "test/support/registrationsOf.ts"), stack, JSON.stringify(config), JSON.stringify(secretKeys)], {
      cwd,
      env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
      maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => resolve({ registrations: error ? undefined : JSON.parse(stdout), stderr }));
  });
}

/** At most two programs at once: each bundles the functions with esbuild. */
async function inPairs<T, R>(items: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let index = 0; index < items.length; index += 2) results.push(...(await Promise.all(items.slice(index, index + 2).map(run))));
  return results;
}

describe("the deploy path, as the Pulumi CLI runs it", function () {
  this.timeout(180_000);

  describe("the CLI's config stage (pulumi/pulumi sdk/go/common/workspace)", () => {
    it("copies a project default onto the stack as a plain value (mergeConfig, createConfigValue)", () => {
      const { config, secretKeys } = cliConfigForProgram("test", project(), stackFile("config:\n  human-approval:approverEmails: [a@example.com]\n"));
      assert.equal(config["human-approval:approvalTimeoutMinutes"], "1440");
      assert.equal(config["human-approval:tableDeletionProtection"], "true");
      assert.equal(config["human-approval:reminderMinutesBeforeExpiry"], "[]");
      assert.equal(config["human-approval:approverEmails"], '["a@example.com"]');
      assert.deepEqual(secretKeys, []);
    });

    it("refuses a secret key that has a default, before the program runs (validateStackConfigValue, TestStackConfigSecretIsCorrectlyValidated)", () => {
      // What Pulumi.yaml declared until this change: an optional secret with a default of "".
      const withSecretDefault: Project = { ...project(), config: { ...project().config, signInClientSecret: { type: "string", default: "", secret: true } } };
      assert.equal(
        cliError(() => cliConfigForProgram("dev", withSecretDefault, stackFile("config:\n  human-approval:approverEmails: [a@example.com]\n"))),
        "Stack 'dev' with configuration key 'signInClientSecret' must be encrypted as it's secret",
      );
    });

    it("refuses a stack without the required key, naming it (missingStackConfigurationKeysError)", () => {
      assert.equal(cliError(() => cliConfigForProgram("fresh", project(), stackFile("config: {}\n"))), "Stack 'fresh' is missing configuration value 'approverEmails'");
    });

    it("answers type errors with its own words before the program's clearer ones can appear (ValidateConfigValue)", () => {
      const typed = (line: string) => cliError(() => cliConfigForProgram("dev", project(), stackFile(`config:\n  human-approval:approverEmails: [a@example.com]\n  ${line}\n`)));
      // `pulumi config set human-approval:approverEmails a@example.com` stores a plain string.
      assert.equal(cliError(() => cliConfigForProgram("dev", project(), stackFile("config:\n  human-approval:approverEmails: a@example.com\n"))), "Stack 'dev' with configuration key 'approverEmails' must be of type 'array<string>'");
      assert.equal(typed("human-approval:reminderMinutesBeforeExpiry: 60,10"), "Stack 'dev' with configuration key 'reminderMinutesBeforeExpiry' must be of type 'array<integer>'");
      assert.equal(typed("human-approval:requiredApprovals: 1.5"), "Stack 'dev' with configuration key 'requiredApprovals' must be of type 'integer'");
      assert.equal(typed("human-approval:allowSelfApproval: yes"), "Stack 'dev' with configuration key 'allowSelfApproval' must be of type 'boolean'");
    });

    it("hands a secure value over as a secret key, and passes keys the project does not declare", () => {
      const { config, secretKeys } = cliConfigForProgram("dev", project(), stackFile("config:\n  aws:region: eu-west-1\n  human-approval:approverEmails: [a@example.com]\n  human-approval:signInClientSecret:\n    secure: v1:abc\n"), () => "decrypted");
      assert.deepEqual(secretKeys, ["human-approval:signInClientSecret"]);
      assert.equal(config["human-approval:signInClientSecret"], "decrypted");
      assert.equal(config["aws:region"], "eu-west-1");
    });

    it("accepts every committed stack file and a fresh stack with only approverEmails, with today's Pulumi.yaml", () => {
      for (const stack of stackNames()) assert.doesNotThrow(() => cliConfigOfStackFile(stack, ROOT), `Pulumi.${stack}.yaml`);
      assert.doesNotThrow(() => cliConfigForProgram("fresh", project(), stackFile("config:\n  human-approval:approverEmails: [a@example.com]\n")));
      // Pulumi.yaml declares no secret: an optional secret cannot be declared (see its comment).
      assert.deepEqual(Object.entries(project().config).filter(([, declared]) => declared.secret), []);
    });
  });

  describe("the program, with the config the CLI hands it", () => {
    it("synthesizes every committed stack on every transport, and a fresh stack", async () => {
      const cases = [
        ...stackNames().flatMap((stack) => TRANSPORTS.map((transport) => ({ stack, transport, ...cliConfigOfStackFile(stack, ROOT) }))),
        { stack: "fresh", transport: undefined, ...cliConfigForProgram("fresh", project(), stackFile("config:\n  human-approval:approverEmails: [a@example.com]\n")) },
      ];
      const runs = await inPairs(cases, ({ stack, transport, config, secretKeys }) =>
        registrationsOf(stack, transport ? { ...config, "human-approval:transport": transport } : config, secretKeys));
      runs.forEach((run, index) => {
        const { stack, transport } = cases[index];
        assert.ok(run.registrations, `${stack} on ${transport ?? "the default transport"} failed:\n${run.stderr}`);
        assert.ok(run.registrations.some((registration) => registration.type === "aws:sfn/stateMachine:StateMachine"), `${stack}/${transport}`);
      });
    });

    it("refuses a client secret stored in clear in the stack file (set without --secret)", async () => {
      const folder = mkdtempSync(path.join(tmpdir(), "cleartext-"));
      writeFileSync(path.join(folder, "Pulumi.yaml"), readFileSync(path.join(ROOT, "Pulumi.yaml")));
      const stack = "config:\n  human-approval:approverEmails: [a@example.com]\n  human-approval:signInIssuer: https://login.example.com\n  human-approval:signInClientId: approvals\n  human-approval:signInClientSecret: hunter2\n";
      writeFileSync(path.join(folder, "Pulumi.cleartext.yaml"), stack);
      assert.deepEqual(keysStoredInClear("cleartext", ["human-approval:signInClientSecret"], folder), ["human-approval:signInClientSecret"]);
      const { config, secretKeys } = cliConfigOfStackFile("cleartext", folder);
      const run = await registrationsOf("cleartext", config, secretKeys, folder);
      assert.equal(run.registrations, undefined);
      assert.match(run.stderr, /human-approval:signInClientSecret is stored in clear in the stack file: set it again with pulumi config set --secret/);
      assert.doesNotMatch(run.stderr, /hunter2/);
      // The same secret set with --secret passes.
      writeFileSync(path.join(folder, "Pulumi.cleartext.yaml"), stack.replace("signInClientSecret: hunter2", "signInClientSecret:\n    secure: v1:abc"));
      assert.deepEqual(keysStoredInClear("cleartext", ["human-approval:signInClientSecret"], folder), []);
    });
  });

  describe("state that survives", () => {
    const snapshot = JSON.parse(readFileSync(path.join(__dirname, "fixtures/urns-v0.1.0.json"), "utf8")) as Record<string, string[]>;
    // The config the snapshot was taken with (stack prod, every optional feature on; an approver typed in mixed case).
    const snapshotConfig = (transport: string) => ({
      "aws:region": "eu-west-1",
      "human-approval:transport": transport,
      "human-approval:approverEmails": JSON.stringify(["Ann@Example.com", "bob@example.com"]),
      "human-approval:requiredApprovals": "2",
      "human-approval:signInIssuer": "https://login.example.com",
      "human-approval:signInClientId": "approvals",
      "human-approval:signInClientSecret": "s3cret",
      "human-approval:alarmEmail": "platform@example.com",
      "human-approval:reminderMinutesBeforeExpiry": "[60]",
    });
    let now: Record<string, Registration[]>;
    before(async () => {
      const runs = await inPairs([...TRANSPORTS], (transport) => {
        const { config, secretKeys } = cliConfigForProgram("prod", project(), Object.fromEntries(Object.entries(snapshotConfig(transport)).map(([key, text]) => [key, { text, secure: key.endsWith("Secret"), object: text.startsWith("[") }])));
        return registrationsOf("prod", config, secretKeys);
      });
      now = Object.fromEntries(TRANSPORTS.map((transport, index) => [transport, runs[index].registrations ?? assert.fail(runs[index].stderr)]));
    });

    for (const transport of TRANSPORTS) {
      it(`answers to every URN the stacks have today, on ${transport}: nothing is replaced`, () => {
        const answered = new Set(now[transport].flatMap((registration) => [registration.urn, ...registration.aliasUrns]));
        const lost = snapshot[transport].filter((urn) => !answered.has(urn));
        assert.deepEqual(lost, [], "resources that would be deleted and created again");
      });
    }

    it("keeps a subscription made with a mixed-case address, under its lower-case name", () => {
      const subscriptions = now.restApi.filter((registration) => registration.type === "aws:sns/topicSubscription:TopicSubscription" && registration.name.includes("-approver-"));
      assert.deepEqual(subscriptions.map((registration) => registration.name).sort(), ["human-approval-approver-ann@example.com", "human-approval-approver-bob@example.com"]);
      const ann = subscriptions.find((registration) => registration.name.endsWith("ann@example.com"))!;
      assert.ok(ann.aliasUrns.some((urn) => urn.endsWith("::human-approval-approver-Ann@Example.com")), ann.aliasUrns.join("\n"));
    });

    it("protects the table, the link key and the topic, and keeps them in AWS on destroy", () => {
      for (const type of ["aws:dynamodb/table:Table", "aws:kms/key:Key", "aws:sns/topic:Topic"]) {
        const resource = now.httpApi.find((registration) => registration.type === type && registration.name === `human-approval-${type === "aws:kms/key:Key" ? "link-key" : "requests"}`);
        assert.ok(resource, type);
        assert.deepEqual([resource.protect, resource.retainOnDelete], [true, true], type);
      }
    });
  });
});
