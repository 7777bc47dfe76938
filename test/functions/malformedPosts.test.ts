/**
 * Fuzzing at a LIVE pending link (a real request, its approver's real link), with everything that
 * cannot legitimately decide: other methods, cross-site requests, other media types, bodies whose decision
 * is not exactly "approve" or "reject" (or repeated, or with an over-long or non-text comment), broken
 * JSON, bodies in the wrong encoding, oversized bodies. Whatever arrives: a 4xx, no vote recorded, no Step
 * Functions call, no email. A legitimate vote on the same link afterwards decides, so the link was live.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { createHandler, dependenciesFromEnvironment } from "../../functions/decision/index";
import type { Transport } from "../../functions/decision/httpEvent";
import { createLogger } from "../../functions/shared/logger";
import { ALL_TRANSPORTS, EVENT_BUILDERS, type HttpCall } from "../support/events";
import { startHarness, type Harness, type RequestedApproval } from "../support/harness";

const RUNS_PER_TRANSPORT = 1_000;
/** The decision endpoint's body limit (DESIGN: 413 beyond it), written out. */
const BODY_LIMIT_BYTES = 16 * 1024;
const MEDIA_TYPES_THAT_DECIDE = new Set(["application/json", "application/x-www-form-urlencoded"]);
const mediaTypeOf = (contentType: string) => contentType.split(";")[0].trim().toLowerCase();
const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

const choice = fc.constantFrom("approve", "reject");
/** A well-formed body for either media type: what the page's form or a script sends. */
const goodBody = fc.tuple(choice, fc.string({ maxLength: 40 }), fc.constantFrom(FORM, JSON_TYPE)).map(([decision, comment, type]) => ({
  type,
  body: type === FORM ? new URLSearchParams({ decision, comment }).toString() : JSON.stringify({ decision, comment }),
}));
/** A decision value that is not exactly "approve" or "reject" (case, spaces, look-alikes, anything). */
const notAChoice = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("Approve", "APPROVE", " approve", "approve ", "approved", "reject\u200b", "аpprove", "yes", "true", "1", ""),
).filter((value) => value !== "approve" && value !== "reject");
const anyHeaders = fc.dictionary(fc.constantFrom("accept", "user-agent", "x-anything", "origin"), fc.string({ maxLength: 20 }), { maxKeys: 3 });

interface Malformed {
  kind: string;
  call: Omit<HttpCall, "path">;
  /** The event says `isBase64Encoded: true` of a body sent as plain text (no transport's builder makes that). */
  falseBase64Flag?: boolean;
}

/** Each generator makes calls (minus the path) that the contract says cannot decide. */
function malformedCalls(): fc.Arbitrary<Malformed> {
  const post = (kind: string, type: string | undefined, body: string | Buffer, extra: Record<string, string> = {}, base64?: boolean, falseBase64Flag = false) => ({
    kind,
    call: { method: "POST", headers: { ...(type === undefined ? {} : { "Content-Type": type }), ...extra }, body, ...(base64 === undefined ? {} : { base64 }) },
    falseBase64Flag,
  });
  const otherMethod = fc
    .tuple(fc.oneof(fc.constantFrom("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "POSTS", "PO ST", ""), fc.string({ maxLength: 8 })), goodBody)
    .filter(([method]) => !["POST", "GET", "HEAD"].includes(method.toUpperCase()))
    .map(([method, good]): Malformed => ({ kind: `method ${JSON.stringify(method)}`, call: { method, headers: { "Content-Type": good.type }, body: good.body } }));
  const crossSite = fc
    .tuple(fc.oneof(fc.constantFrom("cross-site", "same-site", "Same-Origin", "same-origin ", ""), fc.string({ maxLength: 12 })), goodBody)
    .filter(([site]) => site !== "same-origin" && site !== "none")
    .map(([site, good]) => post("cross-site", good.type, good.body, { "Sec-Fetch-Site": site }));
  const otherMediaType = fc
    .tuple(fc.oneof(fc.constantFrom("text/plain", "multipart/form-data; boundary=x", "application/xml", "application/jsonx", "application/x-www-form-urlencodedx", "json", ""), fc.string({ maxLength: 20 })), goodBody)
    .filter(([type]) => !MEDIA_TYPES_THAT_DECIDE.has(mediaTypeOf(type)))
    .map(([type, good]) => post("media type", type || undefined, good.body));
  const formWithoutAChoice = fc.tuple(notAChoice, fc.string({ maxLength: 20 })).map(([decision, comment]) => post("form decision", FORM, new URLSearchParams({ decision, comment }).toString()));
  const formRepeated = fc.tuple(choice, choice, fc.constantFrom("decision", "comment")).map(([first, second, field]) =>
    post("form repeat", FORM, field === "decision" ? `decision=${first}&decision=${second}` : `decision=${first}&comment=a&comment=b`),
  );
  const longComment = fc.tuple(choice, fc.constantFrom(FORM, JSON_TYPE), fc.integer({ min: 1_001, max: 3_000 })).map(([decision, type, length]) => {
    const comment = "x".repeat(length);
    return post("long comment", type, type === FORM ? new URLSearchParams({ decision, comment }).toString() : JSON.stringify({ decision, comment }));
  });
  const jsonWithoutAChoice = fc.oneof(
    fc.tuple(notAChoice, fc.anything()).map(([decision, comment]) => JSON.stringify({ decision, comment })),
    fc.tuple(choice, fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string()), fc.object())).map(([decision, comment]) => JSON.stringify({ decision, comment })),
    choice.map((decision) => JSON.stringify([{ decision }])),
    choice.map((decision) => JSON.stringify(decision)),
    fc.string().filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    }),
  ).map((body) => post("json", JSON_TYPE, body ?? "null"));
  const wrongEncoding = fc.tuple(goodBody, fc.constantFrom("utf16le", "base64-claimed", "base64-twice")).map(([good, encoding]) => {
    if (encoding === "utf16le") return post("utf-16 body", good.type, Buffer.from(good.body, "utf16le"));
    // Says base64 but is not (raw text), or is base64 of base64.
    if (encoding === "base64-claimed") return post("false base64 flag", good.type, good.body, {}, false, true);
    return post("base64 twice", good.type, Buffer.from(Buffer.from(good.body).toString("base64")), {}, true);
  });
  const oversized = fc.tuple(choice, fc.constantFrom(FORM, JSON_TYPE), fc.integer({ min: 1, max: 512 })).map(([decision, type, extra]) => {
    const body = type === FORM ? `decision=${decision}&comment=` : `{"decision":"${decision}","comment":"`;
    const filler = "y".repeat(BODY_LIMIT_BYTES - body.length + extra);
    return post("oversized", type, type === FORM ? body + filler : `${body}${filler}"}`);
  });
  const malformed = fc.oneof(otherMethod, crossSite, otherMediaType, formWithoutAChoice, formRepeated, longComment, jsonWithoutAChoice, wrongEncoding, oversized);
  // Any other headers a client may add change nothing (the generator's own headers win).
  return fc.tuple(malformed, anyHeaders).map(([one, extra]) => ({ ...one, call: { ...one.call, headers: { ...extra, ...one.call.headers } } }));
}

