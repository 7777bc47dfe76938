/**
 * The one Pulumi mocks module (setMocks is process-wide: the last call wins).
 * It records every resource the program declares and answers with the computed
 * attributes AWS would return, so wiring between resources can be asserted.
 */
import * as pulumi from "@pulumi/pulumi";

export const REGION = "eu-west-1";
export const ACCOUNT = "123456789012";

export interface DeclaredResource {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
}

export const declared: DeclaredResource[] = [];

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
      return { rootResourceId: `${id}-root`, executionArn: arn("execute-api", id) };
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
    case "aws:sfn/stateMachine:StateMachine":
      return { arn: arn("states", `stateMachine:${name}`) };
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
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "test", id: ACCOUNT };
      default:
        throw new Error(`unexpected call ${args.token} in tests: add it to test/support/pulumiMocks.ts`);
    }
  },
};

/** Installs the mocks with this stack's config (keys without a namespace go to `human-approval`). */
export function useMocks(stack: string, config: Record<string, string> = {}): void {
  const namespaced = Object.fromEntries(Object.entries(config).map(([key, value]) => [key.includes(":") ? key : `human-approval:${key}`, value]));
  pulumi.runtime.setAllConfig(namespaced);
  pulumi.runtime.setMocks(mocks, "human-approval", stack, false);
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Waits until the program stops declaring resources (registrations finish asynchronously). */
export async function settled(): Promise<void> {
  let quietTicks = 0;
  let count = declared.length;
  while (quietTicks < 20) {
    await new Promise((resolve) => setImmediate(resolve));
    quietTicks = declared.length === count ? quietTicks + 1 : 0;
    count = declared.length;
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
