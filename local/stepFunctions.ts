/**
 * Runs the deployed state machine definition with aws-local-stepfunctions,
 * with the "Request approval" task served by a local function.
 */

// aws-local-stepfunctions uses Promise.withResolvers (Node 22+); development machines run Node 20.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    },
  });
}

import { StateMachine } from "aws-local-stepfunctions";
import { STATE_NAMES, type StateMachineDefinition } from "../components/stateMachineDefinition";

export interface ExecutionOutcome {
  status: "SUCCEEDED" | "FAILED";
  /** Names of the states entered, in order. */
  path: string[];
  output?: unknown;
  error?: { name: string; cause: string };
}

export interface ExecutionContext {
  executionArn: string;
  executionName: string;
  stateMachineName: string;
  taskToken: string;
}

/** A Lambda task run locally: given the evaluated Parameters, returns the task's result. */
export type LocalTask = (parameters: { FunctionName: string; Payload: unknown }) => Promise<unknown>;

/** The definition's Lambda tasks: the waitForTaskToken one (invoke, then wait for the callback) and the expiry notice. */
export interface LocalTasks {
  requestApproval: LocalTask;
  notifyExpiry: LocalTask;
  verifyDecision: LocalTask;
}

export interface RunningExecution {
  outcome: Promise<ExecutionOutcome>;
  /** Stops the execution; its outcome becomes FAILED with ExecutionAborted. */
  abort(): void;
}

const machines = new WeakMap<StateMachineDefinition, StateMachine>();

export function runExecution(definition: StateMachineDefinition, input: unknown, context: ExecutionContext, tasks: LocalTasks): RunningExecution {
  // Building a machine validates the definition (a few hundred milliseconds of CPU): once per definition.
  let machine = machines.get(definition);
  if (!machine) machines.set(definition, (machine = new StateMachine(definition as never)));
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: { [STATE_NAMES.requestApproval]: tasks.requestApproval as never, [STATE_NAMES.notifyExpiry]: tasks.notifyExpiry as never, [STATE_NAMES.verifyDecision]: tasks.verifyDecision as never },
      // Keep the definition's retry counts, but not its multi-second pauses.
      retryIntervalOverrides: { [STATE_NAMES.requestApproval]: 20, [STATE_NAMES.notifyExpiry]: 20, [STATE_NAMES.verifyDecision]: 20 },
    },
    context: {
      Execution: { Id: context.executionArn, Name: context.executionName, Input: input },
      StateMachine: { Id: context.executionArn.replace(":execution:", ":stateMachine:").replace(/:[^:]+$/, ""), Name: context.stateMachineName },
      Task: { Token: context.taskToken },
    } as never,
  });
  const path: string[] = [];
  const collectPath = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<{ type: string; state?: { name: string } }>) {
      if (event.type === "StateEntered" && event.state) path.push(event.state.name);
    }
  })();
  const outcome = execution.result.then(
    async (output) => {
      await collectPath;
      return { status: "SUCCEEDED" as const, path, output };
    },
    async (error: Error & { cause?: unknown }) => {
      await collectPath.catch(() => undefined);
      return { status: "FAILED" as const, path, error: { name: error.name, cause: String(error.cause ?? error.message) } };
    },
  );
  return { outcome, abort: execution.abort };
}
