import { strict as assert } from "node:assert";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { dependenciesFromEnvironment } from "../../functions/requestApproval/index";
import { requestApproval } from "../../functions/requestApproval/requestApproval";
import { isLinkId, linkKey, REQUEST_REF_PATTERN, requestRefFor } from "../../functions/shared/approvalRequest";
import { formPost, jsonPost } from "../support/events";
import type { PublishedEmail } from "../../local/awsStandIn";
import { APPROVER, AUDIT_RETENTION_DAYS, CALLBACK_URL, executionArnOf, fakeTaskToken, headingOf, jsonOf, linkPathIn, startHarness, uniqueExecutionName, type Harness } from "../support/harness";

const linkIdOf = (path: string) => path.slice("/requests/".length);

describe("request-approval handler (dynalite + AWS stand-in)", () => {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());
  afterEach(() => {
    harness.standIn.faults.clear();
    harness.configure({ approverEmails: [APPROVER], requiredApprovals: 1, allowSelfApproval: false });
  });

  it("stores a pending request and emails the approver their own short link, addressed by the approver attribute", async () => {
    const approval = await harness.requestApproval({ title: "Rotate keys", description: "Quarterly rotation" });
    assert.match(approval.requestRef, REQUEST_REF_PATTERN);
    assert.equal(approval.requestRef, requestRefFor(approval.executionArn));
    assert.deepEqual(approval.result, { requestRef: approval.requestRef, emailsSent: 1 }, "the return value (execution history) holds no link");

    const item = await harness.stored(approval.requestRef);
    assert.equal(item.status, "PENDING");
    assert.equal(item.taskToken, approval.taskToken);
    assert.equal(item.title, "Rotate keys");
    assert.equal(item.executionName, approval.executionName);
    assert.equal(item.executionArn, approval.executionArn);
    assert.deepEqual(item.approvers, [APPROVER]);
    assert.equal(item.requiredApprovals, 1);
    assert.deepEqual(item.votes, []);
    assert.deepEqual(item.notified, [APPROVER]);
    assert.equal(item.ttl, Math.floor(Date.parse(item.expiresAt) / 1000) + AUDIT_RETENTION_DAYS * 86_400);

    assert.equal(approval.emails.length, 1);
    const [email] = approval.emails;
    assert.equal(email.topicArn, harness.env.TOPIC_ARN);
    assert.equal(email.subject, "Approval needed: Rotate keys");
    assert.deepEqual(email.recipients, [APPROVER]);
    assert.ok(email.message.includes(`${CALLBACK_URL}${approval.path}\n`));
    assert.match(email.message, /Quarterly rotation/);
    assert.ok(isLinkId(linkIdOf(approval.path)));
    for (const link of email.message.match(/https:\/\/\S+/g) ?? []) assert.ok(link.length < 200, link);

    // The table keeps only the link's hash, pointing at the request and its approver.
    const items = await harness.items();
    const linkItem = items.find((candidate) => candidate.id === linkKey(linkIdOf(approval.path)));
    assert.deepEqual(linkItem, { id: linkKey(linkIdOf(approval.path)), requestRef: approval.requestRef, approver: APPROVER, ttl: item.ttl });
    assert.ok(!JSON.stringify(items).includes(linkIdOf(approval.path)), "no item holds a link id");
  });

  it("is idempotent: a retried invocation makes no second item, email or link", async () => {
    const first = await harness.requestApproval({ title: "Once" });
    const items = (await harness.items()).length;
    const second = await harness.requestApproval({ title: "Once" }, { retryOf: first });
    assert.equal(second.requestRef, first.requestRef);
    assert.equal(second.result.emailsSent, 0);
    assert.deepEqual(second.emails, []);
    assert.deepEqual(second.links, first.links);
    assert.equal((await harness.items()).length, items);
  });

  it("writes a link item once: a retry, which stores links beside the request, never rewrites one", async () => {
    const first = await harness.requestApproval({ title: "Links once" });
    const key = linkKey(linkIdOf(first.path));
    const documents = DynamoDBDocumentClient.from(harness.db.client);
    // Marks the stored link: a rewrite by the retry would put the request's ttl back.
    await documents.send(new UpdateCommand({ TableName: harness.env.TABLE_NAME, Key: { id: key }, UpdateExpression: "SET #ttl = :marked", ExpressionAttributeNames: { "#ttl": "ttl" }, ExpressionAttributeValues: { ":marked": 1 } }));
    const second = await harness.requestApproval({ title: "Links once" }, { retryOf: first });
    assert.deepEqual(second.links, first.links);
    const linkItem = await documents.send(new GetCommand({ TableName: harness.env.TABLE_NAME, Key: { id: key }, ConsistentRead: true }));
    assert.equal(linkItem.Item?.ttl, 1);
  });

  it("on retry emails only the approvers the failed attempt did not reach, with the same links", async () => {
    const [ann, bob] = ["ann@example.com", "bob@example.com"];
    harness.configure({ approverEmails: [ann, bob] });
    const executionName = uniqueExecutionName("partly-sent");
    const ofThisExecution = (email: PublishedEmail) => email.message.includes(`Execution:  ${executionName}\n`);
    // Once ann's email is out, SNS throttles every attempt at bob's.
    void harness.standIn.nextEmail(ofThisExecution).then(() => harness.standIn.injectFaults("Publish", "throttle", "throttle", "throttle"));
    const firstToken = fakeTaskToken();
    await assert.rejects(harness.requestApproval({ title: "Partly sent" }, { executionName, taskToken: firstToken }));
    const sent = harness.standIn.emails.filter(ofThisExecution);
    assert.deepEqual(sent.map((email) => email.recipients), [[ann]]);
    const annLink = linkPathIn(sent[0]);
    const requestRef = requestRefFor(executionArnOf(executionName));
    assert.deepEqual((await harness.stored(requestRef)).notified, [ann]);

    // The state machine retries the task: same execution, and Step Functions gives the new attempt a new token.
    harness.standIn.faults.clear();
    harness.standIn.finishTask(firstToken);
    const retryToken = fakeTaskToken();
    const retried = await harness.requestApproval({ title: "Partly sent" }, { executionName, taskToken: retryToken });
    assert.equal(retried.requestRef, requestRef);
    assert.equal(retried.result.emailsSent, 1);
    assert.deepEqual(retried.emails.map((email) => email.recipients), [[bob]]);
    assert.equal(retried.links[ann], annLink, "ann keeps the link she already has");
    assert.ok(retried.links[bob] && retried.links[bob] !== annLink);
    const item = await harness.stored(requestRef);
    assert.deepEqual(item.notified, [ann, bob]);
    assert.equal(item.taskToken, retryToken, "only the newest attempt's token can be answered");

    // A second retry of that invocation (same token) emails nobody and keeps both links.
    const again = await harness.requestApproval({ title: "Partly sent" }, { retryOf: retried });
    assert.equal(again.result.emailsSent, 0);
    assert.deepEqual(again.links, retried.links);

    // The decision reaches the retried task.
    const response = await harness.call("functionUrl", jsonPost(retried.links[bob], { decision: "approve" }));
    assert.equal(response.statusCode, 200);
    assert.equal((await retried.received).decidedBy, bob);
  });

  it("sends the email on retry when the first attempt stored the request but could not publish", async () => {
    const executionName = uniqueExecutionName("unpublished");
    // The request function tries each SNS publish three times (written out: a change to its budget fails here).
    harness.standIn.injectFaults("Publish", "throttle", "throttle", "throttle");
    const published = harness.counter("Publish");
    await assert.rejects(harness.requestApproval({ title: "Retry me" }, { executionName }));
    assert.equal(published(), 3, "SNS was asked three times and refused each");
    const requestRef = requestRefFor(executionArnOf(executionName));
    const stored = await harness.stored(requestRef);
    assert.equal(stored.status, "PENDING");
    assert.deepEqual(stored.notified, [], "nobody is marked emailed");

    harness.standIn.faults.clear();
    const retried = await harness.requestApproval({ title: "Retry me" }, { executionName, taskToken: stored.taskToken });
    assert.equal(retried.emails.length, 1);
    assert.deepEqual((await harness.stored(requestRef)).notified, [APPROVER]);
    assert.equal((await harness.call("restApi", { method: "GET", path: retried.path })).statusCode, 200);
  });

  it("never emails a decided or expired request again on retry", async () => {
    const decided = await harness.requestApproval({ title: "Decided" });
    await harness.call("httpApi", formPost(decided.path, { decision: "approve" }));
    const afterDecision = await harness.requestApproval({ title: "Decided" }, { retryOf: decided });
    assert.equal(afterDecision.result.emailsSent, 0);
    assert.deepEqual(afterDecision.emails, []);
    assert.equal((await harness.stored(decided.requestRef)).status, "APPROVED");

    const expired = await harness.requestApproval({ title: "Expired" });
    await harness.timeOut(expired);
    const afterExpiry = await harness.requestApproval({ title: "Expired" }, { retryOf: expired });
    assert.equal(afterExpiry.result.emailsSent, 0);
    assert.deepEqual(afterExpiry.emails, []);
  });

  it("on the timeout path closes the request and tells each asked approver once, with no link", async () => {
    const approval = await harness.requestApproval({ title: "Too slow" });
    const published = harness.counter("Publish");
    const result = await harness.timeOut(approval);
    assert.deepEqual(result, { requestRef: approval.requestRef, status: "EXPIRED" });
    assert.equal((await harness.stored(approval.requestRef)).status, "EXPIRED");
    assert.equal(published(), 1);
    const notice = harness.standIn.emails.at(-1)!;
    assert.deepEqual(notice.recipients, [APPROVER]);
    assert.match(notice.subject, /^Expired: Too slow/);
    assert.equal(linkPathIn(notice), undefined);
    assert.match(notice.message, /no longer decides anything/);

    assert.deepEqual(await harness.timeOut(approval), { requestRef: approval.requestRef, status: "EXPIRED" });
    assert.equal(published(), 1, "a repeated timeout path sends no second notice");
    const view = await harness.call("functionUrl", { method: "GET", path: approval.path, headers: { Accept: "application/json" } });
    assert.equal(view.statusCode, 410);
    assert.equal(jsonOf(view).status, "expired");
  });

  it("accepts any JSON input (object, array, string, number, null) and delivers a decision for it", async () => {
    for (const input of [["a", "b"], "just text", 42, null, { nested: { deep: [1, 2] } }]) {
      const approval = await harness.requestApproval(input);
      assert.equal(approval.emails.length, 1, JSON.stringify(input));
      const page = await harness.call("restApi", { method: "GET", path: approval.path });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<p class="kicker">Approval needed<\/p>/);
      assert.equal(headingOf(page), "Approval requested by release", "without a title, the heading names the workflow");
      const decided = await harness.call("restApi", formPost(approval.path, { decision: "reject" }));
      assert.equal(decided.statusCode, 200, JSON.stringify(input));
      assert.equal((await approval.received).decision, "rejected");
    }
  });

  it("throws DynamoDB errors so the state machine's Retry takes over, before any email", async () => {
    const published = harness.counter("Publish");
    const deps = dependenciesFromEnvironment({ ...harness.env, TABLE_NAME: "no-such-table" });
    await assert.rejects(
      requestApproval(deps, { kind: "request", taskToken: fakeTaskToken(), execution: { id: "arn:aws:states:eu-west-1:1:execution:s:e", name: "e" }, stateMachine: { name: "s" }, input: {} }),
      (error: Error) => error.name === "ResourceNotFoundException",
    );
    assert.equal(published(), 0);
  });

  it("never fails on oversized input: the email and the item stay small", async () => {
    const approval = await harness.requestApproval({ blob: "x".repeat(300_000), nested: Array.from({ length: 5000 }, (_, i) => ({ i })) });
    const message = approval.emails[0].message;
    assert.ok(message.length < 16_000, `email is ${message.length} characters`);
    assert.match(message, /more characters not shown/);
    assert.ok(JSON.stringify(await harness.stored(approval.requestRef)).length < 16_000);
  });

  it("fails at cold start with a clear error when configuration is missing or wrong", () => {
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, TOPIC_ARN: "" }), /TOPIC_ARN is not set/);
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, LINK_KEY_ID: "" }), /LINK_KEY_ID is not set/);
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, APPROVAL_TIMEOUT_SECONDS: "soon" }), /APPROVAL_TIMEOUT_SECONDS is "soon": it must be a whole number/);
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, REQUIRED_APPROVALS: "0" }), /REQUIRED_APPROVALS is "0"/);
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, APPROVER_EMAILS: "ann@example.com,not-an-address" }), /APPROVER_EMAILS .*bad entry: not-an-address/);
    assert.throws(() => dependenciesFromEnvironment({ ...harness.env, CALLBACK_URL: "http://approvals.example.com" }), /CALLBACK_URL .* must be an https URL/);
    assert.doesNotThrow(() => dependenciesFromEnvironment({ ...harness.env, CALLBACK_URL: "http://127.0.0.1:3000" }));
  });
});
