import { strict as assert } from "node:assert";
import type { Transport } from "../../functions/decision/httpEvent";
import { ALL_TRANSPORTS, formPost, jsonPost, type HttpCall } from "../support/events";
import { jsonOf, leadOf, startHarness, type Harness } from "../support/harness";

/** The decision body limit, written out: 16 KiB (a decision form or JSON body is a few hundred bytes). */
const LIMIT_BYTES = 16384;

/** An oversized POST through the real decision handler, on every transport, with each transport's own encoding. */
describe("an oversized POST gets 413 and decides nothing (real decision handler, every transport)", function () {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());

  for (const transport of ALL_TRANSPORTS) {
    it(`over ${transport}: form and JSON bodies one byte over the limit, plain and base64-encoded`, async () => {
      const approval = await harness.requestApproval();
      const before = await harness.stored(approval.requestRef);
      const sendTaskSuccess = harness.counter("SendTaskSuccess");
      const call = (request: HttpCall) => harness.call(transport as Transport, request);

      const form = formPost(approval.path, { decision: "approve", comment: "" });
      form.body = `${form.body}${"x".repeat(LIMIT_BYTES + 1 - Buffer.byteLength(form.body!))}`;
      assert.equal(Buffer.byteLength(form.body), LIMIT_BYTES + 1);
      const json = jsonPost(approval.path, { decision: "approve", comment: "" });
      json.body = `${json.body} ${" ".repeat(LIMIT_BYTES - Buffer.byteLength(json.body!))}`; // still valid JSON, one byte over
      assert.equal(Buffer.byteLength(json.body), LIMIT_BYTES + 1);

      for (const [what, request] of [["form", form], ["JSON", json], ["form, base64", { ...form, base64: true }], ["JSON, base64", { ...json, base64: true }]] as const) {
        const response = await call(request);
        assert.equal(response.statusCode, 413, what);
        if (what.startsWith("JSON")) assert.equal(jsonOf(response).error, "invalid_request", what);
        else assert.match(leadOf(response), /Shorten the comment/, what);
      }
      assert.equal(sendTaskSuccess(), 0);
      assert.deepEqual(await harness.stored(approval.requestRef), before, "nothing was recorded");
      assert.equal(approval.deliveries(), 0);

      // At the limit the body is read: the JSON decision is whitespace-padded and valid, so it decides.
      const atLimit = jsonPost(approval.path, { decision: "approve" });
      atLimit.body = `${atLimit.body}${" ".repeat(LIMIT_BYTES - Buffer.byteLength(atLimit.body!))}`;
      const decided = await call(atLimit);
      assert.equal(decided.statusCode, 200, "a body of exactly the limit is accepted");
      assert.equal(jsonOf(decided).decision, "approved");
    });
  }
});
