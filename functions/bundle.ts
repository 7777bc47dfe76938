import { build, type Plugin } from "esbuild";
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

export interface BundleOptions {
  /**
   * Leave `@aws-sdk/*` out and use the copy in the Lambda runtime. Off by default:
   * README ("Why the AWS SDK is bundled") gives the measurements behind that choice.
   */
  externalAwsSdk?: boolean;
}

const PROJECT_ROOT = path.resolve(__dirname, "..");

/**
 * In the bundles, the SDK's default credential provider chain is the environment alone. In Lambda the
 * execution role's credentials are always in the environment, and awsClients.ts hands them to every
 * client, so the chain never runs there; but each client imports it, and with it the code for profiles,
 * SSO, web identity, the instance metadata service and their STS and SSO clients: about 100 KB that a
 * cold start would parse for nothing. (The local mode and the tests run the sources, with the full chain.)
 */
const environmentOnlyCredentialChain: Plugin = {
  name: "environment-only-credential-chain",
  setup(builder) {
    builder.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) => ({ path: args.path, namespace: "environment-only-credentials", pluginData: args.resolveDir }));
    builder.onLoad({ filter: /.*/, namespace: "environment-only-credentials" }, (args) => ({
      contents: 'import { fromEnv } from "@aws-sdk/credential-provider-env";\nexport const defaultProvider = (init = {}) => fromEnv(init);\n',
      loader: "js",
      resolveDir: args.pluginData as string,
    }));
  },
};

/**
 * Bundles one handler into a single CommonJS file, in memory (`write: false`).
 * Deterministic: paths are relative to the project root and nothing time- or
 * machine-dependent is embedded, so unchanged sources give identical bytes and
 * `pulumi preview` shows no spurious code diff.
 */
export async function bundleHandler(name: HandlerName, options: BundleOptions = {}): Promise<string> {
  return (await buildHandler(name, options, false)).code;
}

/** The same bundle with its source map (bench/profileBreakdown.ts maps a CPU profile back to the sources with it). */
export async function bundleHandlerWithSourceMap(name: HandlerName, options: BundleOptions = {}): Promise<{ code: string; sourceMap: string }> {
  const { code, sourceMap } = await buildHandler(name, options, true);
  return { code, sourceMap: sourceMap! };
}

async function buildHandler(name: HandlerName, options: BundleOptions, withSourceMap: boolean): Promise<{ code: string; sourceMap?: string }> {
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [HANDLER_ENTRY_POINTS[name]],
    bundle: true,
    write: false,
    platform: "node",
    // nodejs24.x in AWS; Node 20 on development machines runs the same bundle.
    target: "node20",
    format: "cjs",
    // ES module builds of the SDK tree-shake better than its CommonJS builds.
    mainFields: ["module", "main"],
    minify: true,
    legalComments: "none",
    charset: "utf8",
    // "external": the map is a file of its own and the code gets no comment, so it stays byte-identical.
    ...(withSourceMap ? { sourcemap: "external" as const, outfile: BUNDLE_FILE_NAME } : { sourcemap: false }),
    external: options.externalAwsSdk ? ["@aws-sdk/*"] : [],
    plugins: options.externalAwsSdk ? [] : [environmentOnlyCredentialChain],
    logLevel: "silent",
  });
  const code = result.outputFiles.find((file) => !file.path.endsWith(".map"))!.text;
  return { code, sourceMap: result.outputFiles.find((file) => file.path.endsWith(".map"))?.text };
}
