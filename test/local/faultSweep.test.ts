/**
 * The fault sweep: for the approve path with quorum 1 and with quorum 2, and for the reject path, every AWS
 * call the request and decision functions make is hit, one at a time, by each fault a real network or Lambda
 * has (the call applied but its reply lost; a hung connection; throttled; the function crashing right after
 * the call). A person who gets an error presses again once, as people do. Then the sweeper runs once (after
 * the delivery lease, which the test lets pass by ageing it in the table), and the invariants must hold:
 * - the workflow received exactly the decision the votes made, exactly once;
 * - the table says what the workflow received, and no approved or rejected request ends EXPIRED;
 * - every approver got the outcome notice at most once;
 * - the person who voted was told something true.
 * The calls are found by a run without faults (by phase: the request, then each vote with what follows it),
 * and a fault is aimed at the n-th call of an operation within its phase. The matrix is printed.
 *
 * To keep `npm test` short, the request function's calls (the same in every scenario) are swept in one
 * scenario with a lost reply and a crash, the votes' calls in all three with every fault, a hang (which costs
 * the client's whole timeout, one to three seconds) only at SendTaskSuccess; `npm run fault-sweep`
 * (FAULT_SWEEP=full) runs every cell. Executions for the vote cells are asked for in advance, in parallel.
 */
import { strict as assert } from "node:assert";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { STATE_NAMES } from "../../components/stateMachineDefinition";
import { requestRefFor, type ApprovalOutput, type ApprovalRequest, type Decision } from "../../functions/shared/approvalRequest";
import type { Fault } from "../../local/awsStandIn";
import { startLocalApprovals, type LocalApprovals, type LocalExecution } from "../../local/localApprovals";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";
const FAULTS: Fault[] = ["applyThenDropReply", "hang", "throttle", "crash"];
const FULL = process.env.FAULT_SWEEP === "full";
const OUTCOME_SUBJECT = /^(Approved|Rejected|Expired|Withdrawn|Closed):/;

interface Scenario {
  name: string;
  requiredApprovals: number;
  votes: Array<{ who: string; choice: "approve" | "reject" }>;
  expected: Decision;
}

const SCENARIOS: Scenario[] = [
  { name: "approve, quorum 1", requiredApprovals: 1, votes: [{ who: ALICE, choice: "approve" }], expected: "approved" },
  { name: "approve, quorum 2", requiredApprovals: 2, votes: [{ who: ALICE, choice: "approve" }, { who: BOB, choice: "approve" }], expected: "approved" },
  { name: "reject, quorum 2", requiredApprovals: 2, votes: [{ who: ALICE, choice: "reject" }], expected: "rejected" },
];

/** One AWS call of a flow: the phase it happens in, its operation, and which call of that operation in the phase. */
interface Call {
  phase: string;
  operation: string;
  nth: number;
}
const labelOf = (call: Call) => `${call.phase}: ${call.operation}#${call.nth}`;

interface Told {
  who: string;
  statusCode: number;
  status?: string;
  error?: string;
  decision?: string;
  message?: string;
  /** This voter had an error answer before (so "already recorded" is the truth). */
  pressedBefore: boolean;
}

async function press(url: string, who: string, choice: "approve" | "reject", pressedBefore: boolean): Promise<Told> {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify({ decision: choice, comment: "" }) });
  const text = await response.text();
  let body: Partial<Told> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // The local gateway's 502 for a crashed function is plain text.
  }
  return { who, statusCode: response.status, status: body.status, error: body.error, decision: body.decision, message: body.message, pressedBefore };
}

interface FlowResult {
  calls: Call[];
  problems: string[];
}

interface Prepared {
  execution: LocalExecution;
  links: Record<string, string>;
}

/** Executions whose approval emails went out, without faults: the vote cells start from these. */
async function prepare(local: LocalApprovals, scenario: Scenario, count: number): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  for (let start = 0; start < count; start += 10) {
    const batch = Array.from({ length: Math.min(10, count - start) }, () => local.startExecution({ title: `${scenario.name} (prepared)` }));
    for (const execution of batch) prepared.push({ execution, links: Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl])) });
  }
  return prepared;
}

