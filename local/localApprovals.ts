/**
 * The whole approval flow on this machine, no AWS account: the deployed state
 * machine definition in aws-local-stepfunctions, the real handlers with their
 * real SDK clients pointed at local endpoints (dynalite for DynamoDB, the
 * stand-in for SNS and Step Functions), and a gateway shaped like the chosen
 * transport. `npm start` and the end-to-end tests both run on this.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { buildStateMachineDefinition } from "../components/stateMachineDefinition";
import { createHandler as createDecisionHandler, dependenciesFromEnvironment as decisionDependencies } from "../functions/decision/index";
import type { HttpResponse } from "../functions/decision/decision";
import type { Transport } from "../functions/decision/httpEvent";
import { createHandler as createRequestHandler, dependenciesFromEnvironment as requestDependencies } from "../functions/requestApproval/index";
import type { SweepResult } from "../functions/requestApproval/sweeper";
import { executionStatusChangeEvent } from "../functions/requestApproval/withdrawal";
import { createLogger } from "../functions/shared/logger";
import { AwsStandIn, type PublishedEmail } from "./awsStandIn";
import { startLocalDynamoDb } from "./dynamoDb";
import { runInvocation } from "./invocations";
import { localAwsEnvironment } from "./environment";
import { startGateway, type LocalRoute } from "./gateway";
import { startLocalOpenIdProvider, type LocalAccount, type LocalOpenIdProvider } from "./openIdProvider";
import { SlackStandIn } from "./slackStandIn";
import { runExecution, type ExecutionOutcome } from "./stepFunctions";
import type { ApprovalPolicy } from "../functions/shared/policy";

export interface LocalApprovalsOptions {
  transport: Transport;
  approvalTimeoutSeconds: number;
  /** The stack's approvers (config approverEmails); default one, approver@example.com. */
  approverEmails?: string[];
  /** Config requiredApprovals; default 1. */
  requiredApprovals?: number;
  /** Config allowSelfApproval; default false. */
  allowSelfApproval?: boolean;
  /** Gateway port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  emailSubject?: string;
  /** The stack label (STACK_LABEL) both functions get, as the component passes the stack's name; none by default. */
  stackLabel?: string;
  /** Where the handlers' JSON log lines go; dropped by default. */
  handlerLog?: (line: string) => void;
  /** Told of every execution started, including those started over `POST /executions`. */
  onExecution?: (execution: LocalExecution) => void;
  /**
   * OpenID Connect sign-in, against a real OpenID provider in this process (oidc-provider on 127.0.0.1).
   * `true`: one account per approver, plus `someone@example.com`, who is not one.
   */
  signIn?: boolean | { accounts: LocalAccount[] };
  /** Slack decisions, against a Slack stand-in in this process: every approver (and the requester) is a member. */
  slack?: boolean | { members: string[] };
  /** Run the sweeper (the deployed stack's `sweepIntervalMinutes` schedule) every this many seconds; unset: only on demand (`sweep()`, `POST /sweep`). */
  sweepIntervalSeconds?: number;
  /** Approval policies, resolved as stacks/config.ts makes them (docs/policies.md); unset: none. */
  approvalPolicies?: Record<string, ApprovalPolicy>;
  /** With policies: run the reminders' schedule (escalations, stage openings) every this many seconds; unset: only on demand (`remind()`). */
  remindIntervalSeconds?: number;
}

export interface ApprovalEmail extends PublishedEmail {
  /** The approver this email (and its link) is for. */
  approver: string;
  reviewUrl: string;
}

export interface LocalExecution {
  executionName: string;
  executionArn: string;
  /** The first asked approver's email (of `emails`); rejects if the request was refused. */
  email: Promise<ApprovalEmail>;
  /** One approval email per asked approver, once the request function has sent them all. */
  emails: Promise<ApprovalEmail[]>;
  /** Every email about this execution so far (approval emails, the requester's notice, outcome notices). */
  allEmails(): PublishedEmail[];
  outcome: Promise<ExecutionOutcome>;
  /**
   * The approval timeout passes now, whatever `approvalTimeoutSeconds` says: the waiting task fails with
   * States.Timeout, as Step Functions fails it, and the definition's Catch takes the expired path. Tests use
   * this instead of a short real timeout, which a loaded machine could reach before the emails went out.
   */
  timeOut(): void;
}

