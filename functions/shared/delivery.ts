/**
 * Telling the workflow, exactly once and truthfully. SendTaskSuccess may be applied while its reply
 * is lost (the SDK then retries and Step Functions answers TaskTimedOut), may hang, or be throttled.
 * Whenever its outcome is not a plain success, the execution's own history says what the waiting
 * task received; the person is told that, and the table records that.
 */
import type { ApprovalOutput, ApprovalRequest } from "./approvalRequest";
import { awsApi, STEP_FUNCTIONS, type AwsApi } from "./awsApi";
import { STEP_FUNCTIONS_BUDGET } from "./awsClients";
import type { DeliveryReport } from "./lifecycle";
import { describeError, type Logger } from "./logger";

/** The events of an execution's history this needs (the SDK's HistoryEvent has these fields). */
export interface WorkflowHistoryEvent {
  type?: string;
  taskSucceededEventDetails?: { resource?: string; output?: string };
  taskTimedOutEventDetails?: { resource?: string };
}

export interface Workflow {
  /** The only place the task token is used. */
  sendTaskSuccess(taskToken: string, output: ApprovalOutput): Promise<void>;
  /** The execution's events, newest first (GetExecutionHistory, reverseOrder, bounded pages). */
  history(executionArn: string): Promise<WorkflowHistoryEvent[]>;
}

/** Our state machine writes a few dozen events per execution; more pages than this means something else is wrong. */
const MAX_HISTORY_PAGES = 3;

/** The workflow over Step Functions' API: the decision function's and the sweeper's (request function). */
export function stepFunctionsWorkflow(stepFunctions: AwsApi = awsApi(STEP_FUNCTIONS, STEP_FUNCTIONS_BUDGET)): Workflow {
  return {
    sendTaskSuccess: async (taskToken, output) => {
      await stepFunctions.json("SendTaskSuccess", { taskToken, output: JSON.stringify(output) });
    },
    history: async (executionArn) => {
      const events: WorkflowHistoryEvent[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
        const result = await stepFunctions.json<{ events?: WorkflowHistoryEvent[]; nextToken?: string }>("GetExecutionHistory", { executionArn, reverseOrder: true, includeExecutionData: true, maxResults: 1000, ...(nextToken ? { nextToken } : {}) });
        events.push(...(result.events ?? []));
        nextToken = result.nextToken;
        if (!nextToken) break;
      }
      return events;
    },
  };
}

/** Answers that mean the stored token can never be answered (as opposed to a timeout, which history explains). */
const PERMANENT_TOKEN_ERRORS = new Set(["TaskDoesNotExist", "InvalidToken"]);

/** The waitForTaskToken task: its events carry this resource name. */
const WAITING_TASK_RESOURCE = "invoke.waitForTaskToken";
const EXECUTION_END_EVENTS: Record<string, string> = {
  ExecutionAborted: "ABORTED",
  ExecutionFailed: "FAILED",
  ExecutionTimedOut: "TIMED_OUT",
  ExecutionSucceeded: "SUCCEEDED",
};

function parseOutput(text: string | undefined): ApprovalOutput | undefined {
  try {
    const value = JSON.parse(text ?? "");
    return value && typeof value === "object" && typeof value.decision === "string" ? (value as ApprovalOutput) : undefined;
  } catch {
    return undefined;
  }
}

/** What the waiting task received, read from the history; undefined while it still waits. */
export function receivedFromHistory(events: WorkflowHistoryEvent[], requestRef: string): DeliveryReport | undefined {
  const succeeded = events.find((event) => event.type === "TaskSucceeded" && event.taskSucceededEventDetails?.resource === WAITING_TASK_RESOURCE);
  const output = parseOutput(succeeded?.taskSucceededEventDetails?.output);
  if (succeeded && output) {
    // Normally our own recorded output; if someone else answered the task with the token, theirs is still the truth.
    return { type: "delivered", output };
  }
  if (events.some((event) => event.type === "TaskTimedOut" && event.taskTimedOutEventDetails?.resource === WAITING_TASK_RESOURCE)) return { type: "taskTimedOut" };
  const ended = events.find((event) => event.type !== undefined && event.type in EXECUTION_END_EVENTS);
  if (ended) return { type: "executionEnded", executionStatus: EXECUTION_END_EVENTS[ended.type!] };
  return undefined;
}

/** Sends the recorded output; on anything but a plain success, asks the execution what it received. */
export async function deliver(workflow: Workflow, request: ApprovalRequest, output: ApprovalOutput, logger: Logger): Promise<DeliveryReport> {
  try {
    await workflow.sendTaskSuccess(request.taskToken, output);
    return { type: "delivered", output };
  } catch (sendError) {
    logger.warn("SendTaskSuccess did not confirm; checking the execution", { requestRef: request.id, ...describeError(sendError) });
    let events: WorkflowHistoryEvent[];
    try {
      events = await workflow.history(request.executionArn);
    } catch (historyError) {
      logger.warn("Execution history unavailable", { requestRef: request.id, ...describeError(historyError) });
      return { type: "notDelivered", reason: "The workflow could not be reached to confirm the decision." };
    }
    const received = receivedFromHistory(events, request.id);
    if (received) logger.info("Execution history settles the delivery", { requestRef: request.id, report: received.type });
    if (received) return received;
    // The execution still waits, but Step Functions says this token can never be answered: retrying cannot help.
    const errorName = describeError(sendError).errorName;
    if (PERMANENT_TOKEN_ERRORS.has(String(errorName))) return { type: "taskGone", reason: `Step Functions no longer accepts this request's task token (${errorName}); the decision cannot reach the workflow.` };
    return { type: "notDelivered", reason: `The workflow did not take the decision yet (${errorName}).` };
  }
}
