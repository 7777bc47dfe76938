import { strict as assert } from "node:assert";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { inspect } from "node:util";
import { AwsApiError, awsApi, DYNAMODB, KMS, resolveEndpoint, SECRETS_MANAGER, SNS, STEP_FUNCTIONS, type AwsService, type Timer } from "../../functions/shared/awsApi";
import type { CallBudget } from "../../functions/shared/awsClients";

/**
 * The functions' own AWS client (functions/shared/awsApi.ts) against fake AWS endpoints: small
 * `node:http` servers on 127.0.0.1 that record what they were sent and answer as scripted. The
 * servers check Signature V4 with their own implementation (below, from the AWS documentation), so
 * a signing mistake fails here rather than in the first deployed call.
 *
 * Nothing here waits for time to pass: the tests wait for the servers to see requests or
 * connections, and the timeout tests decide themselves when a timeout passes (manual timers).
 */

const ACCESS_KEY_ID = "AKIDEXAMPLE";
// Random per run, so that "never in an error" cannot pass by chance on a fixed string.
const SECRET_ACCESS_KEY = `secret-${randomBytes(18).toString("base64url")}`;
const SESSION_TOKEN = `session-${randomBytes(24).toString("base64url")}`;
const REGION = "eu-west-1";

/** Timers that never fire in these tests, however loaded the machine: only `maxAttempts` matters. */
const patient = (maxAttempts: number): CallBudget => ({ connectionTimeout: 20_000, requestTimeout: 20_000, maxAttempts });
/** A request timeout the test fires by hand (manualTimers), told apart from the connection timeout by its length. */
const REQUEST_TIMEOUT_MS = 2_000;
const impatient = (maxAttempts: number): CallBudget => ({ connectionTimeout: 20_000, requestTimeout: REQUEST_TIMEOUT_MS, maxAttempts });

/** Timers that fire only when the test says so: a timeout passes at a point the test chose, never by the machine's speed. */
function manualTimers() {
  const pending = new Set<{ ms: number; fire(): void }>();
  const created: Array<() => void> = [];
  const timer: Timer = (fire, ms) => {
    const entry = { ms, fire };
    pending.add(entry);
    for (const notify of created.splice(0)) notify();
    return { cancel: () => void pending.delete(entry) };
  };
  /** Waits until a timer matching `which` is pending, then fires it. */
  const fire = async (which: (ms: number) => boolean) => {
    for (;;) {
      const entry = [...pending].find((candidate) => which(candidate.ms));
      if (entry) {
        pending.delete(entry);
        return entry.fire();
      }
      await new Promise<void>((resolve) => created.push(resolve));
    }
  };
  return {
    timer,
    /** The pending request timeout passes (after the endpoint saw the attempt: `seen` requests so far). */
    requestTimeout: () => fire((ms) => ms === REQUEST_TIMEOUT_MS),
    /** The backoff before the next attempt passes (the only short timer). */
    backoff: () => fire((ms) => ms < 1_000),
    pendingRequestTimeouts: () => [...pending].filter((entry) => entry.ms === REQUEST_TIMEOUT_MS).length,
  };
}

/**
 * `timedOut` attempts each reach the endpoint (its request is seen), then their request timeout passes; after
 * each, the backoff before the next attempt passes. Fails at once, saying so, if the call ends earlier.
 */
async function timeOutEveryAttempt(endpoint: FakeEndpoint, timers: ReturnType<typeof manualTimers>, timedOut: number, call: Promise<unknown>, retriedAfterLast = false) {
  const ended = call.then(() => "answered", (error: Error) => `failed with ${error.name}`);
  const unlessEnded = (step: Promise<void>, what: string) => Promise.race([step, ended.then((how) => Promise.reject(new Error(`the call ${how} before ${what}`)))]);
  for (let attempt = 1; attempt <= timedOut; attempt++) {
    await unlessEnded(endpoint.until((e) => e.seen.length >= attempt), `attempt ${attempt} reached the endpoint`);
    await timers.requestTimeout();
    if (attempt < timedOut || retriedAfterLast) await unlessEnded(timers.backoff(), `a retry after attempt ${attempt}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fake endpoints

interface Seen {
  /** 0 for the first request this endpoint saw. */
  index: number;
  /** 1 for the first connection this endpoint accepted (keep-alive: one connection may carry several requests). */
  connection: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Reply = (response: http.ServerResponse, seen: Seen) => void;

class FakeEndpoint {
  readonly seen: Seen[] = [];
  connections = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly server: http.Server, readonly url: string) {}

  /** A server answering its n-th request with `replies[n]` (the last reply repeats), or every request with `reply`. */
  static async start(replies: Reply | Reply[]): Promise<FakeEndpoint> {
    const server = http.createServer();
    // Idle keep-alive connections stay open until the test closes them: no server-side timer races a retry.
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = new FakeEndpoint(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const ordinals = new WeakMap<Socket, number>();
    server.on("connection", (socket: Socket) => {
      ordinals.set(socket, ++endpoint.connections);
      endpoint.changed();
    });
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const seen: Seen = { index: endpoint.seen.length, connection: ordinals.get(request.socket) ?? 0, method: request.method ?? "", url: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks) };
        endpoint.seen.push(seen);
        const reply = typeof replies === "function" ? replies : replies[Math.min(seen.index, replies.length - 1)];
        reply(response, seen);
        endpoint.changed();
      });
    });
    ENDPOINTS.push(endpoint);
    return endpoint;
  }

  /** Resolves once `condition` holds (checked now and whenever the endpoint sees something). */
  until(condition: (endpoint: FakeEndpoint) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!condition(this)) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  private changed() {
    for (const check of [...this.waiters]) check();
  }

  /** Ends every connection, the hung ones included (the clients' sockets close with them). */
  dropConnections() {
    this.server.closeAllConnections();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

const ENDPOINTS: FakeEndpoint[] = [];

const json =
  (statusCode: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (response) => {
    response.writeHead(statusCode, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "fake-request-id", ...headers });
    response.end(typeof body === "string" ? body : JSON.stringify(body));
  };
const xml =
  (statusCode: number, body: string): Reply =>
  (response) => {
    response.writeHead(statusCode, { "content-type": "text/xml", "x-amzn-requestid": "fake-request-id" });
    response.end(body);
  };
const html =
  (statusCode: number, body: string): Reply =>
  (response) => {
    response.writeHead(statusCode, { "content-type": "text/html" });
    response.end(body);
  };
/** The server reads the whole request, then destroys the connection without a word. */
const dropConnection: Reply = (response) => response.socket?.destroy();
/** The server starts the answer, then destroys the connection in the middle of the body. */
const dropMidAnswer: Reply = (response) => {
  response.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": "100" });
  response.write('{"Item":', () => response.socket?.destroy());
};
/** The server accepts the request and never answers (the test's cleanup ends the connection). */
const neverAnswer: Reply = () => undefined;
/** Answers by connection, not by request: a stalled attempt may not have reached the server as a request. */
const byConnection =
  (replies: Reply[]): Reply =>
  (response, seen) =>
    replies[Math.min(seen.connection - 1, replies.length - 1)](response, seen);

const throttling = json(400, { __type: "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/", message: "Rate exceeded" });
const snsThrottling = xml(400, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
const snsPublished = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`;

function environment(endpoint: FakeEndpoint, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { AWS_REGION: REGION, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_ENDPOINT_URL: endpoint.url, ...extra };
}

async function rejection(promise: Promise<unknown>): Promise<AwsApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, "the call rejects with an Error");
    return error as AwsApiError;
  }
  assert.fail("the call should have failed");
}

