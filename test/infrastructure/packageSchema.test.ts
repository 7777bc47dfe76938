/**
 * The component as other Pulumi languages see it: the schema that `pulumi package add` infers, computed here by
 * the SDK's own analyzer (@pulumi/pulumi/provider/experimental, the code run-plugin's componentProviderHost runs)
 * from package.json's entry, exactly as the plugin host does. Every input and output must be in it, typed and
 * described, so a change that other languages cannot consume (a string-literal union, an anonymous object type, a
 * missing doc comment) fails here rather than in someone's Python program. Then the examples (Pulumi YAML and
 * Python): their syntax, and every name they use, checked against that schema.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";
import { generateSchema } from "@pulumi/pulumi/provider/experimental/schema";
import { parse } from "yaml";
import { TRANSPORTS } from "../../functions/decision/httpEvent";

const ROOT = path.resolve(__dirname, "../..");
const TOKEN = "human-approval:index:HumanApprovalWorkflow";

interface Property { type?: string; $ref?: string; items?: Property; additionalProperties?: Property; description?: string; plain?: boolean; optional?: boolean }
interface PackageSchema {
  resources: Record<string, { description?: string; inputProperties: Record<string, Property>; requiredInputs?: string[]; properties: Record<string, Property> }>;
  types: Record<string, { description?: string; type: string; properties?: Record<string, Property>; enum?: Array<{ name: string; value: string; description?: string }> }>;
}

/**
 * What the plugin host serves as GetSchema: the analyzer from package.json's entry, then generateSchema. The
 * analyzer's type definitions too: it reads the named types' doc comments, which this SDK's generateSchema
 * does not copy into the schema yet.
 */
function inferSchema(): { schema: PackageSchema; typeDescriptions: Record<string, string | undefined> } {
  const packageJson = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const { components, typeDefinitions, dependencies } = new Analyzer(ROOT, packageJson.name, packageJson, new Set(["HumanApprovalWorkflow"])).analyze();
  return {
    schema: generateSchema(packageJson.name, packageJson.version, packageJson.description, components, typeDefinitions, dependencies, undefined) as unknown as PackageSchema,
    typeDescriptions: Object.fromEntries(Object.entries(typeDefinitions).map(([name, definition]) => [`${packageJson.name}:index:${name}`, definition.description])),
  };
}

/** Every argument the component takes and every output it gives: a removal or rename breaks other languages' programs. */
const INPUTS = [
  "transport", "approverEmails", "requiredApprovals", "allowSelfApproval", "tableDeletionProtection", "approvalTimeoutMinutes", "logRetentionDays",
  "auditRetentionDays", "emailSubject", "apiThrottle", "decisionReservedConcurrency", "approvedFunctionArn", "signIn", "slack", "reminderMinutesBeforeExpiry",
  "sweepIntervalMinutes", "alarmEmail", "alarmTopicArn", "namePrefix", "protectState", "deployerArn", "breakGlassRoleArn", "callerStateMachineNames", "approvalPolicies",
];
const OUTPUTS = ["transport", "callbackUrl", "stateMachineArn", "topicArn", "approvalsTableName", "requestFunctionArn", "approvalStates"];
/** Arguments that decide which resources exist or their resource options: plain values in every language. */
const PLAIN = ["transport", "approverEmails", "tableDeletionProtection", "reminderMinutesBeforeExpiry", "alarmEmail", "namePrefix", "protectState", "signIn", "slack", "approvalPolicies"];

const camelCase = (snake: string) => snake.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
const pascalCase = (screaming: string) => screaming.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