export interface LocalApprovals {
  transport: Transport;
  /** What the deployed stack would export as `callbackUrl`. */
  callbackUrl: string;
  /** Base URL of the local server, including the `/executions` control API. */
  origin: string;
  /** Starts an execution; `name` as StartExecution's (default: a fresh unique one). */
  startExecution(input: unknown, name?: string): LocalExecution;
  /** Invokes the request function directly, as a principal with lambda:InvokeFunction on it could. */
  invokeRequestFunction(payload: unknown): Promise<unknown>;
  /** The local AWS stand-in (SNS, KMS, Step Functions), for tests that inject faults or read history. */
  standIn: AwsStandIn;
  /** The local DynamoDB's endpoint and table, for tests that read what was stored. */
  tableName: string;
  dynamoDbEndpoint: string;
  /** With sign-in: the local OpenID provider (its issuer, accounts and password). */
  openIdProvider?: LocalOpenIdProvider;
  /** With Slack: the Slack stand-in (its page of direct messages at `origin`). */
  slack?: SlackStandIn;
  /** Runs the sweeper once, as the deployed schedule does: unfinished deliveries are completed. */
  sweep(): Promise<SweepResult>;
  /** Runs the reminders' schedule once, as the deployed one does: reminders, and policies' escalations and stage openings. */
  remind(): Promise<unknown>;
  /** What `pulumi stack output --json` would give for this local stack, and the endpoints that stand in for AWS (also served at `GET /stack-outputs`). */
  stackOutputs: LocalStackOutputs;
  close(): Promise<void>;
}

/** The local stack's outputs, as the deployed stack exports them, plus where its AWS stand-ins listen. */
export interface LocalStackOutputs {
  transport: Transport;
  callbackUrl: string;
  stateMachineArn: string;
  topicArn: string;
  approvalsTable: string;
  /** AWS_ENDPOINT_URL_* for a client of this local stack (the human-approval CLI's --local). */
  endpoints: { dynamodb: string; sfn: string };
}

export const LOCAL_STATE_MACHINE_NAME = "human-approval-local";
const LOCAL_ARN_PREFIX = "arn:aws:states:eu-west-1:000000000000";
export const LOCAL_STATE_MACHINE_ARN = `${LOCAL_ARN_PREFIX}:stateMachine:${LOCAL_STATE_MACHINE_NAME}`;
const LOCAL_TABLE = "approvals-local";
const LOCAL_TOPIC = "arn:aws:sns:eu-west-1:000000000000:approvals-local";
const LOCAL_LINK_KEY = "arn:aws:kms:eu-west-1:000000000000:key/local-link-key";
export const DEFAULT_LOCAL_APPROVER = "approver@example.com";
/** With sign-in, an account that is no approver: signing in with it on a link shows the 403 page. */
export const LOCAL_OUTSIDER = "someone@example.com";
const LOCAL_CLIENT_ID = "human-approval-local";
const LOCAL_SIGN_IN_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:000000000000:secret:local-sign-in-AbCdEf";
const LOCAL_SLACK_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:000000000000:secret:local-slack-AbCdEf";

let running = false;

/** A task token as long and opaque as Step Functions' own. */
const newTaskToken = () => "AQCEAAAAKgAAAAMAAAAA" + randomBytes(600).toString("base64");

