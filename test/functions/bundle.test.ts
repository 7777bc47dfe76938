import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bundleHandler, HANDLER_ENTRY_POINTS, type HandlerName } from "../../functions/bundle";
import { useFakeAwsCredentials } from "../support/aws";
import { EVENT_BUILDERS } from "../support/events";
import { startLocalDynamoDb } from "../../local/dynamoDb";

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

  it("produces a self-contained decision function that runs as Lambda would run it", async () => {
    useFakeAwsCredentials();
    const db = await startLocalDynamoDb();
    const directory = mkdtempSync(path.join(tmpdir(), "bundle-"));
    try {
      await db.createApprovalsTable("bundled");
      const file = path.join(directory, "index.js");
      writeFileSync(file, await bundleHandler("decision"));
      Object.assign(process.env, { TABLE_NAME: "bundled", AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, LOG_LEVEL: "ERROR" });
      // Loaded from a folder with no node_modules: every dependency must be inside the bundle.
      const bundled = require(file) as { handler: (event: unknown) => Promise<{ statusCode: number; body: string }> };
      const response = await bundled.handler(EVENT_BUILDERS.restApi({ method: "GET", path: `/requests/${"Q".repeat(32)}` }));
      assert.equal(response.statusCode, 404);
      assert.match(response.body, /Request not found/);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      delete process.env.LOG_LEVEL;
      rmSync(directory, { recursive: true, force: true });
      await db.close();
    }
  });
});
