#!/usr/bin/env node
// The `human-approval` command (package.json "bin"): runs cli/main.ts from source, so `npx human-approval`
// works in this repository and in an installed package without a build step. tsx (esbuild) only strips the
// types: fast, and a type error elsewhere in the project never stops a pipeline's approval gate. Its loader
// is scoped to this import: nothing else in the process is compiled.
"use strict";
const tsx = require("tsx/cjs/api");

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const { main } = tsx.require("./main.ts", __filename);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    // main() reports its own errors; this is only reached by a bug, and still prints one line.
    process.stderr.write(`human-approval: error: ${String((error && error.message) || error).split("\n")[0]}\n`);
    process.exitCode = 70; // EXIT.failure: never 1, which a pipeline could not tell from Node's own failures
  },
);
