/**
 * The one Pulumi mocks module (setMocks is process-wide: the last call wins).
 * It records every resource the program declares and answers with the computed
 * attributes AWS would return, so wiring between resources can be asserted.
 */
import * as pulumi from "@pulumi/pulumi";

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";
/** The role the mocked `pulumi up` runs as (an assumed-role session of it). */
export const DEPLOYER_ROLE = `arn:aws:iam::${ACCOUNT}:role/ci/deployer`;

export interface DeclaredResource {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
}

export const declared: DeclaredResource[] = [];

/**
 * What the engine is told about each resource beyond its inputs: its URN as the Pulumi engine forms it
 * (`urn:pulumi:<stack>::<project>::<parent's qualified type>$<type>::<name>`, sdk/go/common/resource/urn.go),
 * the URNs its aliases resolve to, and the `protect` / `retainOnDelete` options.
 */
export interface Registration {
  urn: string;
  type: string;
  name: string;
  parentUrn?: string;
  /** Every URN this resource answers to besides its own: its aliases, and its own and its aliases' names under each of its parent's aliases. */
  aliasUrns: string[];
  protect: boolean;
  retainOnDelete: boolean;
}

export const registrations: Registration[] = [];

function computedState(type: string, name: string, id: string, inputs: Record<string, any>): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:lambda/function:Function": {
      const functionArn = arn("lambda", `function:${name}`);
      return { arn: functionArn, name, invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${functionArn}/invocations` };
    }
    case "aws:lambda/functionUrl:FunctionUrl":
      return { functionUrl: `https://${id}.lambda-url.${REGION}.on.aws/` };
    case "aws:apigateway/restApi:RestApi":
      return { rootResourceId: `${id}-root`, executionArn: arn("execute-api", id), name: inputs.name ?? `${name}-a1b2c3d` };
    case "aws:apigateway/stage:Stage":
      return { invokeUrl: `https://${inputs.restApi}.execute-api.${REGION}.amazonaws.com/${inputs.stageName}`, executionArn: arn("execute-api", `${inputs.restApi}/${inputs.stageName}`) };
    case "aws:apigatewayv2/api:Api":
      return { apiEndpoint: `https://${id}.execute-api.${REGION}.amazonaws.com`, executionArn: arn("execute-api", id) };
    case "aws:dynamodb/table:Table":
      return { name, arn: arn("dynamodb", `table/${name}`) };
    case "aws:sns/topic:Topic":
      return { arn: arn("sns", name) };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: arn("logs", `log-group:${inputs.name}`) };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, name };
    case "aws:cloudwatch/eventRule:EventRule":
      return { arn: arn("events", `rule/${name}`), name };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return { arn: arn("cloudwatch", `alarm:${inputs.name ?? name}`) };
    case "aws:sfn/stateMachine:StateMachine":
      return { arn: arn("states", `stateMachine:${name}`), name };
    case "aws:kms/key:Key":
      return { arn: arn("kms", `key/${id}`), keyId: id };
    case "aws:secretsmanager/secret:Secret":
      return { arn: arn("secretsmanager", `secret:${name}-AbCdEf`) };
    case "aws:secretsmanager/secretVersion:SecretVersion":
      return { versionId: `${id}-version` };
    default:
      return {};
  }
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    const id = `${args.name}-id`;
    const state = { ...args.inputs, ...computedState(args.type, args.name, id, args.inputs) };
    declared.push({ type: args.type, name: args.name, id, inputs: args.inputs, state });
    return { id, state };
  },
  call(args) {
    switch (args.token) {
      case "aws:index/getPartition:getPartition":
        return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
      case "aws:index/getRegion:getRegion":
        return { region: REGION, name: REGION, id: REGION, endpoint: `ec2.${REGION}.amazonaws.com`, description: "Europe (Ireland)" };
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return { accountId: ACCOUNT, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/pulumi-up`, userId: "AROAEXAMPLE:pulumi-up", id: ACCOUNT };
      case "aws:iam/getSessionContext:getSessionContext":
        // An assumed role's session names its role, with the role's path (what aws:PrincipalArn carries).
        return { arn: args.inputs.arn, issuerArn: DEPLOYER_ROLE, issuerId: "AROAEXAMPLE", issuerName: "deployer", sessionName: "pulumi-up", id: args.inputs.arn };
      default:
        throw new Error(`unexpected call ${args.token} in tests: add it to test/support/pulumiMocks.ts`);
    }
  },
};

const urnOf = (stack: string, project: string, parentUrn: string | undefined, type: string, name: string) =>
  `urn:pulumi:${stack}::${project}::${parentUrn ? `${parentUrn.split("::")[2]}$` : ""}${type}::${name}`;

/**
 * Records every RegisterResource request the program sends, with its options, by wrapping the mock monitor
 * (the requests carry what MockResourceArgs leaves out: aliases, protect, retainOnDelete). Alias specs are
 * resolved as the engine resolves them: a spec's missing name, type, stack, project or parent default to the
 * resource's own, and a child also answers to its names under each alias of its parent (the engine's
 * inherited child aliases), so that a renamed or re-parented component carries its children along.
 */
function recordRegistrations(stack: string, project: string): void {
  const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any };
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  // The mock monitor names parents by its own URNs (only the parent's last type segment); map them to the engine's.
  const engineUrnOf = new Map<string, Registration>();
  const mockUrnOf = (parentMockUrn: string, type: string, name: string) => {
    const parentType = parentMockUrn ? `${parentMockUrn.split("::")[2].split("$").pop()}$` : "";
    return `urn:pulumi:${stack}::${project}::${parentType}${type}::${name}`;
  };
  monitor.registerResource = (request: any, callback: unknown) => {
    const type: string = request.getType();
    const name: string = request.getName();
    const parent = engineUrnOf.get(request.getParent());
    const parents = parent ? [parent.urn, ...parent.aliasUrns] : [undefined];
    const urn = urnOf(stack, project, parent?.urn, type, name);
    const aliasUrns = new Set<string>();
    for (const candidate of parents) aliasUrns.add(urnOf(stack, project, candidate, type, name));
    for (const alias of request.getAliasesList()) {
      if (alias.getUrn()) {
        aliasUrns.add(alias.getUrn());
        continue;
      }
      const spec = alias.getSpec();
      const aliasType = spec.getType() || type;
      const aliasName = spec.getName() || name;
      const aliasStack = spec.getStack() || stack;
      const aliasProject = spec.getProject() || project;
      const explicitParent = spec.getNoparent() ? [undefined] : spec.getParenturn() ? [engineUrnOf.get(spec.getParenturn())?.urn ?? spec.getParenturn()] : undefined;
      for (const candidate of explicitParent ?? parents) aliasUrns.add(urnOf(aliasStack, aliasProject, candidate, aliasType, aliasName));
    }
    aliasUrns.delete(urn);
    const registration: Registration = { urn, type, name, parentUrn: parent?.urn, aliasUrns: [...aliasUrns].sort(), protect: request.getProtect() === true, retainOnDelete: request.getRetainondelete() === true };
    registrations.push(registration);
    engineUrnOf.set(mockUrnOf(request.getParent(), type, name), registration);
    return original(request, callback);
  };
}

/**
 * Installs the mocks with this stack's config (keys without a namespace go to `human-approval`);
 * `secretKeys` are the keys set with `pulumi config set --secret`.
 */
export function useMocks(stack: string, config: Record<string, string> = {}, secretKeys: string[] = []): void {
  const namespace = (key: string) => (key.includes(":") ? key : `human-approval:${key}`);
  const namespaced = Object.fromEntries(Object.entries(config).map(([key, value]) => [namespace(key), value]));
  pulumi.runtime.setAllConfig(namespaced, secretKeys.map(namespace));
  pulumi.runtime.setMocks(mocks, "human-approval", stack, false);
  recordRegistrations(stack, "human-approval");
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/**
 * After how long `settled()` says what it is still waiting for (it goes on waiting: a loaded CPU may
 * take long to bundle the Lambda code, and only the suite's own timeout ends the wait).
 */
const SETTLE_REPORT_AFTER_MS = 30_000;

/** What Pulumi's runtime keeps of its outstanding work; none of it is in the typings (`@internal`). */
interface PulumiRuntimeInternals {
  /** Resolves once every registration, read, invoke and registerOutputs begun so far has finished (what `disconnect` awaits). */
  waitForRPCs?: () => Promise<void>;
}

/** Labels of Pulumi's promises still pending (e.g. `resource:name[type]`), for the report of a long wait; best effort. */
function pendingPulumiWork(): string[] {
  try {
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { leakCandidates?: Set<{ _debugCtx?: string }> } };
    const labels = [...(state.getStore().leakCandidates ?? [])].map((promise) => promise._debugCtx ?? "?");
    return [...new Set(labels.filter((label) => label.startsWith("resource:") || label.startsWith("monitor.")))];
  } catch {
    return [];
  }
}

/**
 * Waits until every resource the program has declared so far is registered with the
 * mocks, i.e. `declared` is complete. Each registration starts synchronously in the
 * resource's constructor and takes an `rpcKeepAlive` from Pulumi's runtime, released only
 * after the mocks' `newResource` answered (or the registration failed); `waitForRPCs` is
 * what Pulumi itself awaits before disconnecting, and waits again for any work that joins
 * the queue before it drains. Inputs still resolving, such as esbuild bundling the Lambda
 * code, are thus waited for, however slow. (A resource declared inside an `apply` is only
 * covered once its constructor has run; this program declares all of them in constructors.)
 * No deadline of its own (a fixed one fails a slow but healthy run): if it is still waiting after
 * SETTLE_REPORT_AFTER_MS it logs what is pending, so that a real hang, ended by mocha's timeout, says why.
 */
export async function settled(): Promise<void> {
  const waitForRPCs = (pulumi.runtime as PulumiRuntimeInternals).waitForRPCs;
  if (typeof waitForRPCs !== "function") {
    throw new Error("settled(): this @pulumi/pulumi has no runtime.waitForRPCs, so registrations cannot be awaited; update test/support/pulumiMocks.ts");
  }
  const report = setTimeout(() => {
    const pending = pendingPulumiWork();
    console.log(
      `      settled(): Pulumi registrations still in flight after ${SETTLE_REPORT_AFTER_MS / 1000} s (${declared.length} resources declared so far)` +
        (pending.length ? `; pending: ${pending.slice(0, 10).join(", ")}${pending.length > 10 ? `, and ${pending.length - 10} more` : ""}` : ""),
    );
  }, SETTLE_REPORT_AFTER_MS);
  try {
    await waitForRPCs();
  } finally {
    clearTimeout(report);
  }
}

/** The resources declared under a component name prefix, by type. */
export function declaredUnder(prefix: string) {
  const mine = declared.filter((resource) => resource.name.startsWith(prefix));
  return {
    all: mine,
    ofType: (type: string) => mine.filter((resource) => resource.type === type),
    one(type: string, name?: string): DeclaredResource {
      const matches = mine.filter((resource) => resource.type === type && (name === undefined || resource.name === name));
      if (matches.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}`);
      return matches[0];
    },
  };
}

/** Lambda code archives are readable in mocks. */
export async function archiveText(code: any, file: string): Promise<string> {
  return (await (await code.assets)[file]).text;
}
