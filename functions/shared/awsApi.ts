/**
 * The AWS calls the two Lambda functions make, as signed HTTPS requests: the SDK's own Signature V4
 * signer (`@smithy/signature-v4`) over Node's `https`, with the JSON protocol of DynamoDB, Step
 * Functions, KMS and Secrets Manager and the query protocol of SNS (Publish only).
 *
 * Why not the SDK clients: a function is often cold when a person clicks (approvals are rare events),
 * and loading one SDK v3 client (compiling its code, building its middleware stack, endpoint rules and
 * schemas) costs more than the reference template's whole cold start; the functions make a dozen
 * kinds of call, each a POST with a JSON body. docs/benchmarks.md has the measurements. The SDK stays
 * what the CLI, the local mode and the tests use.
 *
 * What it keeps from the SDK's behaviour: credentials and region from the environment (where Lambda
 * puts them), `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL` overrides, errors named by the
 * service's error code (`ConditionalCheckFailedException`, `TaskDoesNotExist`, `Throttling`) with
 * `$fault` and `$metadata.httpStatusCode`, the standard retry policy's choice of what to retry
 * (throttling, 5xx, timeouts, dropped connections) with jittered exponential backoff, and hard
 * connection and request timeouts (awsClients.ts has the budgets).
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { CallBudget } from "./awsClients";

/** How to reach and speak to one AWS service. */
export interface AwsService {
  /** The name in the default endpoint: `https://<endpointPrefix>.<region>.amazonaws.com`. */
  endpointPrefix: string;
  /** The service name in the signature's scope. */
  signingName: string;
  /** The `<SERVICE>` of `AWS_ENDPOINT_URL_<SERVICE>`, as the SDKs spell it. */
  endpointVariable: string;
  protocol: { kind: "json"; version: "1.0" | "1.1"; targetPrefix: string } | { kind: "query"; apiVersion: string };
}

export const DYNAMODB: AwsService = { endpointPrefix: "dynamodb", signingName: "dynamodb", endpointVariable: "DYNAMODB", protocol: { kind: "json", version: "1.0", targetPrefix: "DynamoDB_20120810" } };
export const STEP_FUNCTIONS: AwsService = { endpointPrefix: "states", signingName: "states", endpointVariable: "SFN", protocol: { kind: "json", version: "1.0", targetPrefix: "AWSStepFunctions" } };
export const KMS: AwsService = { endpointPrefix: "kms", signingName: "kms", endpointVariable: "KMS", protocol: { kind: "json", version: "1.1", targetPrefix: "TrentService" } };
export const SECRETS_MANAGER: AwsService = { endpointPrefix: "secretsmanager", signingName: "secretsmanager", endpointVariable: "SECRETS_MANAGER", protocol: { kind: "json", version: "1.1", targetPrefix: "secretsmanager" } };
export const SNS: AwsService = { endpointPrefix: "sns", signingName: "sns", endpointVariable: "SNS", protocol: { kind: "query", apiVersion: "2010-03-31" } };

/** An AWS call that failed: the service's error code as `name`, as the SDK names its exceptions. */
export class AwsApiError extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: { httpStatusCode?: number; requestId?: string; attempts: number };
  /** Set on network errors (ECONNRESET, ETIMEDOUT, ...), as on Node's own errors. */
  readonly code?: string;
  /** The connection was a pooled one that the other side had already closed (say, while Lambda froze the container). */
  staleConnection?: boolean;

  constructor(name: string, message: string, details: { statusCode?: number; requestId?: string; code?: string; attempts?: number }) {
    super(message);
    this.name = name;
    // No answer and no network failure (a missing variable, a bad endpoint URL): ours to fix, not worth a retry or a 503.
    this.$fault = details.statusCode !== undefined ? (details.statusCode < 500 ? "client" : "server") : details.code !== undefined ? "server" : "client";
    this.$metadata = { httpStatusCode: details.statusCode, requestId: details.requestId, attempts: details.attempts ?? 1 };
    if (details.code) this.code = details.code;
  }
}

/** The standard retry policy's throttling codes: retried, after a longer backoff. */
const THROTTLING_NAMES = new Set([
  "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
  "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
  "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
]);
/** Transient: the request may not have been processed, or may be processed again safely by the service. */
const TRANSIENT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "InternalFailure", "InternalServerError", "ServiceUnavailable"]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

const isThrottling = (error: AwsApiError) => THROTTLING_NAMES.has(error.name) || error.$metadata.httpStatusCode === 429;
const isRetryable = (error: AwsApiError) => isThrottling(error) || TRANSIENT_NAMES.has(error.name) || error.code !== undefined || TRANSIENT_STATUS.has(error.$metadata.httpStatusCode ?? 0);

/** Full-jitter exponential backoff, as the SDK's standard retry strategy: throttling waits longer. */
function backoffMs(error: AwsApiError, attempt: number): number {
  const base = isThrottling(error) ? 500 : 100;
  return Math.random() * Math.min(20_000, base * 2 ** (attempt - 1));
}

