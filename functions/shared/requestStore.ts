import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ApprovalRequest, Decision } from "./approvalRequest";

/** What the decision records when a person claims a pending request. */
export interface DecisionRecord {
  decision: Decision;
  decidedAt: string;
  comment: string;
  sourceIp?: string;
  userAgent?: string;
}

export type ClaimResult = { claimed: true } | { claimed: false; current: ApprovalRequest | undefined };

/**
 * The table of approval requests. Every state change is a conditional write,
 * so two clicks, two containers or a retry can never both win.
 */
export interface RequestStore {
  /** Stores a new request; if one with the same id exists, returns it unchanged. */
  createIfAbsent(request: ApprovalRequest): Promise<{ created: true } | { created: false; existing: ApprovalRequest }>;
  markNotified(id: string, notifiedAt: string): Promise<void>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** PENDING and not expired at `now` -> APPROVED/REJECTED, atomically. */
  claim(id: string, record: DecisionRecord, now: Date): Promise<ClaimResult>;
  /** Undoes our own claim (matched by decidedAt) after a transient failure, so the person can retry. */
  releaseClaim(id: string, decidedAt: string): Promise<void>;
  /** Marks a request that can no longer be decided; `onlyIf` names the status it must still have. */
  close(id: string, status: "EXPIRED" | "CLOSED", reason: string, onlyIf: { status: ApprovalRequest["status"]; decidedAt?: string }): Promise<void>;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === "ConditionalCheckFailedException";
}

export class DynamoDbRequestStore implements RequestStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(private readonly tableName: string, client: DynamoDBClient = new DynamoDBClient({})) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async createIfAbsent(request: ApprovalRequest) {
    try {
      await this.documents.send(
        new PutCommand({ TableName: this.tableName, Item: request, ConditionExpression: "attribute_not_exists(id)" }),
      );
      return { created: true as const };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.get(request.id);
      if (!existing) throw error; // deleted in between: let the caller's retry start over
      return { created: false as const, existing };
    }
  }

  async markNotified(id: string, notifiedAt: string) {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id },
        UpdateExpression: "SET notifiedAt = :notifiedAt",
        ConditionExpression: "attribute_exists(id)",
        ExpressionAttributeValues: { ":notifiedAt": notifiedAt },
      }),
    );
  }

  async get(id: string) {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return result.Item as ApprovalRequest | undefined;
  }

  async claim(id: string, record: DecisionRecord, now: Date): Promise<ClaimResult> {
    const values: Record<string, unknown> = {
      ":pending": "PENDING",
      ":now": now.toISOString(),
      ":status": record.decision === "approved" ? "APPROVED" : "REJECTED",
      ":decision": record.decision,
      ":decidedAt": record.decidedAt,
      ":comment": record.comment,
    };
    const sets = ["#status = :status", "decision = :decision", "decidedAt = :decidedAt", "#comment = :comment"];
    if (record.sourceIp) (values[":sourceIp"] = record.sourceIp), sets.push("sourceIp = :sourceIp");
    if (record.userAgent) (values[":userAgent"] = record.userAgent), sets.push("userAgent = :userAgent");
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "#status = :pending AND expiresAt > :now",
          ExpressionAttributeNames: { "#status": "status", "#comment": "comment" },
          ExpressionAttributeValues: values,
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { claimed: false, current: await this.get(id) };
    }
  }

  async releaseClaim(id: string, decidedAt: string) {
    await this.ignoringConditionFailure(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id },
        UpdateExpression: "SET #status = :pending REMOVE decision, decidedAt, #comment, sourceIp, userAgent",
        ConditionExpression: "decidedAt = :decidedAt",
        ExpressionAttributeNames: { "#status": "status", "#comment": "comment" },
        ExpressionAttributeValues: { ":pending": "PENDING", ":decidedAt": decidedAt },
      }),
    );
  }

  async close(id: string, status: "EXPIRED" | "CLOSED", reason: string, onlyIf: { status: ApprovalRequest["status"]; decidedAt?: string }) {
    const values: Record<string, unknown> = { ":status": status, ":reason": reason, ":expected": onlyIf.status };
    let condition = "#status = :expected";
    if (onlyIf.decidedAt) (values[":decidedAt"] = onlyIf.decidedAt), (condition += " AND decidedAt = :decidedAt");
    await this.ignoringConditionFailure(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id },
        UpdateExpression: "SET #status = :status, closedReason = :reason",
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Someone else changed the item first: their write stands, ours is moot. */
  private async ignoringConditionFailure(command: UpdateCommand) {
    try {
      await this.documents.send(command);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
