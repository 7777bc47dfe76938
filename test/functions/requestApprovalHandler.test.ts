import { strict as assert } from "node:assert";
import { PublishCommand } from "@aws-sdk/client-sns";
import { GetCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { isRequestId } from "../../functions/shared/approvalRequest";
import { CALLBACK_URL, fakeTaskToken, startHarness, type Harness } from "../support/harness";

describe("request-approval handler (dynalite + mocked SNS)", () => {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());
  beforeEach(() => {
    harness.sns.reset();
    harness.sns.on(PublishCommand).resolves({ MessageId: "m" });
  });

  const stored = async (id: string) =>
    (await DynamoDBDocumentClient.from(harness.db.client).send(new GetCommand({ TableName: harness.env.TABLE_NAME, Key: { id } }))).Item;
  const emails = () => harness.sns.commandCalls(PublishCommand).map((call) => call.args[0].input);

  it("stores a pending request and emails one short review link to the topic", async () => {
    const { requestId, taskToken } = await harness.requestApproval({ title: "Rotate keys", description: "Quarterly rotation" });
    assert.ok(isRequestId(requestId));
    const item = await stored(requestId);
    assert.equal(item?.status, "PENDING");
    assert.equal(item?.taskToken, taskToken);
    assert.equal(item?.title, "Rotate keys");
    assert.equal(item?.executionName, "run-1");
    assert.ok(item?.notifiedAt);
    assert.equal(item?.ttl, Math.floor(Date.parse(item!.expiresAt) / 1000) + 90 * 86_400);

    assert.equal(emails().length, 1);
    const email = emails()[0];
    assert.equal(email.TopicArn, harness.env.TOPIC_ARN);
    assert.equal(email.Subject, "Approval needed: Rotate keys");
    assert.ok(email.Message!.includes(`${CALLBACK_URL}/requests/${requestId}\n`));
    assert.match(email.Message!, /Quarterly rotation/);
  });

  it("is idempotent: a retried invocation for the same token makes no second item or email", async () => {
    const token = fakeTaskToken();
    const first = await harness.requestApproval({ title: "Once" }, token);
    const second = await harness.requestApproval({ title: "Once" }, token);
    assert.equal(second.requestId, first.requestId);
    assert.equal(emails().length, 1);
  });

  it("sends the email on retry when the first attempt failed to publish, with the same link", async () => {
    const token = fakeTaskToken();
    harness.sns.on(PublishCommand).rejectsOnce(Object.assign(new Error("SNS down"), { name: "InternalErrorException" })).resolves({ MessageId: "m" });
    await assert.rejects(harness.requestApproval({ title: "Retry me" }, token), /SNS down/);
    const { requestId } = await harness.requestApproval({ title: "Retry me" }, token);
    assert.equal(emails().length, 2, "one failed attempt, one delivered");
    assert.ok(emails()[1].Message!.includes(`/requests/${requestId}`));
    assert.ok((await stored(requestId))?.notifiedAt);
  });

  it("throws DynamoDB errors so the state machine's Retry takes over", async () => {
    const { dependenciesFromEnvironment } = await import("../../functions/requestApproval/index");
    const { requestApproval } = await import("../../functions/requestApproval/requestApproval");
    const deps = dependenciesFromEnvironment({ ...harness.env, TABLE_NAME: "no-such-table" });
    await assert.rejects(
      requestApproval(deps, { taskToken: fakeTaskToken(), execution: { id: "e", name: "n" }, stateMachine: { name: "s" }, input: {} }),
      (error: Error) => error.name === "ResourceNotFoundException",
    );
    assert.equal(emails().length, 0);
  });

  it("never fails on oversized input: the email and the item stay small", async () => {
    const { requestId } = await harness.requestApproval({ blob: "x".repeat(300_000), nested: Array.from({ length: 5000 }, (_, i) => ({ i })) });
    const message = emails()[0].Message!;
    assert.ok(message.length < 10_000, `email is ${message.length} characters`);
    assert.match(message, /truncated/);
    assert.ok(JSON.stringify(await stored(requestId)).length < 12_000);
  });

  it("fails at cold start with a clear error when configuration is missing or wrong", async () => {
    const { dependenciesFromEnvironment } = await import("../../functions/requestApproval/index");
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, TOPIC_ARN: "" }), /TOPIC_ARN is not set/);
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, APPROVAL_TIMEOUT_SECONDS: "soon" }), /APPROVAL_TIMEOUT_SECONDS is "soon": it must be a whole number/);
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, CALLBACK_URL: "http://approvals.example.com" }), /CALLBACK_URL .* must be an https URL/);
    assert.doesNotThrow(() => dependenciesFromEnvironment({ ...harness.env, CALLBACK_URL: "http://127.0.0.1:3000" }));
  });
});
