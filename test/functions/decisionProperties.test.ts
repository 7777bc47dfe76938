import { strict as assert } from "node:assert";
import fc from "fast-check";
import { createHandler, dependenciesFromEnvironment } from "../../functions/decision/index";
import { createLogger } from "../../functions/shared/logger";
import { ALL_TRANSPORTS, EVENT_BUILDERS, type HttpCall } from "../support/events";
import { startHarness, type Harness, type RequestedApproval } from "../support/harness";

/** The fuzz property's size, per transport (issue 14: 10,000 events per transport). */
const FUZZ_EVENTS_PER_TRANSPORT = 10_000;

/** Property tests: whatever arrives, the endpoint answers below 500 and decides nothing by accident. */
describe("decision handler properties (fast-check)", function () {
  this.timeout(120_000);
  let harness: Harness;
  let pending: RequestedApproval;
  before(async () => {
    harness = await startHarness();
    pending = await harness.requestApproval();
  });
  after(async () => harness.close());

  /** Every Step Functions operation the decision function could call. */
  const stepFunctionsCalls = () => ["SendTaskSuccess", "GetExecutionHistory", "DescribeExecution", "StopExecution"].reduce((sum, operation) => sum + harness.calls(operation), 0);

  const idLike = fc.stringMatching(/^[A-Za-z0-9_-]{32}$/);
  const anyPath = fc.oneof(fc.string(), idLike.map((id) => `/requests/${id}`), fc.string().map((s) => `/requests/${s}`));
  const headers = fc.dictionary(fc.constantFrom("content-type", "Content-Type", "accept", "sec-fetch-site", "user-agent", "x-anything"), fc.string(), { maxKeys: 4 });
  const contentType = fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/plain", "");
  const body = fc.oneof(fc.string(), fc.json(), fc.constant("decision=approve"), fc.constant('{"decision":"reject"}'));
  const method = fc.oneof(fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get"), fc.string({ maxLength: 8 }));
  const call = fc.record({
    method,
    path: anyPath,
    query: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.string()), { nil: undefined }),
    headers: fc.tuple(headers, contentType).map(([h, type]) => (type ? { ...h, "Content-Type": type } : h)),
    body: fc.option(body, { nil: undefined }),
    base64: fc.boolean(),
  });

  const assertSafe = (response: { statusCode: number }) => assert.ok(response.statusCode >= 200 && response.statusCode < 500, `status ${response.statusCode}`);

  for (const transport of ALL_TRANSPORTS) {
    it(`${transport}: ${FUZZ_EVENTS_PER_TRANSPORT} arbitrary well-shaped events never throw, never 5xx, never call Step Functions`, async () => {
      const before = stepFunctionsCalls();
      await fc.assert(
        fc.asyncProperty(call, async (httpCall) => {
          assertSafe(await harness.call(transport, httpCall as HttpCall));
        }),
        { numRuns: FUZZ_EVENTS_PER_TRANSPORT },
      );
      assert.equal(stepFunctionsCalls() - before, 0);
    });

    it(`${transport}: events with arbitrary junk in any field are answered, not thrown`, async () => {
      const before = stepFunctionsCalls();
      const base = EVENT_BUILDERS[transport]({ method: "POST", path: "/requests/x" }) as Record<string, unknown>;
      const handler = createHandler({ ...dependenciesFromEnvironment(harness.env), logger: createLogger({ service: "decision", write: () => undefined }) });
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...Object.keys(base)), fc.anything()), async (overrides) => {
          assertSafe(await handler({ ...base, ...overrides }));
        }),
        { numRuns: 300 },
      );
      assert.equal(stepFunctionsCalls() - before, 0);
    });

    it(`${transport}: any GET or HEAD of a live link, with any query and headers, leaves it pending and untouched`, async () => {
      const before = stepFunctionsCalls();
      const item = await harness.stored(pending.requestRef);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom("GET", "HEAD"), fc.dictionary(fc.string({ maxLength: 10 }), fc.string()), headers, async (verb, query, extra) => {
          const response = await harness.call(transport, { method: verb, path: pending.path, query, headers: extra });
          assert.equal(response.statusCode, 200);
        }),
        { numRuns: 300 },
      );
      assert.equal(stepFunctionsCalls() - before, 0);
      assert.deepEqual(await harness.stored(pending.requestRef), item);
    });
  }
});
