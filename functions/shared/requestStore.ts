import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { linkKey, STATUS_INDEX, type ApprovalLink, type ApprovalRequest, type RequestStatus } from "./approvalRequest";

/**
 * The table of approval requests and links. Every change to a request is conditioned on the version
 * it read, so two votes, two containers or a retry can never both win: the loser reads again.
 */
export interface RequestStore {
  /** Stores a new request; if one with the same id exists, returns it unchanged. */
  createIfAbsent(request: ApprovalRequest): Promise<{ created: true } | { created: false; existing: ApprovalRequest }>;
  /** Stores the link item (idempotent: the same link always hashes to the same key). */
  putLink(link: ApprovalLink): Promise<void>;
  /** Looks a link up by the link id the person presented; only its hash is ever stored. */
  findLink(linkId: string): Promise<ApprovalLink | undefined>;
  get(requestRef: string): Promise<ApprovalRequest | undefined>;
  /** Replaces the request if it still has `expectedVersion`; false when someone else wrote first. */
  save(request: ApprovalRequest, expectedVersion: number): Promise<boolean>;
  /** Records that `address` was emailed (so a retry does not email again). */
  markNotified(requestRef: string, address: string): Promise<void>;
  /** A retried task attempt has a new token; the old one can no longer be answered. */
  replaceTaskToken(requestRef: string, taskToken: string): Promise<void>;
  /** Requests with a status, newest first, from the status index (no scan). */
  listByStatus(status: RequestStatus, limit: number): Promise<ApprovalRequest[]>;
}

export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === "ConditionalCheckFailedException";
}

export class DynamoDbRequestStore implements RequestStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly tableName: string, client: DynamoDBClient = new DynamoDBClient({})) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async createIfAbsent(request: ApprovalRequest) {
    try {
      await this.documents.send(new PutCommand({ TableName: this.tableName, Item: request, ConditionExpression: "attribute_not_exists(id)" }));
      return { created: true as const };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.get(request.id);
      if (!existing) throw error; // deleted in between: let the caller's retry start over
      return { created: false as const, existing };
    }
  }

  async putLink(link: ApprovalLink) {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: link }));
  }

  async findLink(linkId: string) {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id: linkKey(linkId) }, ConsistentRead: true }));
    return result.Item as ApprovalLink | undefined;
  }

  async get(requestRef: string) {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id: requestRef }, ConsistentRead: true }));
    const item = result.Item as ApprovalRequest | undefined;
    return item && typeof item.version === "number" ? item : undefined;
  }

  async save(request: ApprovalRequest, expectedVersion: number) {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: request,
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":expected": expectedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markNotified(requestRef: string, address: string) {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: requestRef },
          UpdateExpression: "SET notified = list_append(notified, :address), #version = #version + :one",
          ConditionExpression: "attribute_exists(id) AND NOT contains(notified, :name)",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":address": [address], ":name": address, ":one": 1 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // already marked: nothing to do
    }
  }

  async replaceTaskToken(requestRef: string, taskToken: string) {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: requestRef },
        UpdateExpression: "SET taskToken = :token, #version = #version + :one",
        ConditionExpression: "attribute_exists(id)",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":token": taskToken, ":one": 1 },
      }),
    );
  }

  async listByStatus(status: RequestStatus, limit: number) {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: STATUS_INDEX.name,
        KeyConditionExpression: "#status = :status",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": status },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (result.Items ?? []) as ApprovalRequest[];
  }
}
