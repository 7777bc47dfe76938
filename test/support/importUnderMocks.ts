/**
 * Imports one module under the mocks, in a child process of its own (mocks and the module cache are per
 * process), and prints as JSON what the import did: the resources it declared and the names it exports.
 *
 *   node -r ts-node/register/transpile-only test/support/importUnderMocks.ts <module path> ['<config JSON>']
 */
import * as path from "node:path";
import { declared, settled, useMocks } from "./pulumiMocks";

async function main(modulePath: string, config: Record<string, string>) {
  useMocks("dev", config);
  const exported = await import(path.resolve(modulePath));
  await settled();
  return { declared: declared.map((resource) => `${resource.type}::${resource.name}`), exports: Object.keys(exported).sort() };
}

main(process.argv[2], JSON.parse(process.argv[3] ?? "{}")).then(
  (result) => process.stdout.write(JSON.stringify(result), () => process.exit(0)),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