/** The review link in an approval email, or undefined in a notice (which has none). */
export function reviewUrlIn(message: string, callbackUrl: string): string | undefined {
  const escaped = callbackUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${escaped}/requests/[A-Za-z0-9_-]{32}(?=\\s)`).exec(message)?.[0];
}

export async function startLocalApprovals(options: LocalApprovalsOptions): Promise<LocalApprovals> {
  // AWS_ENDPOINT_URL_* are process-wide, so two local stacks in one process would share them.
  if (running) throw new Error("A local approval stack is already running in this process; close it first.");
  running = true;
  const cleanups: Array<() => Promise<void>> = [async () => void (running = false)];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    // Lambda runs nodejs24.x; the SDK's warning about the local Node version is noise here.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    const db = await startLocalDynamoDb();
    cleanups.push(() => db.close());
    await db.createApprovalsTable(LOCAL_TABLE);
    const standIn = new AwsStandIn();
    const awsEndpoint = await standIn.listen();
    cleanups.push(() => standIn.close());

    // The handlers reach dynalite through the stand-in, so that tests can inject faults into DynamoDB calls too.
    standIn.dynamoDbEndpoint = db.endpoint;
    const localEnvironment = localAwsEnvironment({ dynamoDb: awsEndpoint, standIn: awsEndpoint });
    const previousEnvironment = Object.fromEntries(Object.keys(localEnvironment).map((name) => [name, process.env[name]]));
    Object.assign(process.env, localEnvironment);
    cleanups.push(async () => {
      for (const [name, value] of Object.entries(previousEnvironment)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    const logger = (service: string) => createLogger({ service, write: options.handlerLog ?? (() => undefined) });

    const approverSettings = {
      APPROVER_EMAILS: (options.approverEmails ?? [DEFAULT_LOCAL_APPROVER]).join(","),
      REQUIRED_APPROVALS: String(options.requiredApprovals ?? 1),
      ALLOW_SELF_APPROVAL: String(options.allowSelfApproval ?? false),
    };
    const stackLabel: Record<string, string> = options.stackLabel ? { STACK_LABEL: options.stackLabel } : {};
    const decisionEnvironment: Record<string, string> = { TABLE_NAME: LOCAL_TABLE, TOPIC_ARN: LOCAL_TOPIC, APPROVER_EMAILS: approverSettings.APPROVER_EMAILS, ...stackLabel };
    // Rebuilt once the sign-in provider knows the gateway's address (its redirect URI).
    let decide = createDecisionHandler({ ...decisionDependencies(decisionEnvironment), logger: logger("decision") });
    const executions = new Map<string, { execution: LocalExecution; outcome?: ExecutionOutcome }>();
    let startExecution: LocalApprovals["startExecution"] = () => {
      throw new Error("not started");
    };
    let stackOutputs!: LocalStackOutputs;

    const controlApi: LocalRoute = async (request: IncomingMessage, body: Buffer, url: URL) => {
      if (url.pathname === "/executions" && request.method === "POST") {
        let input: unknown;
        try {
          input = body.length ? JSON.parse(body.toString("utf8")) : {};
        } catch {
          return { statusCode: 400, body: { error: "The body must be the execution input as JSON." } };
        }
        const execution = startExecution(input);
        const email = await execution.email;
        return { statusCode: 201, body: { executionName: execution.executionName, executionArn: execution.executionArn, reviewUrl: email.reviewUrl } };
      }
      const status = /^\/executions\/([^/]+)$/.exec(url.pathname);
      if (status && request.method === "GET") {
        const entry = executions.get(decodeURIComponent(status[1]));
        if (!entry) return { statusCode: 404, body: { error: "No such execution." } };
        return { statusCode: 200, body: entry.outcome ?? { status: "RUNNING" } };
      }
      if (url.pathname === "/stack-outputs" && request.method === "GET") return { statusCode: 200, body: stackOutputs };
      if (url.pathname === "/sweep" && request.method === "POST") return { statusCode: 200, body: await sweep() };
      return undefined;
    };

    const gateway = await startGateway({
      transport: options.transport,
      port: options.port ?? 0,
      decide: (event) => runInvocation(() => decide(event, { awsRequestId: randomUUID() }), (id) => standIn.crashed(id)) as Promise<HttpResponse>,
      localRoute: controlApi,
    });
    cleanups.push(() => gateway.close());

    let openIdProvider: LocalOpenIdProvider | undefined;
    if (options.signIn) {
      // Browsers keep Secure (__Host-) cookies from https pages, or from http ones on loopback only.
      if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):/.test(gateway.origin)) {
        throw new Error(`Sign-in needs the local gateway on 127.0.0.1 (it listens on ${gateway.origin}): browsers keep its Secure cookies only over https or on loopback.`);
      }
      const approvers = options.approverEmails ?? [DEFAULT_LOCAL_APPROVER];
      const accounts = options.signIn === true ? [...approvers, LOCAL_OUTSIDER].map((login) => ({ login })) : options.signIn.accounts;
      const clientSecret = randomBytes(24).toString("base64url");
      const callbackPath = gateway.callbackUrl.slice(gateway.origin.length);
      const port = new URL(gateway.origin).port;
      openIdProvider = await startLocalOpenIdProvider({
        accounts,
        // Opened as 127.0.0.1 or as localhost: each is its own redirect URI.
        clients: [{ clientId: LOCAL_CLIENT_ID, clientSecret, redirectUris: ["127.0.0.1", "localhost"].map((host) => `http://${host}:${port}${callbackPath}/auth/callback`) }],
      });
      cleanups.push(() => openIdProvider!.close());
      standIn.secrets.set(LOCAL_SIGN_IN_SECRET_ARN, clientSecret);
      Object.assign(decisionEnvironment, { SIGN_IN_ISSUER: openIdProvider.issuer, SIGN_IN_CLIENT_ID: LOCAL_CLIENT_ID, SIGN_IN_SECRET_ARN: LOCAL_SIGN_IN_SECRET_ARN });
      decide = createDecisionHandler({ ...decisionDependencies(decisionEnvironment), logger: logger("decision") });
    }
    // Slack: the stand-in's Web API for both functions (SLACK_API_URL), its secret in the Secrets Manager stand-in.
    let slack: SlackStandIn | undefined;
    const slackEnvironment: Record<string, string> = {};
    if (options.slack) {
      slack = new SlackStandIn(options.slack === true ? options.approverEmails ?? [DEFAULT_LOCAL_APPROVER] : options.slack.members);
      await slack.listen();
      cleanups.push(() => slack!.close());
      slack.callbackUrl = gateway.callbackUrl;
      standIn.secrets.set(LOCAL_SLACK_SECRET_ARN, slack.secretString);
      Object.assign(slackEnvironment, { SLACK_SECRET_ARN: LOCAL_SLACK_SECRET_ARN, SLACK_API_URL: slack.apiUrl });
      Object.assign(decisionEnvironment, slackEnvironment);
      decide = createDecisionHandler({ ...decisionDependencies(decisionEnvironment), logger: logger("decision") });
    }
    // Closed first: executions still waiting for a decision are aborted.
    const runningExecutions = new Set<() => void>();
    let closing = false;
    cleanups.push(async () => {
      closing = true;
      runningExecutions.forEach((abort) => abort());
    });

    const requestHandler = createRequestHandler({
      ...requestDependencies({
        TABLE_NAME: LOCAL_TABLE,
        TOPIC_ARN: LOCAL_TOPIC,
        LINK_KEY_ID: LOCAL_LINK_KEY,
        ...approverSettings,
        CALLBACK_URL: gateway.callbackUrl,
        APPROVAL_TIMEOUT_SECONDS: String(options.approvalTimeoutSeconds),
        AUDIT_RETENTION_DAYS: "90",
        EMAIL_SUBJECT: options.emailSubject,
        ...stackLabel,
        ...slackEnvironment,
        ...(options.approvalPolicies ? { APPROVAL_POLICIES: JSON.stringify(options.approvalPolicies) } : {}),
      }),
      logger: logger("request-approval"),
    });
    // Each invocation on its own, as Lambda runs them: a crash fault stops only the invocation it hit.
    const requestApproval: typeof requestHandler = (event, context) => runInvocation(() => requestHandler(event, context), (id) => standIn.crashed(id));
    // EventBridge's "Execution Status Change" rule: an execution that was stopped, failed or timed out is
    // delivered to the request function, as the deployed rule does (components/reminders.ts).
    const statusChanges = new Set<Promise<unknown>>();
    const deliverStatusChange = (executionArn: string, executionName: string, status: "ABORTED" | "FAILED") => {
      if (closing) return;
      const delivery = requestApproval(executionStatusChangeEvent({ executionArn, stateMachineArn: LOCAL_STATE_MACHINE_ARN, name: executionName, status }), { awsRequestId: randomUUID() })
        .catch(() => undefined) // logged by the handler; EventBridge would retry
        .finally(() => statusChanges.delete(delivery));
      statusChanges.add(delivery);
    };
    cleanups.push(async () => void (await Promise.all([...statusChanges])));

    // The sweeper's schedule: the same entry of the request function as the deployed EventBridge rule invokes.
    const sweep = async () => (await requestApproval({ kind: "sweep" }, { awsRequestId: randomUUID() })) as SweepResult;
    if (options.sweepIntervalSeconds) {
      let sweeping: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        if (!closing) sweeping = sweeping.then(sweep).catch(() => undefined); // logged by the handler; the next run tries again
      }, options.sweepIntervalSeconds * 1000);
      cleanups.push(async () => {
        clearInterval(timer);
        await sweeping;
      });
    }

    // The reminders' schedule: with policies, escalations and the emails of a stage that opened (components/reminders.ts).
    const remind = () => requestApproval({ kind: "remind" }, { awsRequestId: randomUUID() });
    if (options.approvalPolicies && options.remindIntervalSeconds) {
      let reminding: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        if (!closing) reminding = reminding.then(remind).catch(() => undefined); // logged by the handler; the next run tries again
      }, options.remindIntervalSeconds * 1000);
      cleanups.push(async () => {
        clearInterval(timer);
        await reminding;
      });
    }

    // The function ARN only names the task; the local override runs the handler in this process.
    const timeoutOutcomes = Object.values(options.approvalPolicies ?? {}).some((policy) => policy.onTimeout === "reject");
    const definition = buildStateMachineDefinition({
      requestFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:request-approval-local",
      approvalTimeoutSeconds: options.approvalTimeoutSeconds,
      partition: "aws",
      ...(timeoutOutcomes ? { timeoutOutcomes } : {}),
    });

    startExecution = (input, name) => {
      const executionName = name ?? `local-${new Date().toISOString().replace(/[-:.TZ]/g, "")}-${randomBytes(3).toString("hex")}`;
      const executionArn = `${LOCAL_ARN_PREFIX}:execution:${LOCAL_STATE_MACHINE_NAME}:${executionName}`;
      const taskToken = newTaskToken();
      const isThisExecution = (email: PublishedEmail) => email.message.includes(`\nExecution:  ${executionName}\n`);
      const approvalEmails = () =>
        standIn.emails.filter(isThisExecution).flatMap((email) => {
          const reviewUrl = reviewUrlIn(email.message, gateway.callbackUrl);
          return reviewUrl ? [{ ...email, approver: email.recipients[0], reviewUrl }] : [];
        });
      let emailsSent!: (emails: ApprovalEmail[]) => void;
      const emails = new Promise<ApprovalEmail[]>((resolve) => (emailsSent = resolve));
      let running: ReturnType<typeof runExecution> | undefined;
      let timeOut!: () => void;
      // As Step Functions' own States.Timeout, which no retrier's States.TaskFailed matches: the interpreter must not retry it.
      const timedOut = new Promise<never>((_, reject) => (timeOut = () => reject(Object.assign(new Error("The approval timeout passed."), { name: "States.Timeout", isRetryable: false }))));
      timedOut.catch(() => undefined); // raced below; only the waiting task's failure matters
      standIn.startExecution(executionArn, input, () => {
        running?.abort();
        deliverStatusChange(executionArn, executionName, "ABORTED");
      });
      running = runExecution(definition, input, { executionArn, executionName, stateMachineName: LOCAL_STATE_MACHINE_NAME, taskToken }, {
        requestApproval: async ({ Payload }) => {
          // The interpreter retries a task even after its execution was aborted: fail fast once closing.
          if (closing) throw Object.assign(new Error("The local stack was closed."), { name: "LocalStackClosed" });
          // ...and after the execution was stopped (StopExecution): a stopped execution schedules nothing.
          if (standIn.executionStatus(executionArn) !== "RUNNING") throw Object.assign(new Error("The execution was stopped."), { name: "ExecutionNotRunning" });
          const callback = standIn.waitForTaskToken(taskToken, executionArn, { FunctionName: "request-approval-local", Payload });
          callback.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
          const result = await requestApproval(Payload, { awsRequestId: randomUUID() });
          standIn.recordEvent(executionArn, { type: "TaskSubmitted", taskSubmittedEventDetails: { resourceType: "lambda", resource: "invoke.waitForTaskToken", output: JSON.stringify(result) } });
          emailsSent(approvalEmails());
          return JSON.parse(await Promise.race([callback, timedOut]));
        },
        verifyDecision: async ({ Payload }) => requestApproval(Payload, { awsRequestId: randomUUID() }),
        notifyExpiry: async ({ Payload }) => {
          standIn.finishTask(taskToken, "timedOut");
          // As the Lambda integration answers: the function's result under Payload (read when a policy rejects on timeout).
          return { Payload: await requestApproval(Payload, { awsRequestId: randomUUID() }) };
        },
      });
      const outcome = running.outcome.then((result) => {
        standIn.finishTask(taskToken);
        const status = result.status === "SUCCEEDED" ? "SUCCEEDED" : result.error?.name === "ExecutionAborted" ? "ABORTED" : "FAILED";
        const ended = status === "SUCCEEDED" ? { output: JSON.stringify(result.output) } : { error: result.error?.name, cause: result.error?.cause };
        standIn.endExecution(executionArn, status, {}, ended);
        if (status === "FAILED" && standIn.executionStatus(executionArn) === "FAILED") deliverStatusChange(executionArn, executionName, "FAILED");
        emailsSent(approvalEmails());
        return result;
      });
      const email = emails.then((sent) => sent[0] ?? Promise.reject(new Error("No approval email was sent for this execution (see its outcome).")));
      email.catch(() => undefined); // callers that only await the outcome need not handle this
      const execution: LocalExecution = { executionName, executionArn, email, emails, allEmails: () => standIn.emails.filter(isThisExecution), outcome, timeOut };
      const entry: { execution: LocalExecution; outcome?: ExecutionOutcome } = { execution };
      executions.set(executionName, entry);
      void outcome.then((result) => (entry.outcome = result));
      const abort = running.abort;
      runningExecutions.add(abort);
      options.onExecution?.(execution);
      void outcome.finally(() => runningExecutions.delete(abort));
      return execution;
    };

    // StartExecution from any SDK client (the human-approval CLI) starts one of these executions.
    standIn.onStartExecution = ({ stateMachineArn, input }) => {
      if (stateMachineArn !== LOCAL_STATE_MACHINE_ARN) throw Object.assign(new Error(`State Machine Does Not Exist: '${stateMachineArn}' (the local one is ${LOCAL_STATE_MACHINE_ARN})`), { name: "StateMachineDoesNotExist" });
      return { executionArn: startExecution(input).executionArn };
    };
    stackOutputs = {
      transport: options.transport,
      callbackUrl: gateway.callbackUrl,
      stateMachineArn: LOCAL_STATE_MACHINE_ARN,
      topicArn: LOCAL_TOPIC,
      approvalsTable: LOCAL_TABLE,
      endpoints: { dynamodb: db.endpoint, sfn: awsEndpoint },
    };

    return {
      transport: options.transport,
      callbackUrl: gateway.callbackUrl,
      origin: gateway.origin,
      startExecution: (input, name) => startExecution(input, name),
      invokeRequestFunction: (payload) => requestApproval(payload, { awsRequestId: randomUUID() }),
      sweep,
      remind,
      standIn,
      tableName: LOCAL_TABLE,
      dynamoDbEndpoint: db.endpoint,
      stackOutputs,
      ...(openIdProvider ? { openIdProvider } : {}),
      ...(slack ? { slack } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
