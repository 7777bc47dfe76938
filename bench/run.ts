/**
 * `npm run bench`: package size, cold start, warm decision latency and local
 * round trips, for this project and for the reference template's functions,
 * measured in the same run. Prints a table and writes the figures as JSON.
 *
 *   npm run bench                          full run (about two minutes on 2 cores)
 *   npm run bench -- --quick               small numbers, to check the script works
 *   npm run bench -- --runs 15 --requests 500 --sizes 1,100,1000 --out .local/bench/results.json
 *   npm run bench -- --quick --profile .local/bench/profiles   also a CPU profile of every cold start
 *
 * It measures and reports; it asserts nothing about speed.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs, promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { STATE_NAMES } from "../components/stateMachineDefinition";
import { bundleHandler } from "../functions/bundle";
import { createHandler as createDecisionHandler, dependenciesFromEnvironment as decisionDependencies } from "../functions/decision/index";
import { createHandler as createRequestHandler, dependenciesFromEnvironment as requestDependencies } from "../functions/requestApproval/index";
import { createLogger } from "../functions/shared/logger";
import { AwsStandIn } from "../local/awsStandIn";
import { startLocalDynamoDb } from "../local/dynamoDb";
import { localAwsEnvironment } from "../local/environment";
import { startLocalApprovals } from "../local/localApprovals";
import { TRANSPORT_EVENTS } from "../local/transportEvents";
import { extractReferenceFunctions, findReferenceTemplate, REFERENCE_TEMPLATE } from "./referenceTemplate";
import { percentile, round, spread, type Spread } from "./stats";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..");
const TABLE = "bench-approvals";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:bench-approvals";
const CALLBACK_URL = "https://approvals.example.com";
/** Pending approvals set up for the round trips this many at a time. */
const PENDING_BATCH = 25;

interface Options {
  runs: number;
  requests: number;
  sizes: number[];
  concurrency: number;
  out: string;
  /** A folder: every cold start process writes a CPU profile there (node --cpu-prof). */
  profile?: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      requests: { type: "string" },
      sizes: { type: "string" },
      concurrency: { type: "string" },
      out: { type: "string" },
      profile: { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  return {
    runs: Number(values.runs ?? (quick ? 3 : 21)),
    requests: Number(values.requests ?? (quick ? 30 : 500)),
    sizes: (values.sizes ?? (quick ? "1,10" : "1,100,1000")).split(",").map(Number),
    concurrency: Number(values.concurrency ?? 4),
    out: path.resolve(values.out ?? path.join(ROOT, ".local/bench/results.json")),
    profile: values.profile ? path.resolve(values.profile) : undefined,
  };
}

const taskToken = () => "AQCEAAAAKgAAAAMAAAAA" + randomBytes(600).toString("base64");
const silent = (service: string) => createLogger({ service, write: () => undefined });
const sizeOf = (code: string) => ({ bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code).length });

async function timed<T>(action: () => Promise<T>): Promise<[number, T]> {
  const started = process.hrtime.bigint();
  const result = await action();
  return [Number(process.hrtime.bigint() - started) / 1e6, result];
}

/**
 * One fresh Node process: load the handler, serve one invocation. Returns the milliseconds from the
 * process's start to the answer (`total`, Node's boot included, as in a Lambda cold start) and from
 * `require` to the answer (`handler`).
 */
