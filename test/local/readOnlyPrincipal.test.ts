/**
 * A read-only insider (ReadOnlyAccess, ViewOnlyAccess, the Step Functions console) reads everything
 * such access yields: every attribute of every table item, the execution's whole history (the task
 * token in TaskScheduled, the request function's return value in TaskSubmitted, the decision output
 * in TaskSucceeded), both functions' environment, every log line the handlers wrote. DESIGN.md's
 * security model: none of that may yield a working link. This plays that insider against the whole
 * local flow on each transport: it derives every candidate link id it can think of and shows that
 * none opens a review page, while each approver's emailed link does.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { DynamoDBClient, ScanCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import type { Transport } from "../../functions/decision/httpEvent";
import { isLinkId } from "../../functions/shared/approvalRequest";
import { linkMessage } from "../../functions/shared/links";
import type { StandInHistoryEvent } from "../../local/awsStandIn";
import { localAwsEnvironment } from "../../local/environment";
import { startLocalApprovals, type ApprovalEmail, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";
import { synthesizeFunctions, type SynthesizedProgram } from "../support/synthesized";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";
const APPROVERS = [ALICE, BOB];
const APPROVAL_TIMEOUT_SECONDS = 3600;
const LINK_LIKE = /[A-Za-z0-9_-]{32}/;
const LINK_LIKE_RUNS = /[A-Za-z0-9_-]{32,}/g;

/** Everything read-only access yields, by where it was read. */
interface Collected {
  /** Named texts: each is searched for link-like strings. */
  texts: Array<{ source: string; text: string }>;
  taskToken: string;
  requestRef: string;
  /** Table item keys, exactly as stored. */
  itemKeys: string[];
  environment: Record<string, string>;
}

/**
 * What `lambda:GetFunctionConfiguration` shows: both functions' environment variables exactly as the component
 * declares them (synthesized under Pulumi mocks with this test's stack settings), the values this local stack
 * really runs with for the same variables (its table, topic and callback URL), and the process-wide AWS_*
 * variables the local runner sets.
 */
function functionEnvironments(program: SynthesizedProgram, local: LocalApprovals, topicArn: string): Record<string, string> {
  const aws = Object.fromEntries(Object.keys(localAwsEnvironment({ dynamoDb: "", standIn: "" })).map((name) => [name, process.env[name] ?? ""]));
  const localValues: Record<string, string> = { TABLE_NAME: local.tableName, TOPIC_ARN: topicArn, CALLBACK_URL: local.callbackUrl };
  const deployed = (role: string, variables: Record<string, string>) =>
    Object.entries(variables).flatMap(([name, value]) => [[`${role}:${name}`, value], ...(name in localValues ? [[`${role}:${name} (local)`, localValues[name]]] : [])]);
  return {
    ...Object.fromEntries(Object.entries(aws).map(([name, value]) => [`process:${name}`, value])),
    ...Object.fromEntries(deployed("request-approval", program.requestApproval.environment)),
    ...Object.fromEntries(deployed("decision", program.decision.environment)),
  };
}

/** Every string inside a JSON value, nested JSON text parsed too (history details hold JSON in strings). */
function stringsIn(value: unknown, into: string[] = []): string[] {
  if (value instanceof Uint8Array) {
    // A binary attribute: whatever it encodes, in the forms a link id could take.
    into.push(Buffer.from(value).toString("base64url"), Buffer.from(value).toString("hex"), Buffer.from(value).toString("utf8"));
  } else if (typeof value === "string") {
    into.push(value);
    if (/^[[{"]/.test(value)) {
      try {
        stringsIn(JSON.parse(value), into);
      } catch {
        // not JSON: the string itself is enough
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) stringsIn(item, into);
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      into.push(key);
      stringsIn(item, into);
    }
  } else if (value !== undefined && value !== null) {
    into.push(String(value));
  }
  return into;
}

function taskTokenIn(history: StandInHistoryEvent[]): string {
  const scheduled = history.find((event) => event.type === "TaskScheduled");
  assert.ok(scheduled, "the history shows the scheduled task");
  const parameters = JSON.parse((scheduled.taskScheduledEventDetails as { parameters: string }).parameters) as { Payload: { taskToken: string } };
  assert.ok(parameters.Payload.taskToken.length > 100, "the token is in the history, as in AWS");
  return parameters.Payload.taskToken;
}

async function collect(program: SynthesizedProgram, local: LocalApprovals, execution: LocalExecution, logLines: readonly string[], topicArn: string, extras: Record<string, unknown> = {}): Promise<Collected> {
  const texts: Collected["texts"] = [];
  const add = (source: string, value: unknown) => {
    texts.push({ source, text: typeof value === "string" ? value : JSON.stringify(value) });
    for (const text of stringsIn(value)) texts.push({ source, text });
  };

  // DynamoDB: every attribute of every item, raw and unmarshalled (dynamodb:Scan is read-only).
  const client = new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const rawItems: Array<Record<string, AttributeValue>> = [];
  try {
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: local.tableName, ExclusiveStartKey: exclusiveStartKey }));
      rawItems.push(...(page.Items ?? []));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  } finally {
    client.destroy();
  }
  assert.ok(rawItems.length >= 3, "the request and both approvers' link items are in the table");
  add("table", rawItems);

  // Step Functions: the whole execution history, with execution data.
  const history = local.standIn.historyOf(execution.executionArn);
  assert.ok(history.some((event) => event.type === "TaskSubmitted"), "the request function's return value is in the history");
  add("execution history", history);
  const taskToken = taskTokenIn(history);
  add("task token", taskToken);

  // Lambda configuration and CloudWatch Logs.
  const environment = functionEnvironments(program, local, topicArn);
  add("function environments", environment);
  assert.ok(logLines.length > 0, "the handlers logged");
  for (const line of logLines) add("handler logs", line);
  for (const [source, value] of Object.entries(extras)) add(source, value);

  const request = rawItems.find((item) => item.taskToken?.S !== undefined && item.executionArn?.S === execution.executionArn);
  assert.ok(request?.id?.S, "the request item is readable");
  return { texts, taskToken, requestRef: request.id.S, itemKeys: rawItems.map((item) => item.id?.S ?? ""), environment };
}