// ---------------------------------------------------------------------------------------------
// Signature V4, written from the AWS documentation ("Create a signed AWS API request"), not from the signer under test

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

interface SignatureCheck {
  valid: boolean;
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
}

function checkSignatureV4(seen: Pick<Seen, "method" | "url" | "headers" | "body">, secretAccessKey: string): SignatureCheck {
  const authorization = String(seen.headers.authorization ?? "");
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
  assert.ok(match, `an AWS4-HMAC-SHA256 Authorization header, not ${JSON.stringify(authorization)}`);
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match;
  const amzDate = String(seen.headers["x-amz-date"] ?? "");
  assert.match(amzDate, /^\d{8}T\d{6}Z$/);
  const signedHeaders = signedHeaderList.split(";");
  assert.deepEqual(signedHeaders, [...signedHeaders].sort(), "SignedHeaders is sorted");
  assert.ok(!seen.url.includes("?"), "no query string");

  // Canonical request: method, URI, query, canonical headers (each "name:trimmed value\n"), signed headers, payload hash.
  const missing = signedHeaders.filter((name) => seen.headers[name] === undefined);
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${String(seen.headers[name] ?? "").trim().replace(/ +/g, " ")}\n`).join("");
  const canonicalRequest = [seen.method, seen.url, "", canonicalHeaders, signedHeaderList, sha256Hex(seen.body)].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), "aws4_request");
  const expected = Buffer.from(hmac(signingKey, stringToSign).toString("hex"));
  const valid = missing.length === 0 && date === amzDate.slice(0, 8) && timingSafeEqual(expected, Buffer.from(signature));
  return { valid, accessKeyId, date, region, service, signedHeaders };
}

/** Answers 403 as AWS does when the signature does not match; otherwise `then`. */
const verified =
  (then: Reply): Reply =>
  (response, seen) =>
    checkSignatureV4(seen, SECRET_ACCESS_KEY).valid ? then(response, seen) : json(403, { __type: "InvalidSignatureException", message: "The request signature we calculated does not match the signature you provided." })(response, seen);

/** Sends a recorded request again, headers (signature included) unchanged, with `body`. */
function replay(endpoint: FakeEndpoint, seen: Seen, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${endpoint.url}${seen.url}`, { method: seen.method, headers: seen.headers as http.OutgoingHttpHeaders, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end(body);
  });
}

// ---------------------------------------------------------------------------------------------

const SERVICES: Array<{ service: AwsService; signingName: string; variable: string; call: (env: NodeJS.ProcessEnv) => Promise<unknown> }> = [
  { service: DYNAMODB, signingName: "dynamodb", variable: "DYNAMODB", call: (env) => awsApi(DYNAMODB, patient(1), env).json("GetItem", { TableName: "t", Key: { id: { S: "1" } } }) },
  { service: STEP_FUNCTIONS, signingName: "states", variable: "SFN", call: (env) => awsApi(STEP_FUNCTIONS, patient(1), env).json("DescribeExecution", { executionArn: "arn:aws:states:eu-west-1:123456789012:execution:m:e" }) },
  { service: KMS, signingName: "kms", variable: "KMS", call: (env) => awsApi(KMS, patient(1), env).json("GenerateRandom", { NumberOfBytes: 32 }) },
  { service: SECRETS_MANAGER, signingName: "secretsmanager", variable: "SECRETS_MANAGER", call: (env) => awsApi(SECRETS_MANAGER, patient(1), env).json("GetSecretValue", { SecretId: "s" }) },
  { service: SNS, signingName: "sns", variable: "SNS", call: (env) => awsApi(SNS, patient(1), env).query("Publish", { TopicArn: "arn:aws:sns:eu-west-1:123456789012:t", Message: "m" }) },
];
const answerFor = (service: AwsService): Reply => (service.protocol.kind === "json" ? json(200, {}) : xml(200, snsPublished));