describe("malformed POSTs at a live pending link (fast-check)", function () {
  this.timeout(120_000);
  let harness: Harness;
  before(async () => (harness = await startHarness({ approverEmails: ["ann@example.com", "bob@example.com"], requiredApprovals: 2 })));
  after(async () => harness?.close());

  /** The decision handler as Lambda builds it from the harness's environment, fed the transport's event (tweaked for a false base64 flag). */
  let handler: ReturnType<typeof createHandler>;
  before(() => (handler = createHandler({ ...dependenciesFromEnvironment(harness.env), logger: createLogger({ service: "decision", write: () => undefined }) })));
  const send = (transport: Transport, { call, falseBase64Flag }: Malformed, path: string) => {
    const event = EVENT_BUILDERS[transport]({ ...call, path }) as { body?: string | null; isBase64Encoded?: boolean };
    if (falseBase64Flag) Object.assign(event, { body: String(call.body), isBase64Encoded: true });
    return handler(event);
  };

  const decidingCalls = () => ["SendTaskSuccess", "GetExecutionHistory", "DescribeExecution", "StopExecution", "Publish"].reduce((sum, operation) => sum + harness.calls(operation), 0);

  for (const transport of ALL_TRANSPORTS) {
    it(`${transport}: ${RUNS_PER_TRANSPORT} malformed requests: each a 4xx, no vote, no Step Functions call, no email; then a real vote counts`, async () => {
      const pending: RequestedApproval = await harness.requestApproval({ title: `Fuzzed over ${transport}` });
      const path = pending.links["ann@example.com"];
      const before = await harness.stored(pending.requestRef);
      assert.equal(before.status, "PENDING");
      const calls = decidingCalls();
      await fc.assert(
        fc.asyncProperty(malformedCalls(), async (malformed) => {
          const response = await send(transport, malformed, path);
          assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${malformed.kind}: status ${response.statusCode}`);
        }),
        { numRuns: RUNS_PER_TRANSPORT },
      );
      assert.equal(decidingCalls() - calls, 0, "no Step Functions call and no email");
      assert.deepEqual(await harness.stored(pending.requestRef), before, "the request is untouched: no vote");

      // The same link, a legitimate vote: recorded (so the link was live all along).
      const vote = await harness.call(transport, { method: "POST", path, headers: { "Content-Type": JSON_TYPE, Accept: JSON_TYPE }, body: JSON.stringify({ decision: "approve" }) });
      assert.equal(vote.statusCode, 200);
      assert.deepEqual((await harness.stored(pending.requestRef)).votes.map((recorded) => recorded.approver), ["ann@example.com"]);
    });
  }
});
