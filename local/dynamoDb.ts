/** DynamoDB for the local mode and the tests: dynalite in this process, reached over HTTP on 127.0.0.1. */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { AddressInfo } from "node:net";
import { refuseForeignRequests } from "./gateway";
import { APPROVALS_TABLE_KEY, STATUS_INDEX, STATUS_INDEX_ATTRIBUTES } from "../functions/shared/approvalRequest";

// dynalite ships no type declarations.
const dynalite: (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => import("node:http").Server = require("dynalite");

export interface LocalDynamoDb {
  endpoint: string;
  client: DynamoDBClient;
  createApprovalsTable(tableName: string): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  refuseForeignRequests(server, "The local DynamoDB");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  return {
    endpoint,
    client,
    async createApprovalsTable(tableName: string) {
      // Same key and status index as the deployed table (components/humanApprovalWorkflow.ts); TTL is not emulated by dynalite.
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [
            { AttributeName: APPROVALS_TABLE_KEY, AttributeType: "S" },
            { AttributeName: STATUS_INDEX.hashKey, AttributeType: "S" },
            { AttributeName: STATUS_INDEX.rangeKey, AttributeType: "S" },
          ],
          KeySchema: [{ AttributeName: APPROVALS_TABLE_KEY, KeyType: "HASH" }],
          GlobalSecondaryIndexes: [
            {
              IndexName: STATUS_INDEX.name,
              KeySchema: [
                { AttributeName: STATUS_INDEX.hashKey, KeyType: "HASH" },
                { AttributeName: STATUS_INDEX.rangeKey, KeyType: "RANGE" },
              ],
              Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: STATUS_INDEX_ATTRIBUTES },
            },
          ],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
