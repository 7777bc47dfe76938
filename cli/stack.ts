/**
 * Finds the stack's resources (flags, environment variables, `pulumi stack output --json`, or the local
 * mode's `GET /stack-outputs`) and talks to them with the AWS SDK: Step Functions for executions, DynamoDB
 * for the requests. Reads of the table name their attributes, so the task token is never even fetched.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { STATUS_INDEX, STATUS_INDEX_ATTRIBUTES, type ApprovalRequest } from "../functions/shared/approvalRequest";
import { CliError, EXIT, type ResourceFlags } from "./options";

export const DEFAULT_LOCAL_URL = "http://127.0.0.1:3000";

export interface StackLocation {
  stateMachineArn?: string;
  table?: string;
  /** The local mode's endpoints; the SDK is pointed there with fixed fake credentials. */
  local?: { dynamodb: string; sfn: string };
  /** How each value was found, for error messages. */
  sources: string[];
}

/** What the CLI reads of a request: everything but the task token, the TTL and the votes' network details. */
export type RequestRecord = Pick<ApprovalRequest, "id" | "title" | "status" | "createdAt" | "expiresAt" | "executionArn" | "executionName" | "approvers" | "requiredApprovals" | "votes"> &
  Partial<Pick<ApprovalRequest, "description" | "details" | "requestedBy" | "stateMachineName" | "inputDigest" | "settlement" | "deliveredAt" | "closedReason" | "notified">>;

const REQUEST_ATTRIBUTES = [...new Set(["id", "status", "createdAt", "description", "details", "inputView", "notified", ...STATUS_INDEX_ATTRIBUTES])].filter((name) => name !== "taskToken");
const LIST_ATTRIBUTES = [...new Set(["id", "status", "createdAt", ...STATUS_INDEX_ATTRIBUTES])];

function projection(attributes: string[]) {
  return {
    ProjectionExpression: attributes.map((_, index) => `#a${index}`).join(", "),
    ExpressionAttributeNames: Object.fromEntries(attributes.map((name, index) => [`#a${index}`, name])),
  };
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split("\n")[0].trim();

function readOutputsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path.resolve(file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`Cannot read the stack outputs file ${file}: ${code === "ENOENT" ? "no such file" : firstLine(error)} (make it with: pulumi stack output --json > ${file}).`);
  }
  let outputs: unknown;
  try {
    outputs = JSON.parse(text);
  } catch (error) {
    throw new CliError(`The stack outputs file ${file} is not JSON (${firstLine(error)}); make it with: pulumi stack output --json > ${file}.`);
  }
  if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) throw new CliError(`The stack outputs file ${file} is not a JSON object of outputs; make it with: pulumi stack output --json > ${file}.`);
  return outputs as Record<string, unknown>;
}

async function fetchLocalOutputs(url: string): Promise<Record<string, unknown>> {
  const where = `${url.replace(/\/+$/, "")}/stack-outputs`;
  try {
    const response = await fetch(where, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`The local mode does not answer at ${url} (${firstLine(error)}): start it with npm start -- --serve, or pass --local-url <url>.`);
  }
}

const text = (value: unknown) => (typeof value === "string" && value.trim() ? value.trim() : undefined);

/** The local mode's endpoints, when given and on this machine; nothing else is taken for the local mode. */
function localEndpoints(outputs: Record<string, unknown>): StackLocation["local"] {
  const endpoints = outputs.endpoints as { dynamodb?: unknown; sfn?: unknown } | undefined;
  const loopback = (value: unknown) => {
    try {
      const url = new URL(String(value));
      return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    } catch {
      return false;
    }
  };
  return endpoints && loopback(endpoints.dynamodb) && loopback(endpoints.sfn) ? { dynamodb: String(endpoints.dynamodb), sfn: String(endpoints.sfn) } : undefined;
}

export async function locateStack(flags: ResourceFlags, env: NodeJS.ProcessEnv): Promise<StackLocation> {
  const sources: string[] = [];
  const outputsFile = flags.stackOutputs ?? text(env.HUMAN_APPROVAL_STACK_OUTPUTS);
  const outputs = outputsFile ? readOutputsFile(outputsFile) : {};
  let local: StackLocation["local"];
  let localOutputs: Record<string, unknown> = {};
  if (flags.local) {
    const url = flags.localUrl ?? text(env.HUMAN_APPROVAL_LOCAL_URL) ?? DEFAULT_LOCAL_URL;
    localOutputs = await fetchLocalOutputs(url);
    local = localEndpoints(localOutputs);
    if (!local) throw new CliError(`The local mode at ${url} gave no endpoints on this machine: is it this project's npm start?`);
    sources.push(`the local mode at ${url}`);
  } else {
    // A file saved from the local mode's GET /stack-outputs names its endpoints: use them, as --local would.
    local = localEndpoints(outputs);
  }
  const pick = (flag: string | undefined, envName: string, outputName: string) => {
    const found = text(flag) ?? text(env[envName]) ?? text(outputs[outputName]) ?? text(localOutputs[outputName]);
    if (outputsFile && outputs[outputName] !== undefined && text(outputs[outputName]) === undefined) {
      throw new CliError(`The stack outputs file ${outputsFile} has ${outputName} ${JSON.stringify(outputs[outputName])}: expected a name or ARN.`);
    }
    return found;
  };
  if (outputsFile) sources.push(`the stack outputs file ${outputsFile}`);
  return {
    stateMachineArn: pick(flags.stateMachineArn, "HUMAN_APPROVAL_STATE_MACHINE_ARN", "stateMachineArn"),
    table: pick(flags.table, "HUMAN_APPROVAL_TABLE", "approvalsTable"),
    local,
    sources,
  };
}

