import { strict as assert } from "node:assert";
import { inputDigest } from "../../functions/requestApproval/summary";
import { canonicalJson } from "../../functions/shared/canonicalJson";

/**
 * Known-answer vectors for the canonical JSON and the input digest the workflow receives. The canonical
 * texts are written by hand and their SHA-256 digests were computed independently of this code
 * (python3 hashlib over the UTF-8 bytes of each text), so a change to either function fails here.
 */
const VECTORS: { name: string; input: unknown; canonical: string; digest: string }[] = [
  {
    name: "keys sorted",
    input: { b: 1, a: 2 },
    canonical: '{"a":2,"b":1}',
    digest: "sha256:d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772",
  },
  {
    name: "keys sorted at every depth, array order kept",
    input: { z: { y: true, x: [{ d: 1, c: 2 }, 3, "s"] }, a: null },
    canonical: '{"a":null,"z":{"x":[{"c":2,"d":1},3,"s"],"y":true}}',
    digest: "sha256:fb1d30cc072e4a770d2bcbca6c2f959843193441dd8670e6c657097513c32c87",
  },
  {
    name: "the default request",
    input: { title: "Deploy release 42", details: { version: "42" } },
    canonical: '{"details":{"version":"42"},"title":"Deploy release 42"}',
    digest: "sha256:f84ff46b07256eca3bb5581c96de7abdeb10aefe41b62067689f00c33536d460",
  },
  {
    // UTF-16 code-unit order (as RFC 8785): the emoji's surrogate (U+D83D) sorts before U+FB01, unlike code-point order.
    name: "non-ASCII keys in UTF-16 code-unit order",
    input: { "\uFB01": 6, "😀": 5, "é": 4, a: 3, _: 2, A: 1 },
    canonical: '{"A":1,"_":2,"a":3,"é":4,"😀":5,"\uFB01":6}',
    digest: "sha256:928e4927fa610b5b67b55ef2bf342e1f020469d659cb0942e34f58d2a23f0161",
  },
  {
    name: "Unicode text as UTF-8, control characters, quotes and backslashes escaped, U+2028 kept",
    input: { title: "Déployer 🚀 — ναι", note: 'line\nbreak "quoted" back\\slash \u0001 \u2028' },
    canonical: '{"note":"line\\nbreak \\"quoted\\" back\\\\slash \\u0001 \u2028","title":"Déployer 🚀 — ναι"}',
    digest: "sha256:8a477d6258d4115fd6f75af5a8e74fa3cd9d2bb4f39f71d953658193b98b63f6",
  },
  {
    name: "numbers in their shortest form",
    input: [1.0, 0.1, -0, 1e21, 1e-7, 123456789012345678901, -2.5, Number.MAX_VALUE, 5e-324],
    canonical: "[1,0.1,0,1e+21,1e-7,123456789012345680000,-2.5,1.7976931348623157e+308,5e-324]",
    digest: "sha256:335a2b7213097ac6c75aa3f745bc3ada1e24bfa5133bc87bb55c85520f78c743",
  },
  {
    name: "undefined members dropped, undefined array items null",
    input: { c: [undefined, null], b: 1, a: undefined },
    canonical: '{"b":1,"c":[null,null]}',
    digest: "sha256:3b1127370cdbc187fd1d38b32ae6f64ec84f5459c7404b03280b52a0954c41b1",
  },
  { name: "a string", input: "hello", canonical: '"hello"', digest: "sha256:5aa762ae383fbb727af3c7a36d4940a5b8c40a989452d2304fc958ff3f354e7a" },
  { name: "null", input: null, canonical: "null", digest: "sha256:74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b" },
];

describe("input digest: known-answer vectors", () => {
  for (const vector of VECTORS) {
    it(vector.name, () => {
      assert.equal(canonicalJson(vector.input), vector.canonical);
      assert.equal(inputDigest(vector.input), vector.digest);
    });
  }
});