/** The checksum constructor the signer wants, over Node's crypto. */
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  private readonly secret?: Uint8Array | string;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret === undefined || typeof secret === "string" ? secret : ArrayBuffer.isView(secret) ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength) : new Uint8Array(secret);
    this.hash = this.start();
  }
  private start() {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", this.secret);
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(typeof data === "string" ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {
    this.hash = this.start();
  }
}

/** Free tries for resets on pooled connections: as many as a fan-out of parallel calls may have left idle. */
const MAX_STALE_CONNECTION_RETRIES = 8;

// One keep-alive pool per scheme for the container's life: later calls skip the TLS handshake.
const AGENTS = { "https:": new https.Agent({ keepAlive: true, maxSockets: 50 }), "http:": new http.Agent({ keepAlive: true, maxSockets: 50 }) };

interface Endpoint {
  url: URL;
  region: string;
}

export function resolveEndpoint(service: AwsService, env: NodeJS.ProcessEnv): Endpoint {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsApiError("ConfigurationError", "AWS_REGION is not set: the functions take their region from the environment, as Lambda sets it.", {});
  const override = env[`AWS_ENDPOINT_URL_${service.endpointVariable}`] || env.AWS_ENDPOINT_URL;
  const dnsSuffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return { url: new URL(override || `https://${service.endpointPrefix}.${region}.${dnsSuffix}`), region };
}

function environmentCredentials(env: NodeJS.ProcessEnv) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) throw new AwsApiError("CredentialsError", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: the functions take the execution role's credentials from the environment, as Lambda sets them.", {});
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

interface HttpAnswer {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Runs `fire` after `ms` unless cancelled. Tests pass their own to decide when a timeout passes. */
export type Timer = (fire: () => void, ms: number) => { cancel(): void };
const realTimer: Timer = (fire, ms) => {
  const handle = setTimeout(fire, ms);
  return { cancel: () => clearTimeout(handle) };
};

/** One HTTP exchange, bounded by the budget: a connection in `connectionTimeout`, the whole answer in `requestTimeout`. */
function exchange(url: URL, headers: Record<string, string>, body: string, budget: CallBudget, pooled: boolean, timer: Timer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "http:" ? http : https;
    const agent = pooled ? AGENTS[url.protocol === "http:" ? "http:" : "https:"] : false;
    const request = transport.request({ method: "POST", protocol: url.protocol, hostname: url.hostname, port: url.port || undefined, path: url.pathname || "/", headers, agent });
    let settled = false;
    const fail = (error: AwsApiError) => {
      if (settled) return;
      settled = true;
      answerTimer.cancel();
      connectTimer?.cancel();
      request.destroy();
      reject(error);
    };
    const answerTimer = timer(() => fail(new AwsApiError("TimeoutError", `No answer within ${budget.requestTimeout} ms.`, { code: "ETIMEDOUT" })), budget.requestTimeout);
    let connectTimer: ReturnType<Timer> | undefined;
    request.on("socket", (socket) => {
      // A pooled socket is already connected; a new one must connect within the budget.
      if (socket.connecting) {
        connectTimer = timer(() => fail(new AwsApiError("TimeoutError", `No connection within ${budget.connectionTimeout} ms.`, { code: "ETIMEDOUT" })), budget.connectionTimeout);
        socket.once(url.protocol === "http:" ? "connect" : "secureConnect", () => connectTimer?.cancel());
      }
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      const failure = new AwsApiError(error.name === "Error" ? "NetworkError" : error.name, error.message, { code: error.code ?? "ECONNRESET" });
      // Node's advice for keep-alive pools: a reset on a reused socket is retried (request.reusedSocket).
      if (request.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) failure.staleConnection = true;
      fail(failure);
    });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", (error: NodeJS.ErrnoException) => fail(new AwsApiError("NetworkError", error.message, { code: error.code ?? "ECONNRESET" })));
      response.on("end", () => {
        if (settled) return;
        settled = true;
        answerTimer.cancel();
        connectTimer?.cancel();
        resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    request.end(body);
  });
}

const XML_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** The text of the first `<tag>` element of an XML answer, entities decoded (the query protocol answers in XML). */
export function xmlElement(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match?.[1].replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) =>
    entity.startsWith("#x") ? String.fromCodePoint(parseInt(entity.slice(2), 16)) : entity.startsWith("#") ? String.fromCodePoint(Number(entity.slice(1))) : XML_ENTITIES[entity],
  );
}

