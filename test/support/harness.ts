/**
 * Both handlers wired exactly as in Lambda (each `functions/<name>/index.ts`'s
 * dependenciesFromEnvironment: the real DynamoDB adapter and the real SNS, KMS
 * and Step Functions SDK clients, with their real timeouts and retries), with
 * DynamoDB served by dynalite and SNS, KMS and Step Functions answered over
 * HTTP by the local AWS stand-in, and a clock the test controls. Only `now`
 * and the log sink are replaced.
 */
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import type { HttpResponse } from "../../functions/decision/decision";
import type { Transport } from "../../functions/decision/httpEvent";
import { createHandler as createDecisionHandler, dependenciesFromEnvironment as decisionDependencies } from "../../functions/decision/index";
import { createHandler as createRequestHandler, dependenciesFromEnvironment as requestDependencies } from "../../functions/requestApproval/index";
import type { RequestApprovalResult } from "../../functions/requestApproval/requestApproval";
import type { ApprovalOutput, ApprovalRequest } from "../../functions/shared/approvalRequest";
import { createLogger } from "../../functions/shared/logger";
import type { ApprovalPolicy } from "../../functions/shared/policy";
import { AwsStandIn, type PublishedEmail } from "../../local/awsStandIn";
import { startLocalDynamoDb, type LocalDynamoDb } from "../../local/dynamoDb";
import { localAwsEnvironment } from "../../local/environment";
import { EVENT_BUILDERS, type HttpCall } from "./events";

export const CALLBACK_URL = "https://approvals.example.com";
export const APPROVAL_TIMEOUT_SECONDS = 3600;
export const AUDIT_RETENTION_DAYS = 90;
export const STATE_MACHINE_NAME = "release";
const ARN_PREFIX = "arn:aws:states:eu-west-1:123456789012";
/** The stack's one approver unless a test configures others. */
export const APPROVER = "approver@example.com";

/** The stack configuration the functions read from their environment. */
export interface StackConfig {
  approverEmails: string[];
  requiredApprovals: number;
  allowSelfApproval: boolean;
  /** Approval policies, resolved as stacks/config.ts makes them (APPROVAL_POLICIES); unset: none. */
  approvalPolicies?: Record<string, ApprovalPolicy>;
}

export interface RequestOptions {
  /** Default: a new token shaped like Step Functions'. */
  taskToken?: string;
  /**
   * The execution to ask for (default: a new one, see uniqueExecutionName). Naming one that was asked for
   * before runs the request function again for it: a retried invocation (same token) or a retried task (new token).
   */
  executionName?: string;
  /** Shorthand for a retried invocation of an earlier request: its execution and, unless given, its token. */
  retryOf?: RequestedApproval;
  /** Register the waiting task in the stand-in (default true); false leaves Step Functions unaware of the token. */
  registerTask?: boolean;
}

export interface RequestedApproval {
  requestRef: string;
  executionArn: string;
  executionName: string;
  taskToken: string;
  /** What the request function returned (it lands in the execution history). */
  result: RequestApprovalResult;
  /** Each emailed approver's own link path (`/requests/<linkId>`), by address, from every email of this execution so far. */
  links: Record<string, string>;
  /** The link path of the first approver emailed (the only one on a one-approver stack). */
  path: string;
  /** The emails this invocation published. */
  emails: PublishedEmail[];
  /** Resolves with what the waiting task received, once SendTaskSuccess delivers it. */
  received: Promise<ApprovalOutput>;
  /** What the waiting task received so far, or undefined while it still waits. */
  receivedOutput(): ApprovalOutput | undefined;
  /** TaskSucceeded events in the execution's history: how many times the workflow took a decision. */
  deliveries(): number;
}

export interface Harness {
  db: LocalDynamoDb;
  standIn: AwsStandIn;
  /** The functions' environment (what Lambda would be configured with). */
  env: Record<string, string>;
  config: StackConfig;
  clock: { now: Date; advanceSeconds(seconds: number): void };
  /** Every log line both handlers wrote. */
  logLines: string[];
  /** Changes the stack's configuration; both handlers are built again from the new environment, as a deployment would. */
  configure(changes: Partial<StackConfig>): void;
  /** Registers a waiting task in the stand-in, runs request-approval for it and reads each approver's link out of the emails. */
  requestApproval(input?: unknown, options?: RequestOptions): Promise<RequestedApproval>;
  /** Sends the functions' DynamoDB calls through the stand-in (which forwards them to dynalite), so that faults and stale reads reach them too. */
  routeDynamoDbThroughStandIn(): void;
  /** The table's name. */
  tableName: string;
  /** Invokes the request function with any event (a sweep, a verify step), as Step Functions or EventBridge would. */
  invokeRequestFunction(event: unknown): Promise<unknown>;
  /** The workflow's timeout: the task times out in the stand-in and the timeout path runs request-approval's expiry. */
  timeOut(approval: RequestedApproval): Promise<unknown>;
  /** One run of the reminders' schedule (`{"kind":"remind"}`): reminders, and approval policies' escalations and stage openings. */
  remind(): Promise<unknown>;
  /** Sends one HTTP call through the decision handler, shaped as the transport delivers it. */
  call(transport: Transport, call: HttpCall): Promise<HttpResponse>;
  /** The request item as stored. */
  stored(requestRef: string): Promise<ApprovalRequest>;
  /** Every item in the table. */
  items(): Promise<Array<Record<string, unknown>>>;
  /** Calls the stand-in received for an operation ("SendTaskSuccess", "Publish", "GenerateMac", ...). */
  calls(operation: string): number;
  /** Counts an operation's calls from now on: `const sendTaskSuccess = harness.counter("SendTaskSuccess"); ...; sendTaskSuccess()`. */
  counter(operation: string): () => number;
  close(): Promise<void>;
}