/** Runs one flow with at most one fault, then the sweeper once, and checks the invariants. */
async function runFlow(local: LocalApprovals, documents: DynamoDBDocumentClient, scenario: Scenario, target?: Call & { fault: Fault }, prepared?: Prepared): Promise<FlowResult> {
  const { standIn } = local;
  standIn.faults.clear();
  const calls: Call[] = [];
  let phase = "";
  let phaseStart = standIn.callLog.length;
  const beginPhase = (name: string) => {
    endPhase();
    phase = name;
    phaseStart = standIn.callLog.length;
    if (target && target.phase === name) standIn.injectFaults(target.operation, ...Array<Fault>(target.nth - 1).fill("none"), target.fault);
  };
  const endPhase = () => {
    if (!phase) return;
    const counts = new Map<string, number>();
    for (const operation of standIn.callLog.slice(phaseStart)) {
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      calls.push({ phase, operation, nth: counts.get(operation)! });
    }
    phase = "";
  };

  let execution: LocalExecution;
  let links: Record<string, string>;
  if (prepared) ({ execution, links } = prepared);
  else {
    beginPhase("request");
    execution = local.startExecution({ title: `${scenario.name} ${target ? labelOf(target) + " " + target.fault : "(no fault)"}` });
    links = Object.fromEntries((await execution.emails).map((email) => [email.approver, email.reviewUrl]));
  }
  const requestRef = requestRefFor(execution.executionArn);
  const stored = async () => (await documents.send(new GetCommand({ TableName: local.tableName, Key: { id: requestRef }, ConsistentRead: true }))).Item as ApprovalRequest;
  const told: Told[] = [];
  for (const [index, { who, choice }] of scenario.votes.entries()) {
    beginPhase(`vote ${index + 1}`);
    let answer = await press(links[who], who, choice, false);
    // A person who gets an error (not "recorded, being delivered") presses again.
    if (answer.statusCode >= 500 && answer.error !== "delivery_pending") {
      told.push(answer);
      answer = await press(links[who], who, choice, true);
    }
    told.push(answer);
  }
  const settled = async () => ["APPROVED", "REJECTED"].includes((await stored()).status);
  // What follows the last vote (verification, the outcome notice) belongs to its phase.
  if (await settled()) await execution.outcome;
  endPhase();

  // One sweeper run, one interval later: a lease that still runs is aged as time would age it.
  const beforeSweep = await stored();
  if (beforeSweep.status === "SETTLING" && beforeSweep.settlement && Date.parse(beforeSweep.settlement.leaseUntil) > Date.now()) {
    await documents.send(new PutCommand({ TableName: local.tableName, Item: { ...beforeSweep, settlement: { ...beforeSweep.settlement, leaseUntil: new Date(Date.now() - 1).toISOString() }, version: beforeSweep.version + 1 } }));
  }
  standIn.faults.clear();
  await local.sweep().catch(() => undefined); // a failed sweep shows in the invariants below
  if (await settled()) await execution.outcome;

  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => void (ok || problems.push(problem));
  if (target) check((standIn.faults.get(target.operation) ?? []).length === 0, "the fault was not met");
  const item = await stored();
  const received = standIn.historyOf(execution.executionArn).filter((event) => event.type === "TaskSucceeded").map((event) => JSON.parse((event.taskSucceededEventDetails as { output: string }).output) as ApprovalOutput);
  check(received.length === 1, `the workflow received ${received.length} decisions`);
  check(received[0]?.decision === scenario.expected, `the workflow received ${received[0]?.decision ?? "nothing"}, the votes made ${scenario.expected}`);
  check(item.status === scenario.expected.toUpperCase(), `the table says ${item.status}`);
  check(JSON.stringify(item.settlement?.output) === JSON.stringify(received[0]), "the table's output is not what the workflow received");
  if (received.length === 1) {
    const outcome = await execution.outcome;
    check(outcome.status === "SUCCEEDED" && outcome.path.includes(scenario.expected === "approved" ? STATE_NAMES.approved : STATE_NAMES.rejected), `the execution ended ${outcome.status} via ${outcome.path.at(-1)}`);
  }
  const notices = new Map<string, number>();
  for (const email of execution.allEmails().filter((sent) => OUTCOME_SUBJECT.test(sent.subject))) for (const recipient of email.recipients) notices.set(recipient, (notices.get(recipient) ?? 0) + 1);
  for (const [recipient, count] of notices) check(count <= 1, `${recipient} got ${count} outcome notices`);
  check(![...execution.allEmails()].some((sent) => /^(Expired|Closed|Withdrawn):/.test(sent.subject)), "a notice said the request did not end as voted");
  for (const [index, answer] of told.entries()) {
    const what = `press ${index + 1} (${answer.who}, HTTP ${answer.statusCode})`;
    if (answer.statusCode >= 500) {
      // An error says nothing was settled for sure: true, and the person presses again (or is told it is on its way).
      check(answer.error === undefined || ["delivery_pending", "temporarily_unavailable", "internal_error"].includes(answer.error), `${what}: error ${answer.error}`);
      continue;
    }
    check(answer.statusCode === 200, `${what}: told ${answer.status}/${answer.error}`);
    check(["pending", "settling", scenario.expected].includes(answer.status ?? ""), `${what}: told the request is ${answer.status}`);
    check(answer.decision === undefined || answer.decision === scenario.expected, `${what}: told ${answer.decision}`);
    check(answer.pressedBefore || !/already recorded/i.test(answer.message ?? ""), `${what}: a first press told "already recorded"`);
    const settling = scenario.votes.at(-1)!.who === answer.who;
    check(!settling || answer.status !== "pending", `${what}: the settling vote told "pending"`);
  }
  return { calls, problems };
}