describe("awsApi: the functions' own AWS client", () => {
  afterEach(() => ENDPOINTS.forEach((endpoint) => endpoint.dropConnections()));
  after(() => Promise.all(ENDPOINTS.splice(0).map((endpoint) => endpoint.close())));

  describe("Signature V4", () => {
    for (const { service, signingName, call } of SERVICES) {
      it(`signs ${signingName} requests that an independent verifier accepts, with the service, region, host:port, content-type${service.protocol.kind === "json" ? " and x-amz-target" : ""} signed`, async () => {
        const endpoint = await FakeEndpoint.start(verified(answerFor(service)));
        await call(environment(endpoint));
        assert.equal(endpoint.seen.length, 1);
        const [seen] = endpoint.seen;
        const check = checkSignatureV4(seen, SECRET_ACCESS_KEY);
        assert.equal(check.valid, true, "the signature verifies");
        assert.equal(check.accessKeyId, ACCESS_KEY_ID);
        assert.equal(check.service, signingName);
        assert.equal(check.region, REGION);
        assert.equal(seen.headers.host, new URL(endpoint.url).host, "the Host header carries the port");
        for (const name of ["host", "content-type", "x-amz-date", ...(service.protocol.kind === "json" ? ["x-amz-target"] : [])]) {
          assert.ok(check.signedHeaders.includes(name), `${name} is signed (SignedHeaders=${check.signedHeaders.join(";")})`);
        }
        assert.equal(seen.headers["x-amz-security-token"], undefined, "no session token without AWS_SESSION_TOKEN");
        assert.equal(checkSignatureV4(seen, `${SECRET_ACCESS_KEY}x`).valid, false, "control: another secret key does not verify");
      });
    }

    it("sends and signs x-amz-security-token when AWS_SESSION_TOKEN is set", async () => {
      for (const { service, call } of SERVICES) {
        const endpoint = await FakeEndpoint.start(verified(answerFor(service)));
        await call(environment(endpoint, { AWS_SESSION_TOKEN: SESSION_TOKEN }));
        const [seen] = endpoint.seen;
        const check = checkSignatureV4(seen, SECRET_ACCESS_KEY);
        assert.equal(check.valid, true, `${service.signingName}: the signature verifies`);
        assert.equal(seen.headers["x-amz-security-token"], SESSION_TOKEN, `${service.signingName}: the token is sent`);
        assert.ok(check.signedHeaders.includes("x-amz-security-token"), `${service.signingName}: the token is signed`);
      }
    });

    it("control: the verifier rejects the same signed request with a different body, in memory and re-sent", async () => {
      const endpoint = await FakeEndpoint.start(verified(json(200, {})));
      const taskToken = `token-${randomBytes(12).toString("hex")}`;
      await awsApi(STEP_FUNCTIONS, patient(1), environment(endpoint, { AWS_SESSION_TOKEN: SESSION_TOKEN })).json("SendTaskSuccess", { taskToken, output: '{"approved":true}' });
      const [seen] = endpoint.seen;
      assert.equal(checkSignatureV4(seen, SECRET_ACCESS_KEY).valid, true);
      // Same length, so Content-Length (signed) still matches: only the body's hash differs.
      const tampered = Buffer.from(seen.body.toString("utf8").replace("approved", "APPROVED"));
      assert.equal(tampered.length, seen.body.length);
      assert.notDeepEqual(tampered, seen.body);
      assert.equal(checkSignatureV4({ ...seen, body: tampered }, SECRET_ACCESS_KEY).valid, false, "a tampered body does not verify");
      assert.equal(await replay(endpoint, seen, tampered), 403, "the fake endpoint refuses the tampered request");
      assert.equal(await replay(endpoint, seen, seen.body), 200, "and accepts the untouched one (the refusal is the body's)");
      assert.equal(checkSignatureV4({ ...seen, headers: { ...seen.headers, "x-amz-target": "AWSStepFunctions.SendTaskFailure" } }, SECRET_ACCESS_KEY).valid, false, "a changed x-amz-target does not verify");
    });
  });

  describe("wire format", () => {
    const jsonCases: Array<{ service: AwsService; version: string; target: string }> = [
      { service: DYNAMODB, version: "1.0", target: "DynamoDB_20120810" },
      { service: STEP_FUNCTIONS, version: "1.0", target: "AWSStepFunctions" },
      { service: KMS, version: "1.1", target: "TrentService" },
      { service: SECRETS_MANAGER, version: "1.1", target: "secretsmanager" },
    ];
    for (const { service, version, target } of jsonCases) {
      it(`${service.signingName}: POST / with application/x-amz-json-${version} and x-amz-target ${target}.<Operation>; the output parsed`, async () => {
        const output = { Item: { id: { S: "é ✓" } }, Count: 1, Nested: [{ a: null }] };
        const endpoint = await FakeEndpoint.start(json(200, output));
        const input = { TableName: "approvals", Key: { id: { S: "42" } }, Text: "ünïcödé & \"quotes\"" };
        const answer = await awsApi(service, patient(1), environment(endpoint)).json("SomeOperation", input);
        assert.deepEqual(answer, output);
        const [seen] = endpoint.seen;
        assert.equal(seen.method, "POST");
        assert.equal(seen.url, "/");
        assert.equal(seen.headers["content-type"], `application/x-amz-json-${version}`);
        assert.equal(seen.headers["x-amz-target"], `${target}.SomeOperation`);
        assert.deepEqual(JSON.parse(seen.body.toString("utf8")), input);
        assert.equal(seen.headers["content-length"], String(seen.body.length));
      });
    }

    it("answers {} for an empty 200 body", async () => {
      const endpoint = await FakeEndpoint.start(json(200, ""));
      assert.deepEqual(await awsApi(STEP_FUNCTIONS, patient(1), environment(endpoint)).json("SendTaskHeartbeat", { taskToken: "t" }), {});
    });

    it("SNS: a form body with Action=Publish, Version=2010-03-31 and the parameters, RFC 3986 encoded, that decodes to exactly the input", async () => {
      const endpoint = await FakeEndpoint.start(xml(200, snsPublished));
      const parameters = {
        TopicArn: "arn:aws:sns:eu-west-1:123456789012:approvals",
        Subject: "Approve: deploy & release = go? 100% (now)!",
        Message: "Hello wörld 👋 it's *fine* ~ a+b=c; x&y=z\nline two\ttab [] {} # / \\ \" <>",
        "MessageAttributes.entry.1.Name": "kind",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "=&=&",
      };
      const answer = await awsApi(SNS, patient(1), environment(endpoint)).query("Publish", parameters);
      assert.equal(answer, snsPublished, "query answers the XML body");
      const [seen] = endpoint.seen;
      assert.equal(seen.method, "POST");
      assert.equal(seen.url, "/");
      assert.equal(seen.headers["content-type"], "application/x-www-form-urlencoded; charset=utf-8");
      assert.equal(seen.headers["x-amz-target"], undefined);
      const body = seen.body.toString("utf8");
      const pairs = body.split("&");
      assert.equal(pairs.length, Object.keys(parameters).length + 2, "every & of a value is encoded");
      for (const pair of pairs) {
        const parts = pair.split("=");
        assert.equal(parts.length, 2, `every = of a value is encoded: ${pair}`);
        for (const part of parts) assert.match(part, /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/, `only RFC 3986 unreserved characters and upper-case %XX: ${part}`);
      }
      assert.ok(body.includes("%21") && body.includes("%27") && body.includes("%28") && body.includes("%29") && body.includes("%2A"), "!'()* are percent-encoded");
      assert.ok(body.includes("%20") && body.includes("%2B"), "space is %20 and + is %2B");
      assert.deepEqual([...new URLSearchParams(body)], [["Action", "Publish"], ["Version", "2010-03-31"], ...Object.entries(parameters)]);
    });

    it("refuses to speak the wrong protocol", async () => {
      const endpoint = await FakeEndpoint.start(json(200, {}));
      await assert.rejects(awsApi(SNS, patient(1), environment(endpoint)).json("Publish", {}), TypeError);
      await assert.rejects(awsApi(DYNAMODB, patient(1), environment(endpoint)).query("GetItem", {}), TypeError);
      assert.equal(endpoint.seen.length, 0);
    });
  });

  describe("endpoints and configuration", () => {
    for (const { service, variable, call } of SERVICES) {
      it(`${service.signingName}: AWS_ENDPOINT_URL_${variable} wins over AWS_ENDPOINT_URL, which is used without it`, async () => {
        const specific = await FakeEndpoint.start(answerFor(service));
        const general = await FakeEndpoint.start(answerFor(service));
        await call(environment(general, { [`AWS_ENDPOINT_URL_${variable}`]: specific.url }));
        assert.equal(specific.seen.length, 1);
        assert.equal(general.seen.length, 0);
        // Another service's variable does not apply.
        const other = SERVICES.find((candidate) => candidate.variable !== variable)!.variable;
        await call(environment(general, { [`AWS_ENDPOINT_URL_${other}`]: specific.url }));
        assert.equal(specific.seen.length, 1);
        assert.equal(general.seen.length, 1);
      });
    }

    it("defaults to https://<prefix>.<region>.amazonaws.com, and amazonaws.com.cn in China", () => {
      const expected: Array<[AwsService, string]> = [
        [DYNAMODB, "dynamodb"],
        [STEP_FUNCTIONS, "states"],
        [KMS, "kms"],
        [SECRETS_MANAGER, "secretsmanager"],
        [SNS, "sns"],
      ];
      for (const [service, prefix] of expected) {
        assert.equal(resolveEndpoint(service, { AWS_REGION: "eu-west-1" }).url.href, `https://${prefix}.eu-west-1.amazonaws.com/`);
        assert.equal(resolveEndpoint(service, { AWS_REGION: "cn-north-1" }).url.href, `https://${prefix}.cn-north-1.amazonaws.com.cn/`);
      }
      assert.equal(resolveEndpoint(DYNAMODB, { AWS_REGION: "eu-west-1" }).region, "eu-west-1");
      assert.equal(resolveEndpoint(DYNAMODB, { AWS_DEFAULT_REGION: "us-east-2" }).url.href, "https://dynamodb.us-east-2.amazonaws.com/");
      assert.equal(resolveEndpoint(DYNAMODB, { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-east-2" }).region, "eu-west-1");
    });

    it("fails clearly without a region or credentials, naming the variable and never showing the secret key", async () => {
      const endpoint = await FakeEndpoint.start(json(200, {}));
      const full = environment(endpoint, { AWS_SESSION_TOKEN: SESSION_TOKEN });
      const cases: Array<[NodeJS.ProcessEnv, string]> = [
        [{ ...full, AWS_REGION: undefined }, "AWS_REGION"],
        [{ ...full, AWS_ACCESS_KEY_ID: undefined }, "AWS_ACCESS_KEY_ID"],
        [{ ...full, AWS_SECRET_ACCESS_KEY: undefined }, "AWS_SECRET_ACCESS_KEY"],
        [{ ...full, AWS_ACCESS_KEY_ID: "" }, "AWS_ACCESS_KEY_ID"],
      ];
      for (const [env, variable] of cases) {
        const error = await rejection(awsApi(DYNAMODB, patient(1), env).json("GetItem", { TableName: "t" }));
        assert.match(error.message, new RegExp(variable), `the message names ${variable}`);
        assert.equal(error.$fault, "client", "a missing variable is no outage: the decision page answers 500, not 503 with Retry-After");
        assertKeepsSecrets(error, [SECRET_ACCESS_KEY, SESSION_TOKEN]);
      }
      assert.equal(endpoint.seen.length, 0, "nothing is sent");
    });

    it("an endpoint URL Node cannot call fails once with Node's own error, not a retry or a TypeError of ours", async () => {
      const error = await rejection(awsApi(DYNAMODB, patient(3), { AWS_REGION: REGION, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_DYNAMODB: "ftp://127.0.0.1:21" }).json("GetItem", {}));
      assert.ok(error instanceof AwsApiError);
      assert.match(error.message, /protocol/i);
      assert.equal(error.$fault, "client");
      assert.equal(error.$metadata.attempts, 1);
    });
  });

  describe("errors", () => {
    const cases: Array<{ title: string; service: AwsService; reply: Reply; name: string; message: string; fault: "client" | "server"; status: number }> = [
      {
        title: "JSON __type with a namespace (com.amazonaws...#Name)",
        service: DYNAMODB,
        reply: json(400, { __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", message: "The conditional request failed" }),
        name: "ConditionalCheckFailedException",
        message: "The conditional request failed",
        fault: "client",
        status: 400,
      },
      { title: "JSON __type with a URL suffix (Name:http://...)", service: DYNAMODB, reply: throttling, name: "ThrottlingException", message: "Rate exceeded", fault: "client", status: 400 },
      {
        title: "the x-amzn-errortype header, the body without __type",
        service: STEP_FUNCTIONS,
        reply: json(400, { message: "1 validation error detected" }, { "x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/" }),
        name: "ValidationException",
        message: "1 validation error detected",
        fault: "client",
        status: 400,
      },
      {
        title: "Step Functions' TaskDoesNotExist",
        service: STEP_FUNCTIONS,
        reply: json(400, { __type: "com.amazonaws.swf.service.v2.model#TaskDoesNotExist", message: "Task does not exist anymore" }),
        name: "TaskDoesNotExist",
        message: "Task does not exist anymore",
        fault: "client",
        status: 400,
      },
      { title: "a capitalised Message (KMS)", service: KMS, reply: json(400, { __type: "NotFoundException", Message: "Key not found" }), name: "NotFoundException", message: "Key not found", fault: "client", status: 400 },
      { title: "a JSON 500", service: DYNAMODB, reply: json(500, { __type: "com.amazon.coral.service#InternalServerError", message: "Internal" }), name: "InternalServerError", message: "Internal", fault: "server", status: 500 },
      {
        title: "the query protocol's XML error, entities decoded",
        service: SNS,
        reply: xml(400, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Subject &amp; Message &lt;too long&gt; &#233;&#x2713;</Message></Error><RequestId>r</RequestId></ErrorResponse>`),
        name: "InvalidParameter",
        message: "Invalid parameter: Subject & Message <too long> é✓",
        fault: "client",
        status: 400,
      },
    ];
    for (const { title, service, reply, name, message, fault, status } of cases) {
      it(`names the error by ${title}: ${name}, $fault ${fault}, $metadata`, async () => {
        const endpoint = await FakeEndpoint.start(reply);
        const api = awsApi(service, patient(1), environment(endpoint));
        const error = await rejection(service.protocol.kind === "json" ? api.json("Operation", {}) : api.query("Publish", { Message: "m" }));
        assert.ok(error instanceof AwsApiError);
        assert.equal(error.name, name);
        assert.equal(error.message, message);
        assert.equal(error.$fault, fault);
        assert.equal(error.$metadata.httpStatusCode, status);
        assert.equal(error.$metadata.attempts, 1);
        assert.equal(endpoint.seen.length, 1);
      });
    }

    it("the x-amzn-errortype header names the error even when the body's __type says otherwise", async () => {
      const endpoint = await FakeEndpoint.start(json(400, { __type: "com.amazonaws.dynamodb.v20120810#SomethingElse", message: "m" }, { "x-amzn-errortype": "ConditionalCheckFailedException" }));
      const error = await rejection(awsApi(DYNAMODB, patient(1), environment(endpoint)).json("PutItem", {}));
      assert.equal(error.name, "ConditionalCheckFailedException");
      assert.equal(error.$metadata.requestId, "fake-request-id");
    });

    for (const service of [DYNAMODB, SNS]) {
      it(`${service.signingName}: a non-JSON 502 page is a server fault`, async () => {
        const endpoint = await FakeEndpoint.start(html(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"));
        const api = awsApi(service, patient(1), environment(endpoint));
        const error = await rejection(service.protocol.kind === "json" ? api.json("GetItem", {}) : api.query("Publish", {}));
        assert.ok(error instanceof AwsApiError);
        assert.equal(error.$fault, "server");
        assert.equal(error.$metadata.httpStatusCode, 502);
        assert.ok(error.name.length > 0 && error.name !== "Error" && error.name !== "SyntaxError", `a named AWS error, not ${error.name}`);
      });
    }

    it("a JSON error body of null, or a __type that is not a string, still gives an AwsApiError (and a 5xx is retried)", async () => {
      const nullBody = await FakeEndpoint.start(json(500, "null"));
      const serverError = await rejection(awsApi(DYNAMODB, patient(2), environment(nullBody)).json("GetItem", {}));
      assert.ok(serverError instanceof AwsApiError, `an AwsApiError, not ${serverError.name}: ${serverError.message}`);
      assert.equal(serverError.$fault, "server");
      assert.equal(nullBody.seen.length, 2);
      const oddType = await FakeEndpoint.start(json(400, { __type: 5, message: "odd" }));
      const clientError = await rejection(awsApi(DYNAMODB, patient(2), environment(oddType)).json("GetItem", {}));
      assert.ok(clientError instanceof AwsApiError, `an AwsApiError, not ${clientError.name}: ${clientError.message}`);
      assert.equal(clientError.$fault, "client");
      assert.equal(clientError.message, "odd");
      assert.equal(oddType.seen.length, 1);
    });

    it("a 4xx without a body is a client fault, 429 a throttling one", async () => {
      const endpoint = await FakeEndpoint.start([html(403, ""), html(429, "")]);
      const forbidden = await rejection(awsApi(DYNAMODB, patient(1), environment(endpoint)).json("GetItem", {}));
      assert.equal(forbidden.$fault, "client");
      assert.equal(forbidden.$metadata.httpStatusCode, 403);
      const tooMany = await rejection(awsApi(DYNAMODB, patient(1), environment(endpoint)).json("GetItem", {}));
      assert.equal(tooMany.$fault, "client");
      assert.equal(tooMany.$metadata.httpStatusCode, 429);
    });
  });

  describe("retries", () => {
    const exhausting: Array<{ title: string; service: AwsService; reply: Reply; name?: string }> = [
      { title: "400 ThrottlingException", service: DYNAMODB, reply: throttling, name: "ThrottlingException" },
      { title: "SNS Throttling", service: SNS, reply: snsThrottling, name: "Throttling" },
      { title: "500", service: DYNAMODB, reply: json(500, { __type: "InternalServerError", message: "x" }), name: "InternalServerError" },
      { title: "503", service: STEP_FUNCTIONS, reply: json(503, { __type: "ServiceUnavailable", message: "x" }), name: "ServiceUnavailable" },
      { title: "a 502 page", service: KMS, reply: html(502, "<html>Bad Gateway</html>") },
      { title: "a 500 named by the service (KMSInternalException)", service: KMS, reply: json(500, { __type: "KMSInternalException", message: "x" }), name: "KMSInternalException" },
      { title: "429", service: SECRETS_MANAGER, reply: html(429, "") },
      { title: "429 with an error name that is no known throttling code", service: DYNAMODB, reply: json(429, { __type: "TooManyRequests", message: "slow down" }), name: "TooManyRequests" },
      { title: "a connection destroyed after the request", service: DYNAMODB, reply: dropConnection },
      { title: "a connection destroyed in the middle of the answer", service: DYNAMODB, reply: dropMidAnswer },
    ];
    for (const { title, service, reply, name } of exhausting) {
      it(`retries ${title} up to maxAttempts (3 requests seen), then fails`, async () => {
        const endpoint = await FakeEndpoint.start(reply);
        const api = awsApi(service, patient(3), environment(endpoint));
        const error = await rejection(service.protocol.kind === "json" ? api.json("Operation", {}) : api.query("Publish", { Message: "m" }));
        assert.equal(endpoint.seen.length, 3);
        assert.equal(error.$metadata.attempts, 3);
        if (name) assert.equal(error.name, name);
      });

      it(`returns a later success after ${title}`, async () => {
        const endpoint = await FakeEndpoint.start([reply, reply, answerFor(service)]);
        const api = awsApi(service, patient(3), environment(endpoint));
        const answer = await (service.protocol.kind === "json" ? api.json("Operation", {}) : api.query("Publish", { Message: "m" }));
        assert.deepEqual(answer, service.protocol.kind === "json" ? {} : snsPublished);
        assert.equal(endpoint.seen.length, 3);
      });
    }

    describe("atMostOnce (outcome notices: SNS takes no idempotency key)", () => {
      for (const { title, reply } of [
        { title: "a connection destroyed after the request", reply: dropConnection },
        { title: "a connection destroyed in the middle of the answer", reply: dropMidAnswer },
        { title: "a 500", reply: xml(500, "<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>") },
      ]) {
        it(`never sends again after ${title}, which may follow an applied call`, async () => {
          const endpoint = await FakeEndpoint.start([reply, xml(200, "<PublishResponse/>")]);
          await rejection(awsApi(SNS, patient(3), environment(endpoint), { atMostOnce: true }).query("Publish", { Message: "m" }));
          assert.equal(endpoint.seen.length, 1);
        });
      }

      it("retries throttling, which proves nothing was applied, each time on a new connection", async () => {
        const endpoint = await FakeEndpoint.start([snsThrottling, snsThrottling, xml(200, "<PublishResponse/>")]);
        await awsApi(SNS, patient(3), environment(endpoint), { atMostOnce: true }).query("Publish", { Message: "m" });
        assert.equal(endpoint.seen.length, 3);
        assert.deepEqual(endpoint.seen.map((seen) => seen.connection), [1, 2, 3], "no pooled connection, so no reset is ambiguous");
      });
    });

    it("stops at once on success (no more requests than needed)", async () => {
      const endpoint = await FakeEndpoint.start([throttling, json(200, { ok: true })]);
      assert.deepEqual(await awsApi(DYNAMODB, patient(5), environment(endpoint)).json("GetItem", {}), { ok: true });
      assert.equal(endpoint.seen.length, 2);
    });

    it("honours maxAttempts 1 (no retry at all) and 2", async () => {
      for (const maxAttempts of [1, 2]) {
        const endpoint = await FakeEndpoint.start(throttling);
        const error = await rejection(awsApi(DYNAMODB, patient(maxAttempts), environment(endpoint)).json("GetItem", {}));
        assert.equal(endpoint.seen.length, maxAttempts);
        assert.equal(error.$metadata.attempts, maxAttempts);
      }
    });

    const final: Array<{ service: AwsService; reply: Reply; name: string }> = [
      { service: DYNAMODB, reply: json(400, { __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", message: "The conditional request failed" }), name: "ConditionalCheckFailedException" },
      { service: DYNAMODB, reply: json(400, { __type: "com.amazon.coral.validate#ValidationException", message: "bad" }), name: "ValidationException" },
      { service: STEP_FUNCTIONS, reply: json(400, { message: "bad" }, { "x-amzn-errortype": "ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/" }), name: "ValidationException" },
      { service: STEP_FUNCTIONS, reply: json(400, { __type: "com.amazonaws.swf.service.v2.model#TaskDoesNotExist", message: "Task does not exist anymore" }), name: "TaskDoesNotExist" },
      { service: STEP_FUNCTIONS, reply: json(400, { __type: "com.amazonaws.swf.service.v2.model#InvalidToken", message: "Invalid Token" }), name: "InvalidToken" },
      { service: SNS, reply: xml(400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>bad</Message></Error></ErrorResponse>"), name: "InvalidParameter" },
    ];
    for (const { service, reply, name } of final) {
      it(`does not retry ${service.signingName} ${name} (exactly 1 request)`, async () => {
        const endpoint = await FakeEndpoint.start(reply);
        const api = awsApi(service, patient(3), environment(endpoint));
        const error = await rejection(service.protocol.kind === "json" ? api.json("Operation", {}) : api.query("Publish", { Message: "m" }));
        assert.equal(error.name, name);
        assert.equal(error.$metadata.attempts, 1);
        assert.equal(endpoint.seen.length, 1);
      });
    }
  });

  describe("a pooled connection the other side closed (a container thawed after a freeze)", () => {
    it("is tried again on a new connection without spending an attempt: maxAttempts 1 still succeeds", async () => {
      // The first connection answers once, then dies at its next request, as an idle AWS connection does.
      const endpoint = await FakeEndpoint.start((response, seen) => (seen.connection === 1 && seen.index > 0 ? dropConnection : json(200, {}))(response, seen));
      const api = awsApi(DYNAMODB, patient(1), environment(endpoint));
      await api.json("GetItem", {});
      assert.deepEqual(await api.json("GetItem", {}), {});
      assert.deepEqual(endpoint.seen.map((seen) => seen.connection), [1, 1, 2], "the second call reused the first connection, then opened another");
    });

    it("several dead pooled connections (a fan-out's) are each tried for free: maxAttempts 1 still succeeds", async () => {
      // Three parallel calls leave three pooled connections; each then dies at its next request.
      const held: Array<() => void> = [];
      const endpoint = await FakeEndpoint.start((response, seen) => {
        if (seen.connection > 3) return json(200, {})(response, seen);
        if (seen.index >= 3) return dropConnection(response, seen);
        held.push(() => json(200, {})(response, seen));
        if (held.length === 3) for (const answer of held) answer();
      });
      const api = awsApi(DYNAMODB, patient(1), environment(endpoint));
      await Promise.all([api.json("GetItem", {}), api.json("GetItem", {}), api.json("GetItem", {})]);
      assert.equal(endpoint.connections, 3);
      assert.deepEqual(await api.json("GetItem", {}), {});
      assert.deepEqual(endpoint.seen.slice(3).map((seen) => seen.connection), [...endpoint.seen.slice(3, -1).map((seen) => seen.connection).filter((connection) => connection <= 3), 4]);
      assert.ok(endpoint.seen.length >= 6, "at least two dead connections were tried before the new one");
    });

    it("only a reused connection gets the free try: a reset on the new one spends the budget as usual", async () => {
      const endpoint = await FakeEndpoint.start((response, seen) => (seen.index > 0 ? dropConnection : json(200, {}))(response, seen));
      const api = awsApi(DYNAMODB, patient(1), environment(endpoint));
      await api.json("GetItem", {});
      const error = await rejection(api.json("GetItem", {}));
      assert.equal(error.code, "ECONNRESET");
      assert.equal(endpoint.seen.length, 3);
    });
  });

  describe("timeouts: a stalled endpoint", () => {
    it("makes the call give up with a TimeoutError after maxAttempts attempts", async () => {
      const endpoint = await FakeEndpoint.start(neverAnswer);
      const timers = manualTimers();
      const call = rejection(awsApi(STEP_FUNCTIONS, impatient(2), environment(endpoint), { timer: timers.timer }).json("SendTaskSuccess", { taskToken: "t", output: "{}" }));
      await timeOutEveryAttempt(endpoint, timers, 2, call);
      const error = await call;
      assert.equal(error.name, "TimeoutError");
      assert.equal(error.$metadata.attempts, 2);
      // Each attempt is a new connection (the timed-out one is destroyed).
      assert.equal(endpoint.connections, 2);
      assert.equal(endpoint.seen.length, 2);
      assert.ok(endpoint.seen.every((seen) => seen.headers["x-amz-target"] === "AWSStepFunctions.SendTaskSuccess"));
    });

    it("retries a timed-out attempt and returns the later answer", async () => {
      // The first connection is never answered, every later one is at once; only the first attempt's timeout passes.
      const endpoint = await FakeEndpoint.start(byConnection([neverAnswer, json(200, { ok: 1 })]));
      const timers = manualTimers();
      const call = awsApi(DYNAMODB, impatient(5), environment(endpoint), { timer: timers.timer }).json("GetItem", {});
      await timeOutEveryAttempt(endpoint, timers, 1, call, true);
      assert.deepEqual(await call, { ok: 1 });
      assert.equal(endpoint.connections, 2);
      assert.equal(timers.pendingRequestTimeouts(), 0, "the answered attempt's timer was cancelled");
    });

    it("a stalled SNS endpoint too (query protocol)", async () => {
      const endpoint = await FakeEndpoint.start(neverAnswer);
      const timers = manualTimers();
      const call = rejection(awsApi(SNS, impatient(3), environment(endpoint), { timer: timers.timer }).query("Publish", { Message: "m" }));
      await timeOutEveryAttempt(endpoint, timers, 3, call);
      const error = await call;
      assert.equal(error.name, "TimeoutError");
      assert.equal(error.$metadata.attempts, 3);
      assert.equal(endpoint.connections, 3);
    });
  });

  describe("secrets stay out of errors", () => {
    const failures: Array<{ title: string; reply: Reply; budget: CallBudget; timesOut?: true }> = [
      { title: "an error answer", reply: json(400, { __type: "com.amazonaws.swf.service.v2.model#InvalidToken", message: "Invalid Token" }), budget: patient(2) },
      { title: "server faults until the attempts run out", reply: json(500, { __type: "InternalServerError", message: "x" }), budget: patient(2) },
      { title: "a 502 page", reply: html(502, "<html>Bad Gateway</html>"), budget: patient(2) },
      { title: "a dropped connection", reply: dropConnection, budget: patient(2) },
      { title: "a connection dropped mid-answer", reply: dropMidAnswer, budget: patient(2) },
      { title: "a timeout", reply: neverAnswer, budget: impatient(2), timesOut: true },
    ];
    for (const { title, reply, budget, timesOut } of failures) {
      it(`after ${title}, the error's message, stack, JSON and inspection hold neither the task token, the body, the secret key nor the session token`, async () => {
        const endpoint = await FakeEndpoint.start(reply);
        const taskToken = `AAAAKgAAAAIAAAAA${randomBytes(48).toString("base64url")}`;
        const input = { taskToken, output: JSON.stringify({ approved: true, approver: "someone@example.com" }) };
        const timers = manualTimers();
        const call = rejection(awsApi(STEP_FUNCTIONS, budget, environment(endpoint, { AWS_SESSION_TOKEN: SESSION_TOKEN }), timesOut ? { timer: timers.timer } : {}).json("SendTaskSuccess", input));
        // A timeout passes only once the endpoint has the request: its body is always there to check.
        if (timesOut) await timeOutEveryAttempt(endpoint, timers, budget.maxAttempts, call);
        const error = await call;
        // The control: the token really went out, so its absence from the error means something.
        assert.ok(endpoint.seen.length > 0, "the fake endpoint received the request");
        assert.ok(endpoint.seen[0].body.toString("utf8").includes(taskToken), "the request did carry the token");
        assertKeepsSecrets(error, [taskToken, taskToken.slice(16, 40), JSON.stringify(input), SECRET_ACCESS_KEY, SESSION_TOKEN]);
      });
    }

    it("nor does a 200 answer that is not JSON (the parser would quote it, token and all)", async () => {
      const taskToken = `AAAAKgAAAAIAAAAA${randomBytes(48).toString("base64url")}`;
      const endpoint = await FakeEndpoint.start(json(200, `{"Item":{"taskToken":{"S":"${taskToken}"}}`));
      const error = await rejection(awsApi(DYNAMODB, patient(1), environment(endpoint)).json("GetItem", { TableName: "t", Key: { id: { S: "r" } } }));
      assert.equal(error.name, "SerializationException");
      assertKeepsSecrets(error, [taskToken, taskToken.slice(16, 40)]);
    });

    it("nor does an SNS error hold the message sent", async () => {
      const endpoint = await FakeEndpoint.start(xml(400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter</Message></Error></ErrorResponse>"));
      const link = `https://approve.example.com/a/${randomBytes(24).toString("base64url")}`;
      const error = await rejection(awsApi(SNS, patient(1), environment(endpoint, { AWS_SESSION_TOKEN: SESSION_TOKEN })).query("Publish", { TopicArn: "arn", Message: `Approve: ${link}` }));
      assert.equal(error.name, "InvalidParameter");
      assertKeepsSecrets(error, [link, encodeURIComponent(link), SECRET_ACCESS_KEY, SESSION_TOKEN]);
    });
  });
});

function assertKeepsSecrets(error: Error, secrets: string[]) {
  const views: Record<string, string> = { message: error.message, stack: error.stack ?? "", json: JSON.stringify(error), inspect: inspect(error, { depth: 10, showHidden: true }), string: String(error) };
  for (const [view, text] of Object.entries(views)) {
    secrets.forEach((secret, index) => assert.ok(!text.includes(secret), `the error's ${view} (${error.name}) contains secret #${index}`));
  }
}
