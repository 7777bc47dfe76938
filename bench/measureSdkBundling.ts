/**
 * Should the AWS SDK be bundled or taken from the Lambda runtime? Prints, for
 * both choices and both handlers, the bundle size and how long a fresh Node
 * process takes to load the handler (median and spread of repeated runs).
 *
 *   npx ts-node bench/measureSdkBundling.ts [runs]
 *
 * "external" resolves @aws-sdk/* from this project's node_modules, as the
 * runtime would from its own copy; its size counts only our code, so the
 * runtime's SDK files are loaded but not shipped.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { bundleHandler, HANDLER_ENTRY_POINTS, type HandlerName } from "../functions/bundle";
import { spread } from "./stats";

const runs = Number(process.argv[2] ?? 15);

function loadTimeMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

async function main() {
  // Inside the project so that the "external" variant resolves @aws-sdk from node_modules.
  const directory = mkdtempSync(path.join(__dirname, ".sdk-bundling-"));
  try {
    console.log(`node ${process.version}, ${runs} fresh processes each\n`);
    console.log("handler          variant    bytes      gzip     load median (min-max) ms");
    for (const name of Object.keys(HANDLER_ENTRY_POINTS) as HandlerName[]) {
      for (const externalAwsSdk of [false, true]) {
        const code = await bundleHandler(name, { externalAwsSdk });
        const file = path.join(directory, `${name}-${externalAwsSdk ? "external" : "bundled"}.js`);
        writeFileSync(file, code);
        loadTimeMs(file); // warm the file system cache once
        const load = spread(Array.from({ length: runs }, () => loadTimeMs(file)));
        console.log(
          `${name.padEnd(16)} ${(externalAwsSdk ? "external" : "bundled").padEnd(9)} ${String(code.length).padStart(8)} ${String(gzipSync(code).length).padStart(8)}     ${load.median.toFixed(1)} (${load.min.toFixed(1)}-${load.max.toFixed(1)})`,
        );
      }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
