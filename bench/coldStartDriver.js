// Runs in a fresh Node process, as a Lambda cold start would: load one handler, serve one
// invocation, report on stderr "COLD <ms> <status> <total ms>": the milliseconds from `require` to the
// answer, then from the process's start (performance.now()'s origin, Node's own boot included) to the
// answer. Plain JavaScript on purpose: nothing but the handler itself is loaded or compiled inside the
// measured interval.
"use strict";
const [file, exportName, style, eventJson] = process.argv.slice(2);
const event = JSON.parse(eventJson);
const context = { awsRequestId: "cold-start", invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:bench" };
const started = process.hrtime.bigint();
const handler = require(file)[exportName];
const invocation =
  style === "callback"
    ? new Promise((resolve, reject) => handler(event, context, (error, result) => (error ? reject(error) : resolve(result))))
    : Promise.resolve(handler(event, context));
invocation.then(
  (result) => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const total = performance.now();
    const status = result && typeof result === "object" && "statusCode" in result ? result.statusCode : "ok";
    process.stderr.write(`COLD ${ms} ${status} ${total}\n`, () => process.exit(0));
  },
  (error) => {
    process.stderr.write(`FAILED ${error && (error.name || error.message)}\n`, () => process.exit(1));
  },
);
