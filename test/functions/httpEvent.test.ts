import { strict as assert } from "node:assert";
import { normaliseHttpEvent, wantsJson, type HttpRequest } from "../../functions/decision/httpEvent";
import { ALL_TRANSPORTS, EVENT_BUILDERS } from "../support/events";

const ID = "A".repeat(32);

function normalised(event: unknown): HttpRequest {
  const result = normaliseHttpEvent(event);
  assert.ok(result.ok, "expected the event to be recognised");
  return result.request;
}

describe("normaliseHttpEvent", () => {
  for (const transport of ALL_TRANSPORTS) {
    describe(`${transport} events`, () => {
      const build = EVENT_BUILDERS[transport];

      it("recognises the transport, method, link id, query and source address", () => {
        const request = normalised(build({ method: "GET", path: `/requests/${ID}`, query: { choice: "approve" }, sourceIp: "198.51.100.4" }));
        assert.equal(request.transport, transport);
        assert.equal(request.method, "GET");
        assert.equal(request.linkId, ID);
        assert.equal(request.query.choice, "approve");
        assert.equal(request.sourceIp, "198.51.100.4");
        assert.ok(request.gatewayRequestId);
      });

      it("lower-cases header names", () => {
        const request = normalised(build({ method: "GET", path: `/requests/${ID}`, headers: { "Content-Type": "text/plain", ACCEPT: "application/json" } }));
        assert.equal(request.headers["content-type"], "text/plain");
        assert.equal(request.headers.accept, "application/json");
      });

      it("decodes plain and base64-encoded bodies to the same text", () => {
        const body = "decision=approve&comment=%C3%A9t%C3%A9";
        const plain = normalised(build({ method: "POST", path: `/requests/${ID}`, body, base64: false }));
        const encoded = normalised(build({ method: "POST", path: `/requests/${ID}`, body, base64: true }));
        assert.equal(plain.body, body);
        assert.equal(encoded.body, body);
      });

      it("follows the transport's own base64 rule for a form post", () => {
        const event = build({ method: "POST", path: `/requests/${ID}`, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "decision=approve" }) as { isBase64Encoded: boolean };
        assert.equal(event.isBase64Encoded, transport !== "restApi");
        assert.equal(normalised(event).body, "decision=approve");
      });

      it("flags a body over the limit instead of decoding it", () => {
        const request = normalised(build({ method: "POST", path: `/requests/${ID}`, body: "x".repeat(16 * 1024 + 1) /* one byte over the 16 KiB limit */, base64: true }));
        assert.equal(request.bodyTooLarge, true);
        assert.equal(request.body, "");
      });

      it("has no link id for a path that is not /requests/{id}", () => {
        assert.equal(normalised(build({ method: "GET", path: "/favicon.ico" })).linkId, undefined);
      });
    });
  }

  it("tells a Function URL from an HTTP API by the $default route key", () => {
    assert.equal(normalised(EVENT_BUILDERS.functionUrl({ method: "GET", path: "/" })).transport, "functionUrl");
    assert.equal(normalised(EVENT_BUILDERS.httpApi({ method: "GET", path: `/requests/${ID}` })).transport, "httpApi");
  });

  it("rejects events that are not HTTP events", () => {
    for (const event of [null, undefined, 42, "GET /", [], {}, { version: "2.0" }, { Records: [] }]) {
      assert.equal(normaliseHttpEvent(event).ok, false, JSON.stringify(event));
    }
  });

  it("ignores header and query values that are not strings", () => {
    const request = normalised({ httpMethod: "GET", path: `/requests/${ID}`, headers: { accept: 5, host: "h" }, queryStringParameters: { choice: ["approve"] } });
    assert.equal(request.headers.accept, undefined);
    assert.equal(request.headers.host, "h");
    assert.equal(request.query.choice, undefined);
  });
});

describe("wantsJson", () => {
  const withAccept = (accept: string) => normalised(EVENT_BUILDERS.httpApi({ method: "GET", path: `/requests/${ID}`, headers: { Accept: accept } }));
  it("is true for scripts that ask for JSON", () => assert.equal(wantsJson(withAccept("application/json")), true));
  it("is false for browsers", () => assert.equal(wantsJson(withAccept("text/html,application/xhtml+xml,application/json;q=0.9")), false));
  it("is false without an Accept header", () => assert.equal(wantsJson(normalised(EVENT_BUILDERS.restApi({ method: "GET", path: "/" }))), false));
});
