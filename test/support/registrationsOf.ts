/**
 * Prints, as JSON, what the stand-alone program (index.ts) registers for one stack config under the mocks:
 * each resource's engine URN, alias URNs, protect and retainOnDelete. Run in a child process (the mocks and
 * the program are per process):
 *
 *   node -r ts-node/register/transpile-only test/support/registrationsOf.ts <stack> '<config JSON>' ['<secret keys JSON>']
 *
 * Used to snapshot the URNs deployed stacks have (test/infrastructure/fixtures/) and to check that a later
 * program still answers to every one of them.
 */
import { registrations, settled, useMocks, valueOf } from "./pulumiMocks";

async function main(stack: string, config: Record<string, string>, secretKeys: string[]) {
  useMocks(stack, config, secretKeys);
  const program = await import("../../index");
  await valueOf(program.stateMachineArn);
  await settled();
  return [...registrations].sort((a, b) => a.urn.localeCompare(b.urn));
}

main(process.argv[2], JSON.parse(process.argv[3]), JSON.parse(process.argv[4] ?? "[]")).then(
  (result) => process.stdout.write(JSON.stringify(result, null, 1), () => process.exit(0)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
