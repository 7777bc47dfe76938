/**
 * A stand-in for the AWS calls DynamoDB cannot cover locally: SNS Publish (AWS Query protocol),
 * KMS GenerateMac (JSON 1.1), and Step Functions SendTaskSuccess, GetExecutionHistory,
 * DescribeExecution, StopExecution and (through a hook the local runner sets) StartExecution (JSON 1.0). It listens on 127.0.0.1 and speaks their wire
 * formats, so the handlers' real SDK clients reach it through AWS_ENDPOINT_URL_*; and it can inject
 * the faults a real network has (a reply lost after the call was applied, a hung connection,
 * throttling), so tests exercise the SDK's real timeouts and retries.
 */
import { refuseForeignRequests } from "./gateway";
import { EventEmitter } from "node:events";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { INVOCATION_HEADER } from "./invocations";

export interface PublishedEmail {
  topicArn: string;
  subject: string;
  message: string;
  messageId: string;
  /** The `approver` message attribute: who the subscriptions' filter policies deliver it to. */
  recipients: string[];
}

/** A fault to inject into the next call of an operation. */
export type Fault =
  /** The call takes effect, then the connection drops before the reply: the caller cannot know. */
  | "applyThenDropReply"
  /** No reply ever: only the caller's own timeout ends the wait. */
  | "hang"
  /** 400 ThrottlingException, nothing applied. */
  | "throttle"
  /** The call takes effect, its reply is lost, and the function that made it crashes: its later calls all fail. */
  | "crash"
  /** No fault: answered as usual (to reach a later call of the same operation with a queue of faults). */
  | "none";

/** An event of an execution's history, shaped as GetExecutionHistory returns it. */
export interface StandInHistoryEvent {
  type: string;
  [details: string]: unknown;
}

type WaitingTask =
  | { state: "waiting"; executionArn?: string; resolve(output: string): void; reject(error: Error): void }
  | { state: "finished"; executionArn?: string };

interface StandInExecution {
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED" | "TIMED_OUT";
  events: Array<StandInHistoryEvent & { id: number; timestamp: number }>;
  onStop?: () => void;
  /** What DescribeExecution answers besides the status. */
  input: string;
  startDate: number;
  stopDate?: number;
  result?: ExecutionResult;
}

/** How an execution ended, as DescribeExecution reports it. */
export interface ExecutionResult {
  output?: string;
  error?: string;
  cause?: string;
}

/** A table's items at one moment, in DynamoDB's typed JSON, by the JSON of their key attribute. */
export interface TableSnapshot {
  tableName: string;
  keyAttribute: string;
  items: Map<string, Record<string, unknown>>;
}

/** StartExecution, answered by whoever runs executions (the local runner): the new execution's ARN. */
export type StartExecutionHook = (request: { stateMachineArn: string; input: unknown; name?: string }) => { executionArn: string };

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** One unsigned call to dynalite (it checks no signatures), answered with the body. */
function dynaliteCall(endpoint: string, operation: string, input: object): Promise<string> {
  const url = new URL(endpoint);
  const body = JSON.stringify(input);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, method: "POST", path: "/", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `DynamoDB_20120810.${operation}`, "content-length": String(Buffer.byteLength(body)), "x-amz-date": "20260101T000000Z", authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0" } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => (answer.statusCode === 200 ? resolve(Buffer.concat(chunks).toString("utf8")) : reject(new Error(`dynalite ${operation}: ${answer.statusCode} ${Buffer.concat(chunks).toString("utf8")}`))));
        answer.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown, contentType = "application/x-amz-json-1.0") {
  response.writeHead(statusCode, { "Content-Type": contentType }).end(JSON.stringify(body));
}

