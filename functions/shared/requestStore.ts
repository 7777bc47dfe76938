import { marshall, unmarshall, type NativeAttributeValue } from "@aws-sdk/util-dynamodb";
import { randomUUID } from "node:crypto";
import { awsApi, DYNAMODB, type AwsApi } from "./awsApi";
import { DYNAMODB_BUDGET } from "./awsClients";
import { linkKey, STATUS_INDEX, type ApprovalLink, type ApprovalRequest, type RequestStatus, type SlackMessageRecord } from "./approvalRequest";

/**
 * The table of approval requests and links. Every change to a request is conditioned on the version
 * it read, so two votes, two containers or a retry can never both win: the loser reads again.
 */
export interface RequestStore {
  /** Stores a new request; if one with the same id exists, returns it unchanged. */
  createIfAbsent(request: ApprovalRequest): Promise<{ created: true } | { created: false; existing: ApprovalRequest }>;
  /** Stores the link item once: the same link always hashes to the same key, and a stored link is never rewritten. */
  putLink(link: ApprovalLink): Promise<void>;
  /** Looks a link up by the link id the person presented; only its hash is ever stored. */
  findLink(linkId: string): Promise<ApprovalLink | undefined>;
  get(requestRef: string): Promise<ApprovalRequest | undefined>;
  /**
   * Replaces the request if it still has `expectedVersion`; false when someone else wrote first. A write
   * whose reply was lost (and whose retry then failed its own condition) counts as written: each write
   * carries a random `writeId`, and the item is read back to see whose write it holds.
   */
  save(request: ApprovalRequest, expectedVersion: number): Promise<boolean>;
  /** Records that `address` was emailed (so a retry does not email again). */
  markNotified(requestRef: string, address: string): Promise<void>;
  /** Like markNotified, but says whether this call was the first to mark it: a message that must go at most once (Slack) goes only after a true. */
  claimNotified(requestRef: string, key: string): Promise<boolean>;
  /** Records an approver's Slack direct message (or why there is none). */
  recordSlackMessage(requestRef: string, record: SlackMessageRecord): Promise<void>;
  /** A retried task attempt has a new token; the old one can no longer be answered. */
  replaceTaskToken(requestRef: string, taskToken: string): Promise<void>;
  /** Requests with a status, newest first, from the status index (no scan). */
  listByStatus(status: RequestStatus, limit: number): Promise<ApprovalRequest[]>;
}

export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === "ConditionalCheckFailedException";
}