describe("the package schema, as the Pulumi SDK's analyzer infers it", function () {
  // The analyzer type-checks the whole project: tens of seconds on a loaded machine.
  this.timeout(240_000);
  let schema: PackageSchema;
  let typeDescriptions: Record<string, string | undefined>;
  let component: PackageSchema["resources"][string];
  const typeOf = (ref: string) => schema.types[ref.replace("#/types/", "")];

  before(() => {
    ({ schema, typeDescriptions } = inferSchema());
    component = schema.resources[TOKEN];
  });

  it("has the component under its type token, described", () => {
    assert.ok(component, Object.keys(schema.resources).join(", "));
    assert.ok(component.description && /approve or reject/.test(component.description));
  });

  it("has every input and every output, each typed and described", () => {
    assert.deepEqual(Object.keys(component.inputProperties).sort(), [...INPUTS].sort());
    assert.deepEqual(Object.keys(component.properties).sort(), [...OUTPUTS].sort());
    for (const [kind, properties] of [["input", component.inputProperties], ["output", component.properties]] as const) {
      for (const [name, property] of Object.entries(properties)) {
        assert.ok(property.type || property.$ref, `${kind} ${name} has no type`);
        assert.ok(property.description && property.description.length > 15, `${kind} ${name} has no description`);
      }
    }
    assert.deepEqual(component.requiredInputs, ["approverEmails"]);
  });

  it("types every nested argument as a named, described type with described fields", () => {
    for (const name of ["apiThrottle", "signIn", "slack"]) {
      const ref = component.inputProperties[name].$ref;
      assert.ok(ref, `${name} is not a named type`);
      const type = typeOf(ref);
      assert.equal(type?.type, "object", ref);
      assert.ok(typeDescriptions[ref.replace("#/types/", "")], `${ref} has no description`);
      for (const [field, property] of Object.entries(type.properties ?? {})) {
        assert.ok(property.type && property.description, `${ref}.${field} is untyped or undescribed`);
      }
    }
  });

  it("offers the transports as an enum of the stack's values", () => {
    const transport = typeOf(component.inputProperties.transport.$ref!);
    assert.equal(transport.type, "string");
    assert.deepEqual(transport.enum!.map((member) => member.value).sort(), [...TRANSPORTS].sort());
    assert.ok(transport.enum!.every((member) => member.description), "every transport is described");
  });

  it("takes Input values except where an argument decides which resources exist", () => {
    for (const [name, property] of Object.entries(component.inputProperties)) {
      assert.equal(Boolean(property.plain), PLAIN.includes(name), `${name}: plain is ${property.plain}`);
    }
  });

  describe("the examples", () => {
    it("the Pulumi YAML program uses only the schema's names", () => {
      const program = parse(readFileSync(path.join(ROOT, "examples/yaml/Pulumi.yaml"), "utf8"));
      assert.equal(program.runtime, "yaml");
      assert.equal(program.packages["human-approval"], "../..");
      const resources = Object.entries(program.resources as Record<string, { type: string; properties: Record<string, unknown> }>);
      assert.equal(resources.length, 1);
      const [resourceName, { type, properties }] = resources[0];
      assert.equal(type, TOKEN);
      for (const name of Object.keys(properties)) assert.ok(component.inputProperties[name], `examples/yaml: no input ${name}`);
      for (const name of Object.keys(properties.apiThrottle as object)) assert.ok(typeOf(component.inputProperties.apiThrottle.$ref!).properties![name], `apiThrottle.${name}`);
      assert.ok(TRANSPORTS.includes(properties.transport as never));
      for (const reference of Object.values(program.outputs as Record<string, string>)) {
        const [, resource, output] = /^\$\{(\w+)\.(\w+)\}$/.exec(reference)!;
        assert.equal(resource, resourceName);
        assert.ok(component.properties[output], `examples/yaml: no output ${output}`);
      }
    });

    it("the Python program uses only the schema's names (in the generated SDK's snake_case)", () => {
      const source = readFileSync(path.join(ROOT, "examples/python/__main__.py"), "utf8");
      const project = parse(readFileSync(path.join(ROOT, "examples/python/Pulumi.yaml"), "utf8"));
      assert.equal(project.runtime.name, "python");
      assert.equal(project.packages["human-approval"], "../..");
      const call = (callee: string) => new RegExp(`${callee}\\(([\\s\\S]*?)\\n?\\)`).exec(source)![1];
      const keywords = (args: string) => [...args.matchAll(/^\s*(\w+)=/gm)].map((match) => camelCase(match[1]));
      const workflowArgs = keywords(call("human_approval\\.HumanApprovalWorkflow"));
      assert.ok(workflowArgs.length >= 5, workflowArgs.join());
      for (const name of workflowArgs) assert.ok(component.inputProperties[name], `examples/python: no input ${name}`);
      const throttle = typeOf(component.inputProperties.apiThrottle.$ref!);
      assert.match(source, new RegExp(`human_approval\\.${component.inputProperties.apiThrottle.$ref!.split(":").pop()}Args\\(`));
      for (const name of [...call("ApiThrottleSettingsArgs").matchAll(/(\w+)=/g)].map((match) => camelCase(match[1]))) assert.ok(throttle.properties![name], `apiThrottle.${name}`);
      const transport = typeOf(component.inputProperties.transport.$ref!);
      for (const [, member] of source.matchAll(/human_approval\.Transport\.(\w+)/g)) {
        assert.ok(transport.enum!.some((candidate) => candidate.name === pascalCase(member)), `Transport.${member}`);
      }
      for (const [, output] of source.matchAll(/approvals\.(\w+)/g)) assert.ok(component.properties[camelCase(output)], `examples/python: no output ${output}`);
    });

    it("the Python program compiles", function () {
      const python = spawnSync("python3", ["--version"]);
      if (python.error || python.status !== 0) {
        // No interpreter on this machine: the names above are still checked; CI images have python3.
        this.skip();
      }
      const compiled = path.join(mkdtempSync(path.join(tmpdir(), "py-")), "main.pyc");
      execFileSync("python3", ["-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)", path.join(ROOT, "examples/python/__main__.py"), compiled]);
    });
  });
});