/** A token shaped like Step Functions' (long, base64-ish), unique per call. */
export function fakeTaskToken(): string {
  return "AQCEAAAAKgAAAAMAAAAA" + randomBytes(400).toString("base64");
}

const LINK_IN_EMAIL = new RegExp(`${CALLBACK_URL.replace(/[.]/g, "\\.")}(/requests/[A-Za-z0-9_-]{32})(?=\\s)`);

/** The link path in an approval email; undefined for a notice, which carries none. */
export function linkPathIn(email: PublishedEmail): string | undefined {
  return LINK_IN_EMAIL.exec(email.message)?.[1];
}

let executionCounter = 0;

/** A fresh execution name, unique in this process. */
export function uniqueExecutionName(prefix = "run"): string {
  return `${prefix}-${++executionCounter}-${randomBytes(3).toString("hex")}`;
}

export function executionArnOf(executionName: string): string {
  return `${ARN_PREFIX}:execution:${STATE_MACHINE_NAME}:${executionName}`;
}

export async function startHarness(initial: Partial<StackConfig> = {}): Promise<Harness> {
  // Lambda runs nodejs24.x; the SDK's warning about the local Node version is noise here (set before the first client).
  const previousWarning = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const db = await startLocalDynamoDb();
  const standIn = new AwsStandIn();
  const tableName = `approvals-${randomBytes(4).toString("hex")}`;
  let standInEndpoint: string;
  try {
    standInEndpoint = await standIn.listen();
    await db.createApprovalsTable(tableName);
  } catch (error) {
    await standIn.close();
    await db.close();
    throw error;
  }

  // The SDK clients find the local endpoints, region and credentials in the environment, as local/environment.ts sets them.
  const processEnvironment = localAwsEnvironment({ dynamoDb: db.endpoint, standIn: standInEndpoint });
  const previousEnvironment = { ...Object.fromEntries(Object.keys(processEnvironment).map((name) => [name, process.env[name]])), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: previousWarning };
  Object.assign(process.env, processEnvironment);

  const config: StackConfig = { approverEmails: [APPROVER], requiredApprovals: 1, allowSelfApproval: false, ...initial };
  const env: Record<string, string> = {
    TABLE_NAME: tableName,
    TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:approvals",
    LINK_KEY_ID: "arn:aws:kms:eu-west-1:123456789012:key/link-key",
    CALLBACK_URL,
    APPROVAL_TIMEOUT_SECONDS: String(APPROVAL_TIMEOUT_SECONDS),
    AUDIT_RETENTION_DAYS: String(AUDIT_RETENTION_DAYS),
  };
  const logLines: string[] = [];
  const clock = {
    now: new Date(),
    advanceSeconds(seconds: number) {
      clock.now = new Date(clock.now.getTime() + seconds * 1000);
    },
  };
  const logger = (service: string) => createLogger({ service, write: (line) => logLines.push(line), now: () => clock.now });

  let requestHandler!: ReturnType<typeof createRequestHandler>;
  let decisionHandler!: ReturnType<typeof createDecisionHandler>;
  const build = () => {
    Object.assign(env, {
      APPROVER_EMAILS: config.approverEmails.join(","),
      REQUIRED_APPROVALS: String(config.requiredApprovals),
      ALLOW_SELF_APPROVAL: String(config.allowSelfApproval),
    });
    if (config.approvalPolicies) env.APPROVAL_POLICIES = JSON.stringify(config.approvalPolicies);
    else delete env.APPROVAL_POLICIES;
    requestHandler = createRequestHandler({ ...requestDependencies(env), now: () => clock.now, logger: logger("request-approval") });
    decisionHandler = createDecisionHandler({ ...decisionDependencies(env), now: () => clock.now, logger: logger("decision") });
  };
  build();

  const documents = DynamoDBDocumentClient.from(db.client);
  let invocations = 0;
  const invocationId = () => `invocation-${++invocations}`;

  /** Executions registered in the stand-in, and each registered token's delivery, so a retry finds them again. */
  const executions = new Set<string>();
  const tasks = new Map<string, { received: Promise<ApprovalOutput>; output?: ApprovalOutput }>();

  const requestApproval = async (input: unknown = { title: "Deploy release 42", details: { version: "42" } }, options: RequestOptions = {}): Promise<RequestedApproval> => {
    const executionName = options.executionName ?? options.retryOf?.executionName ?? uniqueExecutionName();
    const executionArn = executionArnOf(executionName);
    const taskToken = options.taskToken ?? options.retryOf?.taskToken ?? fakeTaskToken();

    if (!executions.has(executionArn)) {
      executions.add(executionArn);
      standIn.startExecution(executionArn, input);
    }
    let task = tasks.get(taskToken);
    if (task === undefined) {
      const payload = { taskToken, execution: { id: executionArn, name: executionName }, stateMachine: { name: STATE_MACHINE_NAME }, input };
      const entry: { received: Promise<ApprovalOutput>; output?: ApprovalOutput } = {
        received:
          options.registerTask === false
            ? new Promise<ApprovalOutput>(() => undefined)
            : standIn.waitForTaskToken(taskToken, executionArn, { FunctionName: "request-approval", Payload: payload }).then((output) => (entry.output = JSON.parse(output) as ApprovalOutput)),
      };
      // Closing the stand-in fails tasks still waiting; a test that never awaited this must not see an unhandled rejection.
      entry.received.catch(() => undefined);
      tasks.set(taskToken, entry);
      task = entry;
    }
    const registered = task;

    const emailsBefore = standIn.emails.length;
    const result = (await requestHandler(
      { taskToken, execution: { id: executionArn, name: executionName }, stateMachine: { name: STATE_MACHINE_NAME }, input },
      { awsRequestId: invocationId() },
    )) as RequestApprovalResult;
    standIn.recordEvent(executionArn, { type: "TaskSubmitted", taskSubmittedEventDetails: { resourceType: "lambda", resource: "invoke.waitForTaskToken", output: JSON.stringify(result) } });

    const thisExecution = (email: PublishedEmail) => email.message.includes(`\nExecution:  ${executionName}\n`);
    const links: Record<string, string> = {};
    for (const email of standIn.emails.filter(thisExecution)) {
      const path = linkPathIn(email);
      if (path) links[email.recipients[0]] = path;
    }
    const emails = standIn.emails.slice(emailsBefore).filter(thisExecution);
    const firstLinked = emails.map(linkPathIn).find((path) => path !== undefined) ?? Object.values(links)[0];
    return {
      requestRef: result.requestRef,
      executionArn,
      executionName,
      taskToken,
      result,
      links,
      path: firstLinked ?? "",
      emails,
      received: registered.received,
      receivedOutput: () => registered.output,
      deliveries: () => standIn.historyOf(executionArn).filter((event) => event.type === "TaskSucceeded").length,
    };
  };

  return {
    db,
    standIn,
    env,
    config,
    clock,
    logLines,
    configure(changes) {
      Object.assign(config, changes);
      build();
    },
    requestApproval,
    tableName,
    routeDynamoDbThroughStandIn() {
      standIn.dynamoDbEndpoint = db.endpoint;
      process.env.AWS_ENDPOINT_URL_DYNAMODB = standInEndpoint;
    },
    invokeRequestFunction: (event) => requestHandler(event, { awsRequestId: invocationId() }),
    async timeOut(approval) {
      standIn.finishTask(approval.taskToken, "timedOut");
      return requestHandler({ kind: "expired", execution: { id: approval.executionArn, name: approval.executionName } }, { awsRequestId: invocationId() });
    },
    remind: () => requestHandler({ kind: "remind" }, { awsRequestId: invocationId() }),
    call: (transport, call) => decisionHandler(EVENT_BUILDERS[transport](call), { awsRequestId: invocationId() }),
    async stored(requestRef) {
      const result = await documents.send(new GetCommand({ TableName: tableName, Key: { id: requestRef }, ConsistentRead: true }));
      if (!result.Item) throw new Error(`No request item ${requestRef}`);
      return result.Item as ApprovalRequest;
    },
    async items() {
      const items: Array<Record<string, unknown>> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
        items.push(...((page.Items ?? []) as Array<Record<string, unknown>>));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    calls: (operation) => standIn.callCount(operation),
    counter(operation) {
      const start = standIn.callCount(operation);
      return () => standIn.callCount(operation) - start;
    },
    async close() {
      await standIn.close();
      await db.close();
      for (const [name, value] of Object.entries(previousEnvironment)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}

/** The page's heading and lead paragraph, unescaped enough to match against. */
export function headingOf(response: HttpResponse): string {
  return /<h1>([\s\S]*?)<\/h1>/.exec(response.body)?.[1] ?? "";
}

export function leadOf(response: HttpResponse): string {
  return /<p class="lead">([\s\S]*?)<\/p>/.exec(response.body)?.[1] ?? "";
}

export function jsonOf(response: HttpResponse): Record<string, any> {
  return JSON.parse(response.body) as Record<string, any>;
}