/** SNS's Query protocol flattens message attributes as MessageAttributes.entry.N.Name / .Value.StringValue. */
function messageAttribute(form: URLSearchParams, name: string): { type: string; value: string } | undefined {
  for (let index = 1; form.has(`MessageAttributes.entry.${index}.Name`); index++) {
    if (form.get(`MessageAttributes.entry.${index}.Name`) !== name) continue;
    return { type: form.get(`MessageAttributes.entry.${index}.Value.DataType`) ?? "", value: form.get(`MessageAttributes.entry.${index}.Value.StringValue`) ?? "" };
  }
  return undefined;
}

export class AwsStandIn {
  readonly emails: PublishedEmail[] = [];
  /** Calls received, by operation (e.g. "SendTaskSuccess", "GenerateMac", "Publish"). */
  readonly calls = new Map<string, number>();
  /** Faults to inject, consumed one per call, by operation. */
  readonly faults = new Map<string, Fault[]>();
  /** Every call received, in order ("PutItem", "SendTaskSuccess", ...): the fault sweep numbers calls by it. */
  readonly callLog: string[] = [];
  /** Faults to inject into one call, by its position in `callLog` (0-based), whatever its operation. */
  readonly faultsAtCall = new Map<number, Fault>();
  /** The most calls of one operation ever under way at once (a bound on a function's fan-out shows here). */
  readonly peakInFlight = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  /** Invocations stopped by a "crash" fault (local/invocations.ts): whatever they call next fails. */
  private readonly crashedInvocations = new Set<string>();
  /** Milliseconds every answer takes (a network's round trip), so that calls under way overlap as they do in AWS. */
  latencyMs = 0;
  /** Where DynamoDB calls are forwarded (dynalite), so that faults can be injected into them too. */
  dynamoDbEndpoint?: string;
  /** Secrets Manager secrets by ARN (or name), for GetSecretValue: the sign-in client secret. */
  readonly secrets = new Map<string, string>();
  private readonly macKey = randomBytes(32);
  private readonly events = new EventEmitter();
  private readonly tasks = new Map<string, WaitingTask>();
  private readonly executions = new Map<string, StandInExecution>();
  private readonly hungSockets = new Set<Socket>();
  private server?: Server;
  private closed = false;
  private nextEventId = 1;
  /** Set by the local runner: StartExecution starts one of its executions. */
  onStartExecution?: StartExecutionHook;
  /**
   * An eventually consistent replica, for tests (dynalite always reads consistently): while set, every GetItem
   * that does not ask for `ConsistentRead: true` is answered from this snapshot (by table, then key), not from
   * the table. See `serveStaleReads`.
   */
  private staleSnapshot?: TableSnapshot;
  /** GetItem calls answered from the stale snapshot so far. */
  staleReadsServed = 0;

