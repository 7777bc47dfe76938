/** `npm start` options, parsed and validated without side effects. */
import { parseArgs } from "node:util";
import { TRANSPORTS, type Transport } from "../functions/decision/httpEvent";
import { MAX_APPROVAL_TIMEOUT_MINUTES } from "../stacks/config";

export interface CliOptions {
  transport: Transport;
  inputFile?: string;
  serve: boolean;
  approvalTimeoutSeconds: number;
  port: number;
  verbose: boolean;
  help: boolean;
}

/** A problem with what the user typed: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage: npm start -- [options]

Runs the approval workflow on this machine, without AWS: starts one execution,
prints the approval email, waits for your decision in the browser, and prints
the execution's path and output.

Options:
  --transport <name>       restApi, httpApi or functionUrl (default: Pulumi.dev.yaml's)
  --input <file.json>      execution input (default: a sample release approval)
  --timeout-minutes <n>    approval timeout; decimals allowed, e.g. 0.5 (default: 1440)
  --port <n>               port on 127.0.0.1 (default: 3000; 0 picks a free one)
  --serve                  keep running; start more executions with POST /executions
  --verbose                print the handlers' JSON log lines
  --help                   show this help`;

export function parseCliOptions(argv: string[], defaults: { transport: Transport }): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        transport: { type: "string" },
        input: { type: "string" },
        "timeout-minutes": { type: "string" },
        port: { type: "string" },
        serve: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see npm start -- --help)`);
  }

  const transport = values.transport ?? defaults.transport;
  if (!TRANSPORTS.includes(transport as Transport)) throw new UsageError(`--transport is "${transport}": use one of ${TRANSPORTS.join(", ")}.`);

  const minutes = Number(values["timeout-minutes"] ?? 1440);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_APPROVAL_TIMEOUT_MINUTES) {
    throw new UsageError(`--timeout-minutes is "${values["timeout-minutes"]}": use a number of minutes above 0 and at most ${MAX_APPROVAL_TIMEOUT_MINUTES}.`);
  }
  const port = Number(values.port ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port is "${values.port}": use a port number from 0 to 65535.`);

  return {
    transport: transport as Transport,
    inputFile: values.input,
    serve: values.serve ?? false,
    // TimeoutSeconds is a whole number of at least 1.
    approvalTimeoutSeconds: Math.max(1, Math.round(minutes * 60)),
    port,
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}

export const SAMPLE_INPUT = {
  title: "Deploy release 2026.11 to production",
  description: "The release passed staging. Approve to roll it out to production; reject to stop here.",
  details: { service: "checkout", version: "2026.11.0", changes: 42, requestedBy: "release pipeline" },
};