const digest = (algorithm: string, data: string | Uint8Array) => createHash(algorithm).update(data).digest();

/** Every link id a read-only insider could try, from what they read and what the source code tells them. */
function candidateLinkIds(collected: Collected): Set<string> {
  const candidates = new Set<string>();
  const addWindows = (text: string) => {
    for (const run of text.match(LINK_LIKE_RUNS) ?? []) for (let start = 0; start + 32 <= run.length; start++) candidates.add(run.slice(start, start + 32));
  };
  for (const { text } of collected.texts) {
    addWindows(text);
    // The same bytes in standard base64, or percent-encoded, would be a link id too.
    addWindows(text.replace(/\+/g, "-").replace(/\//g, "_"));
    try {
      addWindows(decodeURIComponent(text));
    } catch {
      // not percent-encoded
    }
    // A MAC stored in hex: as a link id it would be the base64url of those bytes.
    for (const hex of text.match(/[0-9a-fA-F]{48,}/g) ?? []) addWindows(Buffer.from(hex.slice(0, hex.length - (hex.length % 2)), "hex").toString("base64url"));
  }

  // Keys, as stored and with the link prefix stripped; the request's reference.
  for (const key of collected.itemKeys) {
    candidates.add(key);
    const stripped = key.replace(/^link#/, "");
    candidates.add(stripped);
    candidates.add(stripped.slice(0, 32));
  }
  candidates.add(collected.requestRef);

  // Hashes of everything an insider knows: the token (the old scheme: sha256(token), first 24 bytes,
  // base64url), the execution, and the link scheme's own message, which the source code documents.
  const executionStrings = collected.texts.filter(({ source }) => source === "execution history").map(({ text }) => text).filter((text) => text.startsWith("arn:aws:states:"));
  const seeds: Array<string | Uint8Array> = [collected.taskToken, collected.requestRef, ...executionStrings, ...collected.itemKeys];
  for (const approver of APPROVERS) {
    seeds.push(linkMessage(collected.requestRef, approver));
    seeds.push(`human-approval link v1\n${collected.requestRef}\n${approver}`);
    seeds.push(`${collected.taskToken}\n${approver}`, `${collected.taskToken}${approver}`, `${collected.requestRef}\n${approver}`, `${collected.requestRef}${approver}`);
    for (const arn of executionStrings) seeds.push(`${arn}\n${approver}`);
  }
  for (const seed of seeds) {
    for (const algorithm of ["sha256", "sha512", "sha1", "md5"]) {
      const bytes = digest(algorithm, seed);
      candidates.add(bytes.toString("base64url").slice(0, 32));
      candidates.add(bytes.subarray(0, 24).toString("base64url"));
      candidates.add(bytes.toString("hex").slice(0, 32));
      candidates.add(bytes.toString("base64").slice(0, 32).replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return candidates;
}

/** GETs every candidate's review page, a few at a time; returns those that did not answer 404. */
async function openingCandidates(callbackUrl: string, candidates: Iterable<string>): Promise<Array<{ candidate: string; status: number }>> {
  const queue = [...candidates];
  const opened: Array<{ candidate: string; status: number }> = [];
  const worker = async () => {
    for (let candidate = queue.pop(); candidate !== undefined; candidate = queue.pop()) {
      const response = await fetch(`${callbackUrl}/requests/${encodeURIComponent(candidate)}`);
      await response.arrayBuffer();
      if (response.status !== 404) opened.push({ candidate, status: response.status });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return opened;
}

const linkIdOf = (email: ApprovalEmail) => email.reviewUrl.slice(email.reviewUrl.lastIndexOf("/") + 1);

for (const transport of ["functionUrl", "httpApi", "restApi"] as Transport[]) {
  describe(`a read-only principal over ${transport}`, function () {
    this.timeout(120_000);
    let local: LocalApprovals;
    let program: SynthesizedProgram;
    /** Both functions' bundled code, as `lambda:GetFunction` lets a read-only principal download it. */
    let archives: string[];
    const logLines: string[] = [];

    before(async () => {
      program = await synthesizeFunctions({ transport, approverEmails: APPROVERS, requiredApprovals: 2, approvalTimeoutMinutes: APPROVAL_TIMEOUT_SECONDS / 60 });
      const variables = { ...program.requestApproval.environment, ...program.decision.environment };
      for (const name of ["TABLE_NAME", "TOPIC_ARN", "LINK_KEY_ID", "APPROVER_EMAILS", "CALLBACK_URL"]) assert.ok(variables[name], `the synthesized functions declare ${name}`);
      assert.equal(variables.APPROVER_EMAILS, APPROVERS.join(","), "synthesized with this test's approvers");
      archives = [await program.requestApproval.code(), await program.decision.code()];
      local = await startLocalApprovals({
        transport,
        approvalTimeoutSeconds: APPROVAL_TIMEOUT_SECONDS,
        approverEmails: APPROVERS,
        requiredApprovals: 2,
        handlerLog: (line) => logLines.push(line),
      });
    });
    after(async () => local?.close());

    async function emailedLinks(execution: LocalExecution): Promise<ApprovalEmail[]> {
      const emails = await execution.emails;
      assert.deepEqual(emails.map((email) => email.approver).sort(), APPROVERS, "each approver got their own email");
      for (const email of emails) assert.ok(isLinkId(linkIdOf(email)), `a link id of 32 URL-safe characters: ${email.reviewUrl}`);
      assert.notEqual(linkIdOf(emails[0]), linkIdOf(emails[1]), "each approver has their own link");
      return emails;
    }

    /** The insider reads everything, tries every candidate; the emailed links open, nothing else does. */
    async function assertNothingReadableOpensALink(execution: LocalExecution, emails: ApprovalEmail[], moment: string, extras: Record<string, unknown> = {}) {
      const collected = await collect(program, local, execution, [...logLines], emails[0].topicArn, extras);
      for (const email of emails) {
        const linkId = linkIdOf(email);
        const forms = [linkId, Buffer.from(linkId, "base64url").toString("hex"), Buffer.from(linkId, "base64url").toString("base64")];
        for (const { source, text } of [...collected.texts, ...archives.map((text) => ({ source: "the functions' code", text }))]) {
          for (const form of forms) assert.ok(!text.includes(form), `${moment}: ${email.approver}'s link id appears in ${source}`);
        }
      }
      for (const [name, value] of Object.entries(collected.environment)) assert.doesNotMatch(value, LINK_LIKE, `${moment}: environment variable ${name} holds a link-like value`);

      const candidates = candidateLinkIds(collected);
      assert.ok(candidates.size > 100, `${moment}: the insider has plenty to try (${candidates.size})`);
      const linesBeforeProbing = logLines.length;
      const opened = await openingCandidates(local.callbackUrl, candidates);
      // The probes' own "not found" log lines are the insider's noise, not material: drop them (only them).
      const duringProbing = logLines.splice(linesBeforeProbing);
      logLines.push(...duringProbing.filter((line) => !line.includes('"outcome":"notFound"')));
      assert.deepEqual(opened, [], `${moment}: no candidate derived from read-only material opens a review page`);
      for (const email of emails) {
        const page = await fetch(email.reviewUrl);
        assert.equal(page.status, 200, `${moment}: ${email.approver}'s emailed link opens the review page`);
        assert.match((await page.text()).replace(/<(?!\/?(dt|dd)>)[^>]+>/g, ""), new RegExp(`<dd>${email.approver.replace(/\./g, "\\.")}</dd>`), "the page names the link's approver");
      }
    }

    it("finds no working link once a request has been emailed to two approvers", async () => {
      const execution = local.startExecution({ title: "Rotate the signing key", details: { keyId: "k-123" }, requestedBy: "carol@example.com" });
      const emails = await emailedLinks(execution);
      await assertNothingReadableOpensALink(execution, emails, "after the emails");
    });

    it("finds no working link after one approver voted, nor after the request settled", async () => {
      const execution = local.startExecution({ title: "Open the firewall", details: { port: 443 } });
      const emails = await emailedLinks(execution);
      const byApprover = Object.fromEntries(emails.map((email) => [email.approver, email.reviewUrl]));
      const approve = (url: string, comment: string) =>
        fetch(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "insider-test" }, body: new URLSearchParams({ decision: "approve", comment }).toString() });

      const first = await approve(byApprover[ALICE], "fine by me");
      assert.equal(first.status, 200);
      await assertNothingReadableOpensALink(execution, emails, "after one vote");

      const second = await approve(byApprover[BOB], "me too");
      assert.equal(second.status, 200);
      const outcome = await execution.outcome;
      assert.equal(outcome.status, "SUCCEEDED");
      assert.ok(local.standIn.historyOf(execution.executionArn).some((event) => event.type === "TaskSucceeded"), "the decision output is in the history");
      await assertNothingReadableOpensALink(execution, emails, "after it settled", { "execution output": outcome.output });
    });
  });
}