/** A value the command cannot do without; the error says every way to give it. */
export function need(stack: StackLocation, what: "stateMachineArn" | "table"): string {
  const value = stack[what];
  if (value) return value;
  const [flag, envName, output] = what === "table" ? ["--table", "HUMAN_APPROVAL_TABLE", "approvalsTable"] : ["--state-machine-arn", "HUMAN_APPROVAL_STATE_MACHINE_ARN", "stateMachineArn"];
  const where = stack.sources.length ? `${stack.sources.join(" and ")} ha${stack.sources.length === 1 ? "s" : "ve"} no ${output}` : `no stack given`;
  throw new CliError(`Missing the stack's ${output}: ${where}. Pass ${flag}, set ${envName}, or give --stack-outputs <file> from pulumi stack output --json.`);
}

const ARN = /^arn:[a-z-]+:states:([a-z0-9-]+):\d{12}:(stateMachine|execution):/;
export const isExecutionArn = (value: string) => /^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(value);
export const regionOf = (arn: string | undefined) => (arn ? ARN.exec(arn)?.[1] : undefined);

export interface ExecutionState {
  status: string;
  output?: string;
  error?: string;
  cause?: string;
}

/** The AWS calls the commands make, over explicit timeouts and a few retries. */
export interface StackClient {
  startExecution(stateMachineArn: string, input: unknown): Promise<string>;
  describeExecution(executionArn: string): Promise<ExecutionState>;
  stopExecution(executionArn: string, error: string, cause: string): Promise<void>;
  getRequest(table: string, requestRef: string): Promise<RequestRecord | undefined>;
  listRequests(table: string, status: string): Promise<RequestRecord[]>;
  close(): void;
}

export function stackClient(stack: StackLocation, regionHint?: string): StackClient {
  const settings = {
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
    // The resource's own region beats a default that may name another one.
    ...(stack.local ? { region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } } : regionHint ? { region: regionHint } : {}),
  };
  const sfn = new SFNClient({ ...settings, ...(stack.local ? { endpoint: stack.local.sfn } : {}) });
  const dynamoDb = new DynamoDBClient({ ...settings, ...(stack.local ? { endpoint: stack.local.dynamodb } : {}) });
  const documents = DynamoDBDocumentClient.from(dynamoDb);
  return {
    async startExecution(stateMachineArn, input) {
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
      if (!started.executionArn) throw new CliError("StartExecution returned no execution ARN.", EXIT.failure);
      return started.executionArn;
    },
    async describeExecution(executionArn) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return { status: execution.status ?? "UNKNOWN", output: execution.output, error: execution.error, cause: execution.cause };
    },
    async stopExecution(executionArn, error, cause) {
      await sfn.send(new StopExecutionCommand({ executionArn, error, cause }));
    },
    async getRequest(table, requestRef) {
      const result = await documents.send(new GetCommand({ TableName: table, Key: { id: requestRef }, ConsistentRead: true, ...projection(REQUEST_ATTRIBUTES) }));
      const item = result.Item as RequestRecord | undefined;
      return item && typeof item.status === "string" ? item : undefined;
    },
    async listRequests(table, status) {
      const found: RequestRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const { ProjectionExpression, ExpressionAttributeNames } = projection(LIST_ATTRIBUTES);
        const page = await documents.send(
          new QueryCommand({
            TableName: table,
            IndexName: STATUS_INDEX.name,
            KeyConditionExpression: "#status = :status",
            ExpressionAttributeNames: { ...ExpressionAttributeNames, "#status": STATUS_INDEX.hashKey },
            ExpressionAttributeValues: { ":status": status },
            ProjectionExpression,
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        );
        found.push(...((page.Items ?? []) as RequestRecord[]));
        start = page.LastEvaluatedKey;
      } while (start);
      return found;
    },
    close() {
      sfn.destroy();
      dynamoDb.destroy();
    },
  };
}
