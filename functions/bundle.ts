import { build } from "esbuild";
import * as path from "node:path";

/** The Lambda handlers this project ships, by name. */
export const HANDLER_ENTRY_POINTS = {
  requestApproval: "functions/requestApproval/index.ts",
  decision: "functions/decision/index.ts",
} as const;
export type HandlerName = keyof typeof HANDLER_ENTRY_POINTS;

/** The file inside the archive; the Lambda handler setting is `index.handler`. */
export const BUNDLE_FILE_NAME = "index.js";
export const LAMBDA_HANDLER = "index.handler";

const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * Bundles one handler into a single CommonJS file, in memory (`write: false`).
 * Deterministic: paths are relative to the project root and nothing time- or
 * machine-dependent is embedded, so unchanged sources give identical bytes and
 * `pulumi preview` shows no spurious code diff.
 */
export async function bundleHandler(name: HandlerName): Promise<string> {
  return (await buildHandler(name, false)).code;
}

/** The same bundle with its source map (bench/profileBreakdown.ts maps a CPU profile back to the sources with it). */
export async function bundleHandlerWithSourceMap(name: HandlerName): Promise<{ code: string; sourceMap: string }> {
  const { code, sourceMap } = await buildHandler(name, true);
  return { code, sourceMap: sourceMap! };
}

/** The files that put code into the bundle, relative to the project root: what a cold start compiles. */
export async function bundledSources(name: HandlerName): Promise<string[]> {
  return (await buildHandler(name, false)).sources;
}

async function buildHandler(name: HandlerName, withSourceMap: boolean): Promise<{ code: string; sourceMap?: string; sources: string[] }> {
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [HANDLER_ENTRY_POINTS[name]],
    bundle: true,
    write: false,
    platform: "node",
    // nodejs24.x in AWS; Node 20 on development machines runs the same bundle.
    target: "node20",
    format: "cjs",
    // ES module builds of the SDK packages (the signer, the marshaller) tree-shake better than their CommonJS builds.
    mainFields: ["module", "main"],
    minify: true,
    legalComments: "none",
    charset: "utf8",
    // "external": the map is a file of its own and the code gets no comment, so it stays byte-identical.
    ...(withSourceMap ? { sourcemap: "external" as const, outfile: BUNDLE_FILE_NAME } : { sourcemap: false }),
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles.find((file) => !file.path.endsWith(".map"))!.text;
  const sources = Object.values(result.metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([file]) => file));
  return { code, sourceMap: result.outputFiles.find((file) => file.path.endsWith(".map"))?.text, sources };
}
