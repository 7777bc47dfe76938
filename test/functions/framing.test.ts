import { strict as assert } from "node:assert";
import type { Transport } from "../../functions/decision/httpEvent";
import { ALL_TRANSPORTS, formPost, jsonPost, type HttpCall } from "../support/events";
import { APPROVAL_TIMEOUT_SECONDS, headingOf, startHarness, type Harness } from "../support/harness";

/**
 * The framing and sniffing headers on every answer of the real decision handler, per transport and page state.
 * X-Frame-Options and CSP frame-ancestors are the only defence against clickjacking: a click inside a framed
 * review page arrives as Sec-Fetch-Site: same-origin, which the cross-site check lets through.
 */
function assertFramingHeaders(response: { statusCode: number; headers: Record<string, string> }, what: string): void {
  const label = `${what} (${response.statusCode})`;
  assert.equal(response.headers["X-Frame-Options"], "DENY", label);
  assert.equal(response.headers["X-Content-Type-Options"], "nosniff", label);
  const directives = (response.headers["Content-Security-Policy"] ?? "").split(";").map((directive) => directive.trim());
  assert.ok(directives.includes("frame-ancestors 'none'"), `${label}: ${directives.join("; ")}`);
  assert.ok(directives.includes("base-uri 'none'"), `${label}: ${directives.join("; ")}`);
  assert.ok(directives.includes("default-src 'none'"), label);
}

describe("framing and sniffing headers on every page (real decision handler, every transport)", function () {
  let harness: Harness;
  before(async () => (harness = await startHarness()));
  after(async () => harness.close());

  for (const transport of ALL_TRANSPORTS) {
    describe(`over ${transport}`, () => {
      const call = (request: HttpCall) => harness.call(transport as Transport, request);

      it("GET and HEAD review, POST result, 409 and JSON answers", async () => {
        const approval = await harness.requestApproval();
        const review = await call({ method: "GET", path: approval.path });
        assert.equal(review.statusCode, 200);
        assert.match(review.body, /<form/, "the pending review page with its buttons");
        assertFramingHeaders(review, "GET review");
        assertFramingHeaders(await call({ method: "HEAD", path: approval.path }), "HEAD review");
        assertFramingHeaders(await call({ method: "GET", path: approval.path, headers: { Accept: "application/json" } }), "GET JSON");
        const result = await call(formPost(approval.path, { decision: "approve" }));
        assert.equal(result.statusCode, 200);
        assert.equal(headingOf(result), "Approved");
        assertFramingHeaders(result, "POST result");
        const conflict = await call(formPost(approval.path, { decision: "reject" }));
        assert.equal(conflict.statusCode, 409);
        assertFramingHeaders(conflict, "409");
        const conflictJson = await call(jsonPost(approval.path, { decision: "reject" }));
        assert.equal(conflictJson.statusCode, 409);
        assertFramingHeaders(conflictJson, "409 JSON");
        const settled = await call({ method: "GET", path: approval.path });
        assert.equal(headingOf(settled), "Approved");
        assertFramingHeaders(settled, "GET settled");
      });

      it("404, 403, 400, 405 and 415", async () => {
        const approval = await harness.requestApproval();
        const notFound = await call({ method: "GET", path: `/requests/${"Z".repeat(32)}` });
        assert.equal(notFound.statusCode, 404);
        assertFramingHeaders(notFound, "404");
        const otherPath = await call({ method: "GET", path: "/" });
        assert.equal(otherPath.statusCode, 404);
        assertFramingHeaders(otherPath, "404 other path");
        const crossSite = await call(formPost(approval.path, { decision: "approve" }, { "Sec-Fetch-Site": "cross-site" }));
        assert.equal(crossSite.statusCode, 403);
        assertFramingHeaders(crossSite, "403");
        const malformed = await call(jsonPost(approval.path, { decision: "yes" }));
        assert.equal(malformed.statusCode, 400);
        assertFramingHeaders(malformed, "400");
        const method = await call({ method: "PUT", path: approval.path });
        assert.equal(method.statusCode, 405);
        assertFramingHeaders(method, "405");
        const media = await call({ method: "POST", path: approval.path, headers: { "Content-Type": "text/plain" }, body: "approve" });
        assert.equal(media.statusCode, 415);
        assertFramingHeaders(media, "415");
      });

      it("410 on GET and POST", async () => {
        const approval = await harness.requestApproval();
        harness.clock.advanceSeconds(APPROVAL_TIMEOUT_SECONDS);
        try {
          const view = await call({ method: "GET", path: approval.path });
          assert.equal(view.statusCode, 410);
          assertFramingHeaders(view, "410 GET");
          const post = await call(formPost(approval.path, { decision: "approve" }));
          assert.equal(post.statusCode, 410);
          assertFramingHeaders(post, "410 POST");
        } finally {
          harness.clock.advanceSeconds(-APPROVAL_TIMEOUT_SECONDS);
        }
      });
    });
  }
});
