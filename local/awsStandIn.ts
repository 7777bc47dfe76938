/**
 * A stand-in for the two AWS calls DynamoDB cannot cover locally: SNS Publish
 * (AWS Query protocol) and Step Functions SendTaskSuccess (AWS JSON 1.0). It
 * listens on 127.0.0.1 and speaks their wire formats, so the handlers' real SDK
 * clients reach it through AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_SFN.
 */
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface PublishedEmail {
  topicArn: string;
  subject: string;
  message: string;
  messageId: string;
}

type WaitingTask = { state: "waiting"; resolve(output: string): void; reject(error: Error): void } | { state: "finished" };

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown) {
  response.writeHead(statusCode, { "Content-Type": "application/x-amz-json-1.0" }).end(JSON.stringify(body));
}

export class AwsStandIn {
  readonly emails: PublishedEmail[] = [];
  private readonly events = new EventEmitter();
  private readonly tasks = new Map<string, WaitingTask>();
  private server?: Server;
  private closed = false;

  /** Starts listening; returns the endpoint URL for both services. */
  async listen(): Promise<string> {
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: Error) => sendJson(response, 500, { __type: "InternalFailure", message: error.message }));
    });
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
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Called before the request function runs: resolves with the output that SendTaskSuccess delivers. */
  waitForTaskToken(taskToken: string): Promise<string> {
    if (this.closed) return Promise.reject(Object.assign(new Error("The local stack was closed."), { name: "LocalStackClosed" }));
    return new Promise((resolve, reject) => this.tasks.set(taskToken, { state: "waiting", resolve, reject }));
  }

  /** The task ended (timed out, failed, execution over): later callbacks get TaskTimedOut, as in AWS. */
  finishTask(taskToken: string): void {
    const task = this.tasks.get(taskToken);
    // Settle whoever still waits (an aborted or timed-out execution), or its timers live on.
    if (task?.state === "waiting") task.reject(Object.assign(new Error("The task is over."), { name: "TaskFinished" }));
    this.tasks.set(taskToken, { state: "finished" });
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
    if (typeof target === "string" && target.startsWith("AWSStepFunctions.")) return this.stepFunctions(target.slice("AWSStepFunctions.".length), body, response);
    const form = new URLSearchParams(body);
    if (form.get("Action") === "Publish") return this.publish(form, response);
    sendJson(response, 400, { __type: "UnknownOperationException", message: `The local stand-in does not implement ${target ?? form.get("Action") ?? "this call"}.` });
  }

  private publish(form: URLSearchParams, response: ServerResponse) {
    const email: PublishedEmail = { topicArn: form.get("TopicArn") ?? "", subject: form.get("Subject") ?? "", message: form.get("Message") ?? "", messageId: randomUUID() };
    this.emails.push(email);
    this.events.emit("email", email);
    response.writeHead(200, { "Content-Type": "text/xml" }).end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${email.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }

  private stepFunctions(operation: string, body: string, response: ServerResponse) {
    if (operation !== "SendTaskSuccess") return sendJson(response, 400, { __type: "UnknownOperationException", message: `The local stand-in does not implement ${operation}.` });
    const { taskToken, output } = JSON.parse(body) as { taskToken?: string; output?: string };
    const task = taskToken ? this.tasks.get(taskToken) : undefined;
    if (!task) return sendJson(response, 400, { __type: "TaskDoesNotExist", message: "Task does not exist." });
    if (task.state === "finished") return sendJson(response, 400, { __type: "TaskTimedOut", message: "Provided task does not exist anymore" });
    this.tasks.set(taskToken!, { state: "finished" });
    task.resolve(output ?? "{}");
    sendJson(response, 200, {});
  }
}