  /** Starts listening; returns the endpoint URL for every service it stands in for. */
  async listen(): Promise<string> {
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: Error) => sendJson(response, 500, { __type: "InternalFailure", message: error.message }));
    });
    // It can make links (GenerateMac) and answer tasks: nobody but this machine's SDK clients may reach it.
    refuseForeignRequests(this.server, "The local AWS stand-in");
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(0, "127.0.0.1", () => resolve());
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops listening; tasks still waiting fail, so nothing (no interpreter timer) outlives the stand-in. */
  async close(): Promise<void> {
    this.closed = true;
    for (const taskToken of this.tasks.keys()) this.finishTask(taskToken);
    for (const socket of this.hungSockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The items of `tableName` as they are now (a consistent scan), keyed by `keyAttribute`: see `serveStaleReads`. */
  async snapshotTable(tableName: string, keyAttribute: string): Promise<TableSnapshot> {
    if (!this.dynamoDbEndpoint) throw new Error("A snapshot needs DynamoDB routed through the stand-in (dynamoDbEndpoint).");
    const items = new Map<string, Record<string, unknown>>();
    let startKey: unknown;
    do {
      const page = JSON.parse(await dynaliteCall(this.dynamoDbEndpoint, "Scan", { TableName: tableName, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) })) as { Items?: Array<Record<string, unknown>>; LastEvaluatedKey?: unknown };
      for (const item of page.Items ?? []) items.set(JSON.stringify(item[keyAttribute]), item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { tableName, keyAttribute, items };
  }

  /**
   * Until called again with undefined, answers every GetItem on the snapshot's table that does not ask for
   * `ConsistentRead: true` from the snapshot (a replica that stopped catching up), as DynamoDB may; consistent
   * reads, queries and writes go to the table.
   */
  serveStaleReads(snapshot: TableSnapshot | undefined): void {
    this.staleSnapshot = snapshot;
  }

  /** The stale answer to a GetItem, or undefined when it must be answered by the table. */
  private staleGetItem(operation: string, body: string): { Item?: Record<string, unknown> } | undefined {
    if (operation !== "GetItem" || !this.staleSnapshot) return undefined;
    const request = JSON.parse(body) as { TableName?: string; Key?: Record<string, unknown>; ConsistentRead?: boolean };
    if (request.TableName !== this.staleSnapshot.tableName || request.ConsistentRead === true) return undefined;
    this.staleReadsServed++;
    const item = this.staleSnapshot.items.get(JSON.stringify(request.Key?.[this.staleSnapshot.keyAttribute]));
    return item ? { Item: item } : {};
  }

  /** Queues faults for the next calls of `operation`. */
  injectFaults(operation: string, ...faults: Fault[]): void {
    this.faults.set(operation, [...(this.faults.get(operation) ?? []), ...faults]);
  }

  /** Whether a crash fault stopped this invocation (and forgets it). */
  crashed(invocation: string): boolean {
    return this.crashedInvocations.delete(invocation);
  }

  callCount(operation: string): number {
    return this.calls.get(operation) ?? 0;
  }

  /** Registers an execution; `onStop` runs when StopExecution is called for it. */
  startExecution(executionArn: string, input: unknown, onStop?: () => void): void {
    this.executions.set(executionArn, { status: "RUNNING", events: [], onStop, input: JSON.stringify(input) ?? "null", startDate: Date.now() / 1000 });
    this.recordEvent(executionArn, { type: "ExecutionStarted", executionStartedEventDetails: { input: JSON.stringify(input) } });
  }

  recordEvent(executionArn: string, event: StandInHistoryEvent): void {
    const execution = this.executions.get(executionArn);
    if (!execution) return;
    execution.events.push({ ...event, id: this.nextEventId++, timestamp: Date.now() / 1000 });
  }

  endExecution(executionArn: string, status: Exclude<StandInExecution["status"], "RUNNING">, details: Record<string, unknown> = {}, result: ExecutionResult = {}): void {
    const execution = this.executions.get(executionArn);
    if (!execution || execution.status !== "RUNNING") return;
    execution.status = status;
    execution.stopDate = Date.now() / 1000;
    execution.result = result;
    const type = { SUCCEEDED: "ExecutionSucceeded", FAILED: "ExecutionFailed", ABORTED: "ExecutionAborted", TIMED_OUT: "ExecutionTimedOut" }[status];
    this.recordEvent(executionArn, { type, ...details });
  }

  executionStatus(executionArn: string): StandInExecution["status"] | undefined {
    return this.executions.get(executionArn)?.status;
  }

  /** What the execution's history holds, oldest first (what a read-only principal can read). */
  historyOf(executionArn: string): StandInHistoryEvent[] {
    return [...(this.executions.get(executionArn)?.events ?? [])];
  }

  /** Called before the request function runs: resolves with the output that SendTaskSuccess delivers. */
  waitForTaskToken(taskToken: string, executionArn?: string, parameters?: unknown): Promise<string> {
    if (this.closed) return Promise.reject(Object.assign(new Error("The local stack was closed."), { name: "LocalStackClosed" }));
    // As in AWS, a finished task is never waiting again, and a stopped execution schedules nothing.
    if (this.tasks.get(taskToken)?.state === "finished") return Promise.reject(Object.assign(new Error("The task is over."), { name: "TaskFinished" }));
    if (executionArn && this.executionStatus(executionArn) !== undefined && this.executionStatus(executionArn) !== "RUNNING") {
      return Promise.reject(Object.assign(new Error("The execution is not running."), { name: "ExecutionNotRunning" }));
    }
    if (executionArn) {
      // As in AWS, the scheduled task's parameters (the token among them) are in the history.
      this.recordEvent(executionArn, { type: "TaskScheduled", taskScheduledEventDetails: { resourceType: "lambda", resource: "invoke.waitForTaskToken", parameters: JSON.stringify(parameters ?? { Payload: { taskToken } }) } });
    }
    return new Promise((resolve, reject) => this.tasks.set(taskToken, { state: "waiting", executionArn, resolve, reject }));
  }

  /** The task ended (timed out, failed, execution over): later callbacks get TaskTimedOut, as in AWS. */
  finishTask(taskToken: string, reason: "timedOut" | "over" = "over"): void {
    const task = this.tasks.get(taskToken);
    // Settle whoever still waits (an aborted or timed-out execution), or its timers live on.
    if (task?.state === "waiting") {
      task.reject(Object.assign(new Error("The task is over."), { name: "TaskFinished" }));
      if (reason === "timedOut" && task.executionArn) this.recordEvent(task.executionArn, { type: "TaskTimedOut", taskTimedOutEventDetails: { resourceType: "lambda", resource: "invoke.waitForTaskToken", error: "States.Timeout" } });
    }
    this.tasks.set(taskToken, { state: "finished", executionArn: task?.executionArn });
  }

  /** Resolves with the first email, present or future, that matches. */
  nextEmail(matches: (email: PublishedEmail) => boolean): Promise<PublishedEmail> {
    const existing = this.emails.find(matches);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const listener = (email: PublishedEmail) => {
        if (!matches(email)) return;
        this.events.off("email", listener);
        resolve(email);
      };
      this.events.on("email", listener);
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    const target = request.headers["x-amz-target"];
    const form = new URLSearchParams(body);
    const operation = typeof target === "string" ? target.replace(/^(AWSStepFunctions|TrentService|secretsmanager|DynamoDB_20120810)\./, "") : form.get("Action") ?? "unknown";
    this.calls.set(operation, this.callCount(operation) + 1);
    const position = this.callLog.push(operation) - 1;
    const under = (this.inFlight.get(operation) ?? 0) + 1;
    this.inFlight.set(operation, under);
    this.peakInFlight.set(operation, Math.max(under, this.peakInFlight.get(operation) ?? 0));
    // A call is under way until its answer is written: the caller can start its next call as soon as the answer
    // arrives, which may be before this response's "close" is processed on a busy machine.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight.set(operation, (this.inFlight.get(operation) ?? 1) - 1);
    };
    response.once("close", release);
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.end = ((...args: unknown[]) => (release(), end(...args))) as ServerResponse["end"];

    const invocation = request.headers[INVOCATION_HEADER];
    if (typeof invocation === "string" && this.crashedInvocations.has(invocation)) {
      // A dead function makes no more calls: nothing of this one is applied.
      return sendJson(response, 400, { __type: "FunctionCrashed", message: "The calling function crashed (an injected fault)." });
    }
    const fault = this.faultsAtCall.get(position) ?? this.faults.get(operation)?.shift();
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (fault === "throttle") {
      // Each protocol has its own error shape: JSON for Step Functions and KMS, XML for SNS (AWS Query).
      if (typeof target === "string") return sendJson(response, 400, { __type: "ThrottlingException", message: "Rate exceeded" });
      return void response.writeHead(400, { "Content-Type": "text/xml" }).end(`<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
    }
    if (fault === "hang") {
      this.hungSockets.add(request.socket);
      request.socket.once("close", () => this.hungSockets.delete(request.socket));
      return; // never answer
    }
    const answer = async () => {
      const stale = typeof target === "string" && target.startsWith("DynamoDB_20120810.") ? this.staleGetItem(operation, body) : undefined;
      if (stale) return sendJson(response, 200, stale);
      if (typeof target === "string" && target.startsWith("DynamoDB_20120810.") && this.dynamoDbEndpoint) return this.forwardToDynamoDb(request, body, response);
      if (typeof target === "string" && target.startsWith("AWSStepFunctions.")) return this.stepFunctions(operation, body, response);
      if (typeof target === "string" && target.startsWith("TrentService.")) return this.kms(operation, body, response);
      if (typeof target === "string" && target.startsWith("secretsmanager.")) return this.secretsManager(operation, body, response);
      if (operation === "Publish") return this.publish(form, response);
      sendJson(response, 400, { __type: "UnknownOperationException", message: `The local stand-in does not implement ${operation}.` });
    };
    if (fault === "crash" && typeof invocation === "string") this.crashedInvocations.add(invocation);
    if (fault === "applyThenDropReply" || fault === "crash") {
      // Apply the call into a throwaway response, then cut the connection: the caller never hears back.
      const swallowed = { writeHead: () => swallowed, end: () => swallowed } as unknown as ServerResponse;
      const real = response;
      response = swallowed;
      await answer();
      real.socket?.destroy();
      return;
    }
    await answer();
  }

  /** DynamoDB is dynalite's: the call is passed on as it came, and its answer back (once it is applied). */
  private forwardToDynamoDb(request: IncomingMessage, body: string, response: ServerResponse): Promise<void> {
    const target = new URL(this.dynamoDbEndpoint!);
    return new Promise<void>((resolve, reject) => {
      const headers = { ...request.headers, host: target.host, "content-length": String(Buffer.byteLength(body)) };
      const forwarded = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          response.writeHead(answer.statusCode ?? 500, { "Content-Type": String(answer.headers["content-type"] ?? "application/x-amz-json-1.0") }).end(Buffer.concat(chunks));
          resolve();
        });
        answer.on("error", reject);
      });
      forwarded.on("error", reject);
      forwarded.end(body);
    });
  }

  private publish(form: URLSearchParams, response: ServerResponse) {
    const attribute = messageAttribute(form, "approver");
    const recipients = attribute === undefined ? [] : attribute.type === "String.Array" ? (JSON.parse(attribute.value) as string[]) : [attribute.value];
    const email: PublishedEmail = { topicArn: form.get("TopicArn") ?? "", subject: form.get("Subject") ?? "", message: form.get("Message") ?? "", messageId: randomUUID(), recipients };
    this.emails.push(email);
    this.events.emit("email", email);
    response.writeHead(200, { "Content-Type": "text/xml" }).end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${email.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }

  private secretsManager(operation: string, body: string, response: ServerResponse) {
    const contentType = "application/x-amz-json-1.1";
    if (operation !== "GetSecretValue") return sendJson(response, 400, { __type: "InvalidRequestException", message: `The local stand-in does not implement ${operation}.` }, contentType);
    const { SecretId } = JSON.parse(body) as { SecretId?: string };
    const value = SecretId === undefined ? undefined : this.secrets.get(SecretId);
    if (value === undefined) return sendJson(response, 400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }, contentType);
    sendJson(response, 200, { ARN: SecretId, Name: SecretId!.split(":").pop(), SecretString: value, VersionId: "local", VersionStages: ["AWSCURRENT"], CreatedDate: Date.now() / 1000 }, contentType);
  }

  private kms(operation: string, body: string, response: ServerResponse) {
    const contentType = "application/x-amz-json-1.1";
    if (operation !== "GenerateMac") return sendJson(response, 400, { __type: "UnsupportedOperationException", message: `The local stand-in does not implement ${operation}.` }, contentType);
    const { KeyId, Message, MacAlgorithm } = JSON.parse(body) as { KeyId?: string; Message?: string; MacAlgorithm?: string };
    if (MacAlgorithm !== "HMAC_SHA_256") return sendJson(response, 400, { __type: "InvalidKeyUsageException", message: "The local key is HMAC_256." }, contentType);
    const mac = createHmac("sha256", this.macKey).update(Buffer.from(Message ?? "", "base64")).digest("base64");
    sendJson(response, 200, { KeyId, MacAlgorithm, Mac: mac }, contentType);
  }

  private stepFunctions(operation: string, body: string, response: ServerResponse) {
    const request = JSON.parse(body) as Record<string, unknown>;
    switch (operation) {
      case "SendTaskSuccess":
        return this.sendTaskSuccess(String(request.taskToken ?? ""), String(request.output ?? "{}"), response);
      case "GetExecutionHistory": {
        const execution = this.executions.get(String(request.executionArn));
        if (!execution) return sendJson(response, 400, { __type: "ExecutionDoesNotExist", message: "Execution does not exist." });
        const events = request.reverseOrder ? [...execution.events].reverse() : execution.events;
        return sendJson(response, 200, { events });
      }
      case "DescribeExecution": {
        const execution = this.executions.get(String(request.executionArn));
        if (!execution) return sendJson(response, 400, { __type: "ExecutionDoesNotExist", message: "Execution does not exist." });
        const executionArn = String(request.executionArn);
        return sendJson(response, 200, {
          executionArn,
          stateMachineArn: executionArn.replace(":execution:", ":stateMachine:").replace(/:[^:]+$/, ""),
          name: executionArn.split(":").pop(),
          status: execution.status,
          startDate: execution.events[0]?.timestamp,
          input: execution.input,
          ...(execution.stopDate === undefined ? {} : { stopDate: execution.stopDate }),
          ...execution.result,
        });
      }
      case "StartExecution": {
        if (!this.onStartExecution) return sendJson(response, 400, { __type: "UnknownOperationException", message: "The local stand-in runs no executions by itself." });
        let input: unknown;
        try {
          input = JSON.parse(typeof request.input === "string" ? request.input : "{}");
        } catch {
          return sendJson(response, 400, { __type: "InvalidExecutionInput", message: "Invalid State Machine Execution Input: the input is not JSON." });
        }
        try {
          const started = this.onStartExecution({ stateMachineArn: String(request.stateMachineArn ?? ""), input, name: typeof request.name === "string" ? request.name : undefined });
          return sendJson(response, 200, { executionArn: started.executionArn, startDate: Date.now() / 1000 });
        } catch (error) {
          return sendJson(response, 400, { __type: (error as Error).name, message: (error as Error).message });
        }
      }
      case "StopExecution": {
        const execution = this.executions.get(String(request.executionArn));
        if (!execution) return sendJson(response, 400, { __type: "ExecutionDoesNotExist", message: "Execution does not exist." });
        if (execution.status === "RUNNING") {
          for (const [token, task] of this.tasks) if (task.executionArn === request.executionArn) this.finishTask(token);
          const stop = { error: typeof request.error === "string" ? request.error : undefined, cause: typeof request.cause === "string" ? request.cause : undefined };
          this.endExecution(String(request.executionArn), "ABORTED", { executionAbortedEventDetails: { error: request.error, cause: request.cause } }, stop);
          execution.onStop?.();
        }
        return sendJson(response, 200, { stopDate: Date.now() / 1000 });
      }
      default:
        return sendJson(response, 400, { __type: "UnknownOperationException", message: `The local stand-in does not implement ${operation}.` });
    }
  }

  private sendTaskSuccess(taskToken: string, output: string, response: ServerResponse) {
    const task = taskToken ? this.tasks.get(taskToken) : undefined;
    if (!task) return sendJson(response, 400, { __type: "TaskDoesNotExist", message: "Task does not exist." });
    if (task.state === "finished") return sendJson(response, 400, { __type: "TaskTimedOut", message: "Provided task does not exist anymore" });
    this.tasks.set(taskToken, { state: "finished", executionArn: task.executionArn });
    if (task.executionArn) this.recordEvent(task.executionArn, { type: "TaskSucceeded", taskSucceededEventDetails: { resourceType: "lambda", resource: "invoke.waitForTaskToken", output } });
    task.resolve(output);
    sendJson(response, 200, {});
  }
}