/** A failure after which the write may or may not have been applied: no answer (a timeout, a dropped connection) or a 5xx. */
function isAmbiguous(error: unknown): boolean {
  const failure = error as { $fault?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return failure?.code !== undefined || failure?.$fault === "server" || (failure?.$metadata?.httpStatusCode ?? 0) >= 500;
}

type Item = Record<string, NativeAttributeValue>;
/** Plain values to DynamoDB's typed JSON, as lib-dynamodb would (undefined attributes left out). */
const toAttributes = (item: object) => marshall(item, { removeUndefinedValues: true });

export class DynamoDbRequestStore implements RequestStore {
  constructor(private readonly tableName: string, private readonly dynamoDb: AwsApi = awsApi(DYNAMODB, DYNAMODB_BUDGET)) {}

  private async getItem(id: string): Promise<Item | undefined> {
    const result = await this.dynamoDb.json<{ Item?: Parameters<typeof unmarshall>[0] }>("GetItem", { TableName: this.tableName, Key: toAttributes({ id }), ConsistentRead: true });
    return result.Item ? unmarshall(result.Item) : undefined;
  }

  private async putItem(item: object, condition?: { ConditionExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item }) {
    const { ExpressionAttributeValues, ...expression } = condition ?? {};
    await this.dynamoDb.json("PutItem", { TableName: this.tableName, Item: toAttributes(item), ...expression, ...(ExpressionAttributeValues ? { ExpressionAttributeValues: toAttributes(ExpressionAttributeValues) } : {}) });
  }

  private async updateItem(id: string, update: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Item }) {
    await this.dynamoDb.json("UpdateItem", { TableName: this.tableName, Key: toAttributes({ id }), ...update, ExpressionAttributeValues: toAttributes(update.ExpressionAttributeValues) });
  }

  async createIfAbsent(request: ApprovalRequest) {
    try {
      await this.putItem({ ...request, writeId: randomUUID() }, { ConditionExpression: "attribute_not_exists(id)" });
      return { created: true as const };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Stored before, by an earlier attempt or by this one (a reply lost): the same request either way.
      const existing = await this.get(request.id);
      if (!existing) throw error; // deleted in between: let the caller's retry start over
      return { created: false as const, existing };
    }
  }

  async putLink(link: ApprovalLink) {
    try {
      await this.putItem(link, { ConditionExpression: "attribute_not_exists(id)" });
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // stored by an earlier attempt: nothing to do
    }
  }

  async findLink(linkId: string) {
    return (await this.getItem(linkKey(linkId))) as ApprovalLink | undefined;
  }

  async get(requestRef: string) {
    const item = (await this.getItem(requestRef)) as ApprovalRequest | undefined;
    return item && typeof item.version === "number" ? item : undefined;
  }

  async save(request: ApprovalRequest, expectedVersion: number) {
    const writeId = randomUUID();
    try {
      await this.putItem({ ...request, writeId }, {
        ConditionExpression: "#version = :expected",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":expected": expectedVersion },
      });
      return true;
    } catch (error) {
      // Lost to another writer, or a reply lost after the write was applied (the retry then failed our own
      // condition, or every attempt timed out): only the item can tell. Two identical writes (a double click in
      // the same millisecond) still differ here, by their write ids.
      if (!isConditionFailure(error) && !isAmbiguous(error)) throw error;
      const stored = await this.getItem(request.id).catch(() => undefined);
      if (stored?.writeId === writeId) return true;
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markNotified(requestRef: string, address: string) {
    await this.claimNotified(requestRef, address);
  }

  async claimNotified(requestRef: string, address: string) {
    try {
      await this.updateItem(requestRef, {
        UpdateExpression: "SET notified = list_append(notified, :address), #version = #version + :one",
        ConditionExpression: "attribute_exists(id) AND NOT contains(notified, :name)",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":address": [address], ":name": address, ":one": 1 },
      });
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // already marked: nothing to do
      return false;
    }
  }

  async recordSlackMessage(requestRef: string, record: SlackMessageRecord) {
    // The version moves on, so a lifecycle write that read the item before this one reads it again (and keeps it).
    await this.updateItem(requestRef, {
      UpdateExpression: "SET slackMessages = list_append(if_not_exists(slackMessages, :none), :record), #version = #version + :one",
      ConditionExpression: "attribute_exists(id)",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":record": [record], ":none": [], ":one": 1 },
    });
  }

  async replaceTaskToken(requestRef: string, taskToken: string) {
    await this.updateItem(requestRef, {
      UpdateExpression: "SET taskToken = :token, #version = #version + :one",
      ConditionExpression: "attribute_exists(id)",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":token": taskToken, ":one": 1 },
    });
  }

  async listByStatus(status: RequestStatus, limit: number) {
    const result = await this.query({
      IndexName: STATUS_INDEX.name,
      KeyConditionExpression: "#status = :status",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":status": status },
      ScanIndexForward: false,
      Limit: limit,
    });
    return result.items as ApprovalRequest[];
  }

  /** One page of a query on this table, items and resume key as plain values. */
  async query(input: { IndexName?: string; KeyConditionExpression: string; FilterExpression?: string; ProjectionExpression?: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Item; ScanIndexForward?: boolean; Limit?: number; ExclusiveStartKey?: Item }) {
    const { ExpressionAttributeValues, ExclusiveStartKey, ...rest } = input;
    const result = await this.dynamoDb.json<{ Items?: Parameters<typeof unmarshall>[0][]; LastEvaluatedKey?: Parameters<typeof unmarshall>[0] }>("Query", {
      TableName: this.tableName,
      ...rest,
      ExpressionAttributeValues: toAttributes(ExpressionAttributeValues),
      ...(ExclusiveStartKey ? { ExclusiveStartKey: toAttributes(ExclusiveStartKey) } : {}),
    });
    return { items: (result.Items ?? []).map((item) => unmarshall(item)), lastEvaluatedKey: result.LastEvaluatedKey ? unmarshall(result.LastEvaluatedKey) : undefined };
  }
}
