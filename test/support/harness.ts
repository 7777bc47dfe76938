/**
 * Both handlers wired exactly as in Lambda (dependenciesFromEnvironment: real
 * DynamoDB adapter, real SNS and SFN clients), with DynamoDB served by dynalite
 * on 127.0.0.1, SNS and Step Functions answered by aws-sdk-client-mock, and a
 * clock the test controls.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { randomBytes } from "node:crypto";
import { handleDecisionEvent } from "../../functions/decision/decision";
import { dependenciesFromEnvironment as decisionDependencies } from "../../functions/decision/index";
import type { HttpResponse } from "../../functions/decision/decision";
import type { Transport } from "../../functions/decision/httpEvent";
import { parseRequestApprovalPayload } from "../../functions/requestApproval/payload";
import { requestApproval } from "../../functions/requestApproval/requestApproval";
import { dependenciesFromEnvironment as requestDependencies } from "../../functions/requestApproval/index";
import { createLogger } from "../../functions/shared/logger";
import { startLocalDynamoDb, type LocalDynamoDb } from "../../local/dynamoDb";
import { useFakeAwsCredentials } from "./aws";
import { EVENT_BUILDERS, type HttpCall } from "./events";

export const CALLBACK_URL = "https://approvals.example.com";
export const APPROVAL_TIMEOUT_SECONDS = 3600;

export interface Harness {
  db: LocalDynamoDb;
  env: Record<string, string>;
  sns: AwsClientStub<SNSClient>;
  sfn: AwsClientStub<SFNClient>;
  clock: { now: Date; advanceSeconds(seconds: number): void };
  logLines: string[];
  /** Runs request-approval for a new task; returns the token, the request id and the review path. */
  requestApproval(input?: unknown, taskToken?: string): Promise<{ taskToken: string; requestId: string; path: string }>;
  /** Sends one HTTP call through the decision handler, shaped as the transport delivers it. */
  call(transport: Transport, call: HttpCall): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** A token shaped like Step Functions' (long, base64-ish), unique per call. */
export function fakeTaskToken(): string {
  return "AQCEAAAAKgAAAAMAAAAA" + randomBytes(400).toString("base64");
}

export async function startHarness(): Promise<Harness> {
  useFakeAwsCredentials();
  const db = await startLocalDynamoDb();
  const tableName = `approvals-${randomBytes(4).toString("hex")}`;
  await db.createApprovalsTable(tableName);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = db.endpoint;

  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).resolves({ MessageId: "message-1" });
  const sfn = mockClient(SFNClient);
  sfn.on(SendTaskSuccessCommand).resolves({});

  const env = {
    TABLE_NAME: tableName,
    TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:approvals",
    CALLBACK_URL,
    APPROVAL_TIMEOUT_SECONDS: String(APPROVAL_TIMEOUT_SECONDS),
    AUDIT_RETENTION_DAYS: "90",
  };
  const logLines: string[] = [];
  const clock = {
    now: new Date(),
    advanceSeconds(seconds: number) {
      clock.now = new Date(clock.now.getTime() + seconds * 1000);
    },
  };
  const logger = (service: string) => createLogger({ service, write: (line) => logLines.push(line), now: () => clock.now });
  const requesting = { ...requestDependencies(env), now: () => clock.now, logger: logger("request-approval") };
  const deciding = { ...decisionDependencies(env), now: () => clock.now, logger: logger("decision") };

  return {
    db,
    env,
    sns,
    sfn,
    clock,
    logLines,
    async requestApproval(input = { title: "Deploy release 42", details: { version: "42" } }, taskToken = fakeTaskToken()) {
      const payload = parseRequestApprovalPayload({
        taskToken,
        execution: { id: "arn:aws:states:eu-west-1:123456789012:execution:release:run-1", name: "run-1" },
        stateMachine: { name: "release" },
        input,
      });
      const { requestId } = await requestApproval(requesting, payload);
      return { taskToken, requestId, path: `/requests/${requestId}` };
    },
    call: (transport, call) => handleDecisionEvent(deciding, EVENT_BUILDERS[transport](call)),
    async close() {
      sns.restore();
      sfn.restore();
      delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      await db.close();
    },
  };
}