/** The error an unsuccessful answer carries: the JSON protocol's `__type` or the query protocol's `<Code>`. */
function errorFromAnswer(service: AwsService, answer: HttpAnswer): AwsApiError {
  const requestId = (answer.headers["x-amzn-requestid"] ?? answer.headers["x-amz-request-id"]) as string | undefined;
  let name: string | undefined;
  let message: string | undefined;
  if (service.protocol.kind === "json") {
    let parsed: { __type?: string; message?: unknown; Message?: unknown } = {};
    try {
      parsed = JSON.parse(answer.body || "{}") ?? {}; // a body of `null` must not make the error a TypeError
    } catch {
      // not JSON (a proxy's page): named by the status below
    }
    // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" or "ThrottlingException:http://...".
    const type = (answer.headers["x-amzn-errortype"] as string | undefined) ?? parsed.__type;
    name = typeof type === "string" ? type.split(":")[0].split("#").pop() : undefined;
    message = typeof parsed.message === "string" ? parsed.message : typeof parsed.Message === "string" ? parsed.Message : undefined;
  } else {
    name = xmlElement(answer.body, "Code");
    message = xmlElement(answer.body, "Message");
  }
  const statusName = answer.statusCode >= 500 ? "ServiceUnavailable" : answer.statusCode === 429 ? "TooManyRequestsException" : "UnknownError";
  return new AwsApiError(name || statusName, message ?? `HTTP ${answer.statusCode}`, { statusCode: answer.statusCode, requestId });
}

/** RFC 3986 form encoding, as the SDK's query serializer writes it. */
const formEncode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);

export interface AwsApi {
  /** A JSON-protocol operation: the input as the API reference names it, the output parsed. */
  json<T = Record<string, unknown>>(operation: string, input: object): Promise<T>;
  /** A query-protocol action (SNS): flat parameters; answers the XML body. */
  query(action: string, parameters: Record<string, string>): Promise<string>;
}

export interface AwsApiOptions {
  /**
   * For a call that must not take effect twice and has no idempotency key (an SNS Publish of an outcome
   * notice): retry only answers that prove nothing was applied (throttling), never a timeout, a dropped
   * connection or a 5xx, which may follow an applied call; and a fresh connection each time, so that no
   * reset of a pooled one is ambiguous either.
   */
  atMostOnce?: boolean;
  /** The timer behind the budget's timeouts and the backoff between attempts (tests only; default: setTimeout). */
  timer?: Timer;
}

/**
 * A client for one service with one budget. Credentials, region and endpoint are read from `env` on
 * each call (Lambda's never change within a container; the tests change theirs between cases).
 */
export function awsApi(service: AwsService, budget: CallBudget, env: NodeJS.ProcessEnv = process.env, options: AwsApiOptions = {}): AwsApi {
  const retryable = options.atMostOnce ? isThrottling : isRetryable;
  const timer = options.timer ?? realTimer;
  const send = async (headers: Record<string, string>, body: string): Promise<string> => {
    const { url, region } = resolveEndpoint(service, env);
    const signer = new SignatureV4({ service: service.signingName, region, credentials: environmentCredentials(env), sha256: Sha256 });
    let staleConnectionRetries = 0;
    for (let attempt = 1; ; attempt++) {
      const signed = await signer.sign({
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname || "/",
        query: {},
        headers: { host: url.host, "content-length": String(Buffer.byteLength(body)), "user-agent": "human-approval", ...headers },
        body,
      });
      let error: AwsApiError;
      try {
        const answer = await exchange(url, signed.headers, body, budget, !options.atMostOnce, timer);
        if (answer.statusCode >= 200 && answer.statusCode < 300) return answer.body;
        error = errorFromAnswer(service, answer);
      } catch (caught) {
        // Anything else (a synchronous throw of `https.request`, say) keeps its own name and message.
        error = caught instanceof AwsApiError ? caught : new AwsApiError((caught as Error)?.name ?? "Error", (caught as Error)?.message ?? String(caught), {});
      }
      if (error.staleConnection && staleConnectionRetries < MAX_STALE_CONNECTION_RETRIES) {
        // Pooled connections that died while the container was frozen (a parallel fan-out leaves several):
        // try again without spending an attempt of the budget (DynamoDB's two would otherwise leave a single real try).
        staleConnectionRetries++;
        attempt--;
        continue;
      }
      if (attempt >= budget.maxAttempts || !retryable(error)) {
        error.$metadata.attempts = attempt;
        throw error;
      }
      await new Promise<void>((resolve) => timer(resolve, backoffMs(error, attempt)));
    }
  };
  return {
    async json<T>(operation: string, input: object) {
      if (service.protocol.kind !== "json") throw new TypeError(`${service.signingName} does not speak the JSON protocol.`);
      const body = await send({ "content-type": `application/x-amz-json-${service.protocol.version}`, "x-amz-target": `${service.protocol.targetPrefix}.${operation}` }, JSON.stringify(input));
      try {
        return (body ? JSON.parse(body) : {}) as T;
      } catch {
        // Not the parser's message: it quotes the answer, which may hold a task token.
        throw new AwsApiError("SerializationException", `The answer to ${operation} was not JSON.`, { statusCode: 200 });
      }
    },
    async query(action: string, parameters: Record<string, string>) {
      if (service.protocol.kind !== "query") throw new TypeError(`${service.signingName} does not speak the query protocol.`);
      const form = Object.entries({ Action: action, Version: service.protocol.apiVersion, ...parameters }).map(([key, value]) => `${formEncode(key)}=${formEncode(value)}`);
      return send({ "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, form.join("&"));
    },
  };
}