/** Whether a cell runs in this mode (see the top of the file). */
function runsCell(scenario: Scenario, call: Call, fault: Fault): boolean {
  if (FULL) return true;
  // Throttling of the request function's calls: test/local/manyApprovers.test.ts, at every call of 50 approvers.
  if (call.phase === "request") return scenario === SCENARIOS[1] && (fault === "applyThenDropReply" || fault === "crash");
  return fault !== "hang" || call.operation === "SendTaskSuccess";
}

describe("fault sweep: one fault at each AWS call of a flow, then one sweeper run", function () {
  this.timeout(FULL ? 1_800_000 : 300_000);
  const matrix: Array<{ scenario: string; call: string; results: Record<string, string> }> = [];
  let failures: string[] = [];

  for (const requiredApprovals of [1, 2]) {
    describe(`with quorum ${requiredApprovals}`, () => {
      let local: LocalApprovals;
      let documents: DynamoDBDocumentClient;
      before(async () => {
        local = await startLocalApprovals({ transport: "functionUrl", approvalTimeoutSeconds: 3600, approverEmails: [ALICE, BOB], requiredApprovals });
        documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: local.dynamoDbEndpoint, region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), { marshallOptions: { removeUndefinedValues: true } });
      });
      after(async () => {
        documents?.destroy();
        await local?.close();
      });

      for (const scenario of SCENARIOS.filter((candidate) => candidate.requiredApprovals === requiredApprovals)) {
        it(`${scenario.name}: every cell keeps the invariants`, async () => {
          const dry = await runFlow(local, documents, scenario);
          assert.deepEqual(dry.problems, [], "the flow without faults");
          const voteCells = dry.calls.filter((call) => call.phase !== "request").flatMap((call) => FAULTS.filter((fault) => runsCell(scenario, call, fault)));
          const prepared = await prepare(local, scenario, voteCells.length);
          for (const call of dry.calls) {
            const results: Record<string, string> = {};
            for (const fault of FAULTS) {
              if (!runsCell(scenario, call, fault)) {
                results[fault] = "-";
                continue;
              }
              const { problems } = await runFlow(local, documents, scenario, { ...call, fault }, call.phase === "request" ? undefined : prepared.pop());
              results[fault] = problems.length === 0 ? "ok" : "FAIL";
              failures.push(...problems.map((problem) => `${scenario.name} | ${labelOf(call)} | ${fault}: ${problem}`));
            }
            matrix.push({ scenario: scenario.name, call: labelOf(call), results });
          }
          assert.deepEqual(failures, [], "every cell keeps the invariants");
        });
      }
    });
  }

  after(() => {
    const width = Math.max(...matrix.map((row) => row.scenario.length + row.call.length + 3), 10);
    const lines = [`${"scenario | call".padEnd(width)}  ${FAULTS.map((fault) => fault.padEnd(18)).join("")}`];
    for (const row of matrix) lines.push(`${`${row.scenario} | ${row.call}`.padEnd(width)}  ${FAULTS.map((fault) => row.results[fault].padEnd(18)).join("")}`);
    const cells = matrix.flatMap((row) => Object.values(row.results)).filter((result) => result !== "-");
    lines.push(`${cells.length} cells, ${cells.filter((result) => result === "ok").length} ok${FULL ? "" : " (- : run by npm run fault-sweep only)"}`);
    console.log(`\n${lines.join("\n")}\n`);
    failures = [];
  });
});
