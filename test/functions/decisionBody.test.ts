import { strict as assert } from "node:assert";
import { parseDecisionBody } from "../../functions/decision/decisionBody";
import type { HttpRequest } from "../../functions/decision/httpEvent";

function post(contentType: string | undefined, body: string): HttpRequest {
  return {
    transport: "functionUrl", method: "POST", path: "/requests/x", query: {}, body, bodyTooLarge: false,
    headers: contentType ? { "content-type": contentType } : {}, cookies: [], signInCallback: false, publicBaseUrl: "https://approvals.example.com",
  };
}

describe("parseDecisionBody", () => {
  it("reads the review page's form", () => {
    assert.deepEqual(parseDecisionBody(post("application/x-www-form-urlencoded", "decision=reject&comment=Not+today")), { ok: true, choice: "reject", comment: "Not today" });
  });

  it("reads JSON with a charset parameter", () => {
    assert.deepEqual(parseDecisionBody(post("application/json; charset=utf-8", '{"decision":"approve","comment":"LGTM"}')), { ok: true, choice: "approve", comment: "LGTM" });
  });

  it("treats a missing comment as empty and strips control characters but keeps newlines", () => {
    assert.deepEqual(parseDecisionBody(post("application/json", '{"decision":"approve"}')), { ok: true, choice: "approve", comment: "" });
    const parsed = parseDecisionBody(post("application/json", JSON.stringify({ decision: "approve", comment: "a\u0000b\nc\u001b" })));
    assert.deepEqual(parsed, { ok: true, choice: "approve", comment: "ab\nc" });
  });

  it("drops bidirectional overrides, zero-width and other invisible characters from a comment", () => {
    const comment = "ok\u202Etxt.exe\u200B \u2066hidden\u2069\uFEFF\u00AD\r\nnext\u2028line";
    assert.deepEqual(parseDecisionBody(post("application/json", JSON.stringify({ decision: "approve", comment }))), { ok: true, choice: "approve", comment: "oktxt.exe hidden\nnext\nline" });
  });

  const malformed: Array<[string, string, string]> = [
    ["an unknown decision", "application/json", '{"decision":"maybe"}'],
    ["a decision in the wrong case", "application/x-www-form-urlencoded", "decision=APPROVE"],
    ["no decision", "application/x-www-form-urlencoded", "comment=hi"],
    ["a repeated decision", "application/x-www-form-urlencoded", "decision=approve&decision=reject"],
    ["invalid JSON", "application/json", "{decision:approve"],
    ["a JSON array", "application/json", '["approve"]'],
    ["a comment that is not text", "application/json", '{"decision":"approve","comment":42}'],
    ["a comment over the limit", "application/json", JSON.stringify({ decision: "approve", comment: "x".repeat(1_000 + 1) })],
  ];
  for (const [what, type, body] of malformed) {
    it(`rejects ${what} as malformed`, () => {
      const parsed = parseDecisionBody(post(type, body));
      assert.equal(parsed.ok, false);
      assert.equal(!parsed.ok && parsed.problem, "malformed");
    });
  }

  it("accepts a comment of exactly the limit, counted in characters not bytes", () => {
    const comment = "é".repeat(1_000);
    assert.equal(parseDecisionBody(post("application/json", JSON.stringify({ decision: "approve", comment }))).ok, true);
  });

  it("refuses other media types", () => {
    for (const type of [undefined, "text/plain", "multipart/form-data; boundary=x"]) {
      const parsed = parseDecisionBody(post(type, "decision=approve"));
      assert.equal(!parsed.ok && parsed.problem, "unsupportedMediaType", String(type));
    }
  });
});
