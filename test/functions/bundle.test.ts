import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bundledSources, bundleHandler, HANDLER_ENTRY_POINTS, type HandlerName } from "../../functions/bundle";
import { EVENT_BUILDERS, formPost } from "../support/events";
import { executionArnOf, fakeTaskToken, linkPathIn, startHarness, uniqueExecutionName } from "../support/harness";

describe("bundleHandler (esbuild)", function () {
  this.timeout(60_000);
  const names = Object.keys(HANDLER_ENTRY_POINTS) as HandlerName[];

  for (const name of names) {
    it(`${name}: bundling the same sources twice gives identical bytes, free of machine paths`, async () => {
      const [first, second] = [await bundleHandler(name), await bundleHandler(name)];
      assert.equal(first, second);
      assert.ok(first.length > 1000);
      assert.ok(!first.includes(path.resolve(__dirname, "../..")), "no absolute path of this machine");
    });
  }

  // A cold start compiles and runs what is in the bundle: the functions sign their AWS calls themselves
  // (functions/shared/awsApi.ts), so no SDK client, middleware stack or credential chain belongs there.
  const SHIPPED_PACKAGES: Record<HandlerName, string[]> = {
    requestApproval: ["@smithy/signature-v4", "@smithy/core", "@aws-sdk/util-dynamodb"],
    decision: ["@smithy/signature-v4", "@smithy/core", "@aws-sdk/util-dynamodb", "oauth4webapi"],
  };
  for (const name of names) {
    it(`${name}: carries no AWS SDK client, only the SDK's signer and DynamoDB marshaller${name === "decision" ? " (and the OpenID client)" : ""}`, async () => {
      const packages = new Set((await bundledSources(name)).map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1]).filter((found) => found !== undefined));
      assert.deepEqual([...packages].sort(), [...SHIPPED_PACKAGES[name]].sort());
    });
  }

  it("produces self-contained functions that run a whole approval as Lambda would run them", async () => {
    const harness = await startHarness();
    const directory = mkdtempSync(path.join(tmpdir(), "bundle-"));
    const environment = { ...harness.env, LOG_LEVEL: "ERROR" };
    const previous = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
    try {
      Object.assign(process.env, environment);
      // Loaded from a folder with no node_modules: every dependency must be inside the bundle.
      const load = async (name: HandlerName) => {
        const file = path.join(directory, `${name}.js`);
        writeFileSync(file, await bundleHandler(name));
        return require(file) as { handler: (event: unknown, context?: unknown) => Promise<{ statusCode: number; body: string }> };
      };
      const [requesting, deciding] = [await load("requestApproval"), await load("decision")];

      const executionName = uniqueExecutionName("bundled");
      const executionArn = executionArnOf(executionName);
      const taskToken = fakeTaskToken();
      harness.standIn.startExecution(executionArn, {});
      const received = harness.standIn.waitForTaskToken(taskToken, executionArn);
      await requesting.handler({ taskToken, execution: { id: executionArn, name: executionName }, stateMachine: { name: "release" }, input: { title: "Bundled" } });
      const link = linkPathIn(harness.standIn.emails.at(-1)!)!;

      const unknown = await deciding.handler(EVENT_BUILDERS.restApi({ method: "GET", path: `/requests/${"Q".repeat(32)}` }));
      assert.equal(unknown.statusCode, 404);
      assert.match(unknown.body, /Request not found/);
      assert.equal((await deciding.handler(EVENT_BUILDERS.restApi({ method: "GET", path: link }))).statusCode, 200);
      assert.equal((await deciding.handler(EVENT_BUILDERS.restApi(formPost(link, { decision: "approve" })))).statusCode, 200);
      assert.equal(JSON.parse(await received).decision, "approved");
    } finally {
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(directory, { recursive: true, force: true });
      await harness.close();
    }
  });
});