async function coldStart(file: string, exportName: string, style: "promise" | "callback", event: unknown, env: NodeJS.ProcessEnv, expected: string, profile?: { dir: string; name: string }): Promise<{ total: number; handler: number }> {
  const driver = path.join(__dirname, "coldStartDriver.js");
  const profiling = profile ? ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", profile.dir, "--cpu-prof-name", `${profile.name}.cpuprofile`] : [];
  const { stderr } = await run(process.execPath, [...profiling, driver, file, exportName, style, JSON.stringify(event)], { env, cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const report = /COLD (\S+) (\S+) (\S+)/.exec(stderr);
  if (!report) throw new Error(`cold start of ${path.basename(file)} failed: ${stderr.slice(-300)}`);
  if (report[2] !== expected) throw new Error(`cold start of ${path.basename(file)} answered ${report[2]}, expected ${expected}`);
  return { total: Number(report[3]), handler: Number(report[1]) };
}

/** Runs `action` `count` times after `warmup` unmeasured runs; returns the milliseconds of each. */
async function latencies(count: number, warmup: number, action: (index: number) => Promise<void>): Promise<number[]> {
  for (let index = 0; index < warmup; index++) await action(-1 - index);
  const samples: number[] = [];
  for (let index = 0; index < count; index++) samples.push((await timed(() => action(index)))[0]);
  return samples;
}

const latencySummary = (samples: number[]) => ({ p50: round(percentile(samples, 50), 3), p99: round(percentile(samples, 99), 3), requests: samples.length });

/** The reference handler logs every event with console.log; in-process, both sides run with logging silenced. */
async function withConsoleSilenced<T>(action: () => Promise<T>): Promise<T> {
  const { log, error } = console;
  console.log = console.error = () => undefined;
  try {
    return await action();
  } finally {
    Object.assign(console, { log, error });
  }
}

async function main() {
  const settings = options();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  // Inside the project, so that the reference code resolves @aws-sdk/client-sfn and client-sns from node_modules.
  const work = mkdtempSync(path.join(__dirname, ".work-"));
  const results: Record<string, unknown> = {
    machine: { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpu: os.cpus()[0]?.model, cores: os.cpus().length, memoryGiB: round(os.totalmem() / 2 ** 30, 1), date: new Date().toISOString() },
    settings,
  };
  try {
    // 1. Deployment packages.
    const files = {
      ours: { requestApproval: path.join(work, "ours-request-approval.js"), decision: path.join(work, "ours-decision.js") },
      reference: { sendEmail: path.join(work, "reference-send-email.js"), approval: path.join(work, "reference-approval.js") },
      floor: path.join(work, "empty-handler.js"),
    };
    const ours = { requestApproval: await bundleHandler("requestApproval"), decision: await bundleHandler("decision") };
    writeFileSync(files.ours.requestApproval, ours.requestApproval);
    writeFileSync(files.ours.decision, ours.decision);
    const referenceTemplate = findReferenceTemplate();
    if (!referenceTemplate) console.warn(`The reference template is not at ${REFERENCE_TEMPLATE}: measuring this project only (set REFERENCE_TEMPLATE=<path> to compare).\n`);
    const reference = referenceTemplate ? extractReferenceFunctions({ email: "approver@example.com", topicArn: TOPIC }, referenceTemplate) : undefined;
    if (reference) {
      writeFileSync(files.reference.sendEmail, reference.sendEmail);
      writeFileSync(files.reference.approval, reference.approval);
    }
    const packages = {
      ours: { requestApproval: sizeOf(ours.requestApproval), decision: sizeOf(ours.decision) },
      // The reference ships its code inline and takes the AWS SDK from the Lambda runtime.
      ...(reference ? { reference: { sendEmail: sizeOf(reference.sendEmail), approval: sizeOf(reference.approval) } } : {}),
    };
    results.packages = packages;

    // Local AWS for figures 2 and 3: dynalite and the SNS / Step Functions stand-in.
    const db = await startLocalDynamoDb();
    await db.createApprovalsTable(TABLE);
    const standIn = new AwsStandIn();
    const awsEndpoint = await standIn.listen();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...localAwsEnvironment({ dynamoDb: db.endpoint, standIn: awsEndpoint }),
      TABLE_NAME: TABLE,
      TOPIC_ARN: TOPIC,
      CALLBACK_URL,
      APPROVAL_TIMEOUT_SECONDS: "86400",
      AUDIT_RETENTION_DAYS: "90",
      LINK_KEY_ID: "arn:aws:kms:eu-west-1:123456789012:key/bench",
      APPROVER_EMAILS: "approver@example.com",
    };
    Object.assign(process.env, env);
    const requestApproval = createRequestHandler({ ...requestDependencies(env), logger: silent("request-approval") });
    const decide = createDecisionHandler({ ...decisionDependencies(env), logger: silent("decision") });
    let executions = 0;
    const newRequest = async () => {
      const token = taskToken();
      // One execution per request: a request is named by its execution.
      const executionArn = `arn:aws:states:eu-west-1:123456789012:execution:bench:run-${executions++}`;
      standIn.startExecution(executionArn, { title: "Benchmark" });
      void standIn.waitForTaskToken(token, executionArn).catch(() => undefined); // the workflow waits for this token
      await requestApproval({ taskToken: token, execution: { id: executionArn, name: "run" }, stateMachine: { name: "bench" }, input: { title: "Benchmark" } });
      // The approver's link is only in the email: nothing else can produce it.
      const requestId = /\/requests\/([A-Za-z0-9_-]{32})/.exec(standIn.emails.at(-1)!.message)![1];
      return { token, requestId };
    };
    const pendingForReview = await newRequest();
    const reviewEvent = () => TRANSPORT_EVENTS.functionUrl({ method: "GET", path: `/requests/${pendingForReview.requestId}`, headers: { accept: "text/html" } });
    const decisionPost = (requestId: string) => TRANSPORT_EVENTS.functionUrl({ method: "POST", path: `/requests/${requestId}`, headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" }, body: "decision=approve" });

    // 2. Cold starts: fresh processes, one first invocation each, against the local endpoints. The variants
    // take turns (one run of each, then the next round), so a slow spell on the machine hits them all alike.
    writeFileSync(files.floor, "exports.handler = async () => ({ statusCode: 200 });\n");
    type ColdVariant = { file: string; exportName: string; style: "promise" | "callback"; event: () => Promise<unknown>; expected: string };
    const variants: Record<string, ColdVariant> = {
      "floor.emptyHandler": { file: files.floor, exportName: "handler", style: "promise", event: async () => ({}), expected: "200" },
      "ours.requestApproval": { file: files.ours.requestApproval, exportName: "handler", style: "promise", event: async () => ({ taskToken: taskToken(), execution: { id: `arn:aws:states:eu-west-1:123456789012:execution:bench:cold-${executions++}`, name: "cold" }, stateMachine: { name: "bench" }, input: { title: "Cold start" } }), expected: "ok" },
      "ours.decisionGet": { file: files.ours.decision, exportName: "handler", style: "promise", event: async () => reviewEvent(), expected: "200" },
      "ours.decisionPost": { file: files.ours.decision, exportName: "handler", style: "promise", event: async () => decisionPost((await newRequest()).requestId), expected: "200" },
      ...(reference ? {
        "reference.sendEmail": { file: files.reference.sendEmail, exportName: "lambda_handler", style: "callback" as const, event: async () => ({ ExecutionContext: { Execution: { Name: "cold" }, StateMachine: { Name: "bench" }, Task: { Token: taskToken() } }, APIGatewayEndpoint: "https://example.com/states" }), expected: "ok" },
        "reference.approval": { file: files.reference.approval, exportName: "handler", style: "callback" as const, event: async () => {
          const token = taskToken();
          void standIn.waitForTaskToken(token).catch(() => undefined);
          return { body: {}, headers: {}, method: "GET", params: {}, query: { action: "approve", ex: "cold", sm: "bench", taskToken: token } };
        }, expected: "302" },
      } : {}),
    };
    const coldSamples: Record<string, Array<{ total: number; handler: number }>> = Object.fromEntries(Object.keys(variants).map((key) => [key, []]));
    for (let index = 0; index < settings.runs; index++) {
      for (const [key, variant] of Object.entries(variants)) {
        const profile = settings.profile ? { dir: settings.profile, name: `${key}.${index}` } : undefined;
        coldSamples[key].push(await coldStart(variant.file, variant.exportName, variant.style, await variant.event(), env, variant.expected, profile));
      }
    }
    const cold: Partial<Record<"floor" | "ours" | "reference", Record<string, Spread>>> = {};
    const coldHandler: Partial<Record<"floor" | "ours" | "reference", Record<string, Spread>>> = {};
    for (const [key, samples] of Object.entries(coldSamples)) {
      const [side, name] = key.split(".") as ["floor" | "ours" | "reference", string];
      (cold[side] ??= {})[name] = spread(samples.map((sample) => round(sample.total, 2)));
      (coldHandler[side] ??= {})[name] = spread(samples.map((sample) => round(sample.handler, 2)));
    }
    results.coldStartMs = cold;
    results.coldStartFromRequireMs = coldHandler;

    // 3. Warm latency in-process: our review page (GET) and decision (POST); the reference decides on GET.
    const warmup = Math.min(30, settings.requests);
    const reviewSamples = await latencies(settings.requests, warmup, async () => {
      const response = await decide(reviewEvent());
      if (response.statusCode !== 200) throw new Error(`review answered ${response.statusCode}`);
    });
    const toDecide: Array<{ token: string; requestId: string }> = [];
    for (let index = 0; index < settings.requests + warmup; index++) toDecide.push(await newRequest());
    let next = 0;
    const decisionSamples = await latencies(settings.requests, warmup, async () => {
      const { requestId } = toDecide[next++];
      const response = await decide(decisionPost(requestId));
      if (response.statusCode !== 200) throw new Error(`decision answered ${response.statusCode}`);
    });
    type CallbackHandler = (event: unknown, context: unknown, callback: (error: unknown, result?: { statusCode: number }) => void) => void;
    const referenceApproval: CallbackHandler | undefined = reference ? require(files.reference.approval).handler : undefined;
    const referenceSamples = referenceApproval && await withConsoleSilenced(() =>
      latencies(settings.requests, warmup, async () => {
        const token = taskToken();
        void standIn.waitForTaskToken(token).catch(() => undefined);
        const result = await new Promise<{ statusCode: number } | undefined>((resolve, reject) =>
          referenceApproval({ query: { action: "approve", ex: "warm", sm: "bench", taskToken: token } }, { invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:bench" }, (error, value) => (error ? reject(error) : resolve(value))),
        );
        if (result?.statusCode !== 302) throw new Error("the reference approval did not redirect");
      }),
    );
    results.warmLatencyMs = {
      ours: { reviewPage: latencySummary(reviewSamples), decision: latencySummary(decisionSamples) },
      ...(referenceSamples ? { reference: { decision: latencySummary(referenceSamples) } } : {}),
    };
    await standIn.close();
    await db.close();

    // 4. Local round trips: N pending approvals, each opened and approved over HTTP until its execution ends.
    const roundTrips = [];
    for (const pending of settings.sizes) {
      const local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 86_400 });
      try {
        // Started a batch at a time, as requests arrive in life: a thousand at once would only measure how dynalite
        // queues a thousand writes (the request function's DynamoDB budget gives up first, and the workflow with it).
        const executions: Array<ReturnType<typeof local.startExecution>> = [];
        const emails: Array<Awaited<ReturnType<typeof local.startExecution>["email"]>> = [];
        for (let started = 0; started < pending; started += PENDING_BATCH) {
          const batch = Array.from({ length: Math.min(PENDING_BATCH, pending - started) }, () => local.startExecution({ title: "Round trip" }));
          executions.push(...batch);
          emails.push(...(await Promise.all(batch.map((execution) => execution.email))));
        }
        const samples: number[] = [];
        let cursor = 0;
        const approveNext = async (): Promise<void> => {
          const index = cursor++;
          if (index >= pending) return;
          const [ms] = await timed(async () => {
            const page = await fetch(emails[index].reviewUrl);
            await page.text();
            const decided = await fetch(emails[index].reviewUrl, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "decision=approve" });
            await decided.text();
            const outcome = await executions[index].outcome;
            if (page.status !== 200 || decided.status !== 200 || outcome.path.at(-1) !== STATE_NAMES.approved) throw new Error("a round trip did not end approved");
          });
          samples.push(ms);
          return approveNext();
        };
        const [wallMs] = await timed(() => Promise.all(Array.from({ length: Math.min(settings.concurrency, pending) }, approveNext)));
        roundTrips.push({ pending, concurrency: Math.min(settings.concurrency, pending), p50: round(percentile(samples, 50), 2), p99: round(percentile(samples, 99), 2), approvalsPerSecond: round(pending / (wallMs / 1000), 1) });
      } finally {
        await local.close();
      }
    }
    results.roundTripMs = roundTrips;

    // 5. Click to resume, per transport: from the approver's POST leaving the browser (local HTTP, the transport's
    // event shape) to the execution leaving its waiting task (the TaskSucceeded event), with the AWS calls made
    // on the way. "First click": on a freshly started local stack (new handlers and connections; the code is loaded).
    const clickToResume: Record<string, { first: { ms: number; calls: Record<string, number> }; warm: { p50: number; p99: number; clicks: number; calls: Record<string, number> } }> = {};
    for (const transport of ["functionUrl", "httpApi", "restApi"] as const) {
      const local = await startLocalApprovals({ transport, approvalTimeoutSeconds: 86_400 });
      try {
        const click = async () => {
          const execution = local.startExecution({ title: "Click to resume" });
          const email = await execution.email;
          const firstCall = local.standIn.callLog.length;
          const sentAt = Date.now();
          const decided = await fetch(email.reviewUrl, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "decision=approve" });
          await decided.text();
          const resumed = local.standIn.historyOf(execution.executionArn).find((event) => event.type === "TaskSucceeded") as { timestamp?: number } | undefined;
          if (decided.status !== 200 || resumed?.timestamp === undefined) throw new Error(`a click did not resume its execution (${decided.status})`);
          const calls = local.standIn.callLog.slice(firstCall);
          const untilResumed = calls.slice(0, calls.indexOf("SendTaskSuccess") + 1);
          await execution.outcome;
          return { ms: resumed.timestamp * 1000 - sentAt, calls: Object.fromEntries([...new Set(untilResumed)].map((operation) => [operation, untilResumed.filter((call) => call === operation).length])) };
        };
        const first = await click();
        const clicks = Math.min(settings.requests, 200);
        const warm: Array<Awaited<ReturnType<typeof click>>> = [];
        for (let index = 0; index < clicks; index++) warm.push(await click());
        const samples = warm.map((sample) => sample.ms);
        clickToResume[transport] = { first, warm: { p50: round(percentile(samples, 50), 2), p99: round(percentile(samples, 99), 2), clicks, calls: warm.at(-1)!.calls } };
      } finally {
        await local.close();
      }
    }
    results.clickToResumeMs = clickToResume;

    const ratio = (a: number, b: number) => round(a / b, 2);
    const floorMs = cold.floor!.emptyHandler.median;
    if (packages.reference && cold.ours && cold.reference && referenceSamples) {
      results.oursOverReference = {
        packageBytes: { requestApproval: ratio(packages.ours.requestApproval.bytes, packages.reference.sendEmail.bytes), decision: ratio(packages.ours.decision.bytes, packages.reference.approval.bytes) },
        packageGzipBytes: { requestApproval: ratio(packages.ours.requestApproval.gzipBytes, packages.reference.sendEmail.gzipBytes), decision: ratio(packages.ours.decision.gzipBytes, packages.reference.approval.gzipBytes) },
        coldStartMedian: { requestApproval: ratio(cold.ours.requestApproval.median, cold.reference.sendEmail.median), decisionGet: ratio(cold.ours.decisionGet.median, cold.reference.approval.median), decisionPost: ratio(cold.ours.decisionPost.median, cold.reference.approval.median) },
        // What each side adds to an empty handler's cold start: the part the code itself is responsible for.
        coldStartAboveFloor: {
          requestApproval: ratio(cold.ours.requestApproval.median - floorMs, cold.reference.sendEmail.median - floorMs),
          decisionGet: ratio(cold.ours.decisionGet.median - floorMs, cold.reference.approval.median - floorMs),
          decisionPost: ratio(cold.ours.decisionPost.median - floorMs, cold.reference.approval.median - floorMs),
        },
        warmDecision: { p50: ratio(percentile(decisionSamples, 50), percentile(referenceSamples, 50)), p99: ratio(percentile(decisionSamples, 99), percentile(referenceSamples, 99)) },
      };
    }

    mkdirSync(path.dirname(settings.out), { recursive: true });
    writeFileSync(settings.out, JSON.stringify(results, null, 2) + "\n");
    printTables(results as unknown as Results);
    console.log(`\nFigures written to ${path.relative(process.cwd(), settings.out)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Results {
  machine: { node: string; cpu: string; cores: number; memoryGiB: number; date: string };
  packages: Partial<Record<"ours" | "reference", Record<string, { bytes: number; gzipBytes: number }>>>;
  coldStartMs: Partial<Record<"floor" | "ours" | "reference", Record<string, Spread>>>;
  coldStartFromRequireMs: Partial<Record<"floor" | "ours" | "reference", Record<string, Spread>>>;
  warmLatencyMs: Partial<Record<"ours" | "reference", Record<string, { p50: number; p99: number; requests: number }>>>;
  roundTripMs: Array<{ pending: number; concurrency: number; p50: number; p99: number; approvalsPerSecond: number }>;
  clickToResumeMs: Record<string, { first: { ms: number; calls: Record<string, number> }; warm: { p50: number; p99: number; clicks: number; calls: Record<string, number> } }>;
  oursOverReference?: Record<string, Record<string, number>>;
}

function table(title: string, header: string[], rows: Array<Array<string | number>>) {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  console.log(`\n${title}`);
  for (const [index, row] of cells.entries()) {
    console.log("  " + row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("   "));
    if (index === 0) console.log("  " + widths.map((width) => "-".repeat(width)).join("   "));
  }
}

function printTables(results: Results) {
  const { machine } = results;
  console.log(`Benchmark, ${machine.date.slice(0, 10)}: Node ${machine.node}, ${machine.cores} x ${machine.cpu}, ${machine.memoryGiB} GiB`);
  const pairs = ([
    ["ours: request-approval", "ours", "requestApproval"],
    ["reference: send email", "reference", "sendEmail"],
    ["ours: decision", "ours", "decision"],
    ["reference: approval", "reference", "approval"],
  ] as Array<[string, "ours" | "reference", string]>).filter(([, side]) => results.packages[side] !== undefined);
  table("1. Deployment package", ["function", "bytes", "gzip bytes"], pairs.map(([label, side, name]) => [label, results.packages[side]![name].bytes, results.packages[side]![name].gzipBytes]));
  const coldRows = ([
    ["floor: empty handler", "floor", "emptyHandler"],
    ["ours: request-approval", "ours", "requestApproval"],
    ["reference: send email", "reference", "sendEmail"],
    ["ours: decision, first GET", "ours", "decisionGet"],
    ["ours: decision, first POST", "ours", "decisionPost"],
    ["reference: approval", "reference", "approval"],
  ] as Array<[string, "floor" | "ours" | "reference", string]>).filter(([, side]) => results.coldStartMs[side] !== undefined);
  table("2. Cold start: fresh Node process, from its start to the first answer (ms); last column: from require to the answer", ["function", "median", "min", "p90", "max", "require median"], coldRows.map(([label, side, name]) => {
    const s = results.coldStartMs[side]![name];
    return [label, s.median, s.min, s.p90, s.max, results.coldStartFromRequireMs[side]![name].median];
  }));
  const warm = results.warmLatencyMs;
  const warmRow = (label: string, figures: { p50: number; p99: number; requests: number } | undefined) => (figures ? [[label, figures.p50, figures.p99, figures.requests]] : []);
  table("3. Warm latency in-process (ms)", ["request", "p50", "p99", "requests"], [
    ...warmRow("ours: review page (GET)", warm.ours?.reviewPage),
    ...warmRow("ours: decision (POST)", warm.ours?.decision),
    ...warmRow("reference: decision (GET)", warm.reference?.decision),
  ]);
  table("4. Local round trip: open link, approve, execution ends (ms)", ["pending approvals", "concurrency", "p50", "p99", "approvals/s"], results.roundTripMs.map((row) => [row.pending, row.concurrency, row.p50, row.p99, row.approvalsPerSecond]));
  printRatios(results);
  const callsOf = (calls: Record<string, number>) => Object.entries(calls).map(([operation, count]) => `${count} ${operation}`).join(", ");
  table("6. Click to resume: the approver's POST to the execution leaving its waiting task, local (ms; clock resolution 1 ms)", ["transport", "first click", "warm p50", "warm p99", "clicks", "AWS calls before the execution resumes"], Object.entries(results.clickToResumeMs).map(([transport, row]) => [transport, row.first.ms, row.warm.p50, row.warm.p99, row.warm.clicks, callsOf(row.warm.calls)]));
}

function printRatios(results: Results) {
  const r = results.oursOverReference;
  if (!r) return;
  table("5. Ours / reference (below 1: ours is smaller or faster; goal for cold starts: 0.7)", ["figure", "request-approval", "decision GET", "decision POST"], [
    ["package bytes", r.packageBytes.requestApproval, r.packageBytes.decision, r.packageBytes.decision],
    ["package gzip bytes", r.packageGzipBytes.requestApproval, r.packageGzipBytes.decision, r.packageGzipBytes.decision],
    ["cold start median", r.coldStartMedian.requestApproval, r.coldStartMedian.decisionGet, r.coldStartMedian.decisionPost],
    ["cold start minus floor", r.coldStartAboveFloor.requestApproval, r.coldStartAboveFloor.decisionGet, r.coldStartAboveFloor.decisionPost],
    ["warm decision p50", "", "", r.warmDecision.p50],
    ["warm decision p99", "", "", r.warmDecision.p99],
  ]);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
