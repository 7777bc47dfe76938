import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Script } from "node:vm";
import { extractReferenceFunctions, findReferenceTemplate, REFERENCE_TEMPLATE } from "../../bench/referenceTemplate";

const ROOT = path.resolve(__dirname, "../..");

describe("benchmarks (they measure; these tests only check that they run)", function () {
  this.timeout(120_000);

  const referenceTemplate = findReferenceTemplate();
  if (!referenceTemplate) console.log(`      (reference parts skipped: no template at ${REFERENCE_TEMPLATE}; set REFERENCE_TEMPLATE)`);

  it("extracts the reference template's two functions as runnable code with the stack's values filled in", function () {
    if (!referenceTemplate) this.skip();
    const reference = extractReferenceFunctions({ email: "approver@example.com", topicArn: "arn:aws:sns:eu-west-1:1:topic" });
    for (const code of [reference.approval, reference.sendEmail]) assert.doesNotThrow(() => new Script(code));
    assert.match(reference.approval, /exports\.handler = /);
    assert.match(reference.approval, /Approved! Task approved by approver@example\.com/);
    assert.match(reference.sendEmail, /exports\.lambda_handler = /);
    assert.match(reference.sendEmail, /TopicArn: emailSnsTopic/);
    assert.ok(reference.sendEmail.includes('"arn:aws:sns:eu-west-1:1:topic"'));
    assert.ok(!reference.approval.includes("${"), "no CloudFormation substitution left");
  });

  it("npm run bench -- --quick writes every figure for ours, and for the reference when its template is there", () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "results.json");
    const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "bench/run.ts", "--quick", "--runs", "2", "--requests", "5", "--sizes", "1,3", "--out", out], { cwd: ROOT, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /4\. Local round trip/);
    if (referenceTemplate) assert.match(result.stdout, /5\. Ours \/ reference/);
    const figures = JSON.parse(readFileSync(out, "utf8"));
    const sides = referenceTemplate ? ["ours", "reference"] : ["ours"];
    assert.deepEqual(Object.keys(figures.packages).sort(), sides);
    for (const side of sides) {
      for (const fn of Object.values(figures.packages[side]) as Array<{ bytes: number; gzipBytes: number }>) assert.ok(fn.bytes > 0 && fn.gzipBytes > 0);
      for (const fn of Object.values(figures.coldStartMs[side]) as Array<{ median: number; runs: number }>) assert.ok(fn.median > 0 && fn.runs === 2);
    }
    assert.deepEqual(Object.keys(figures.coldStartMs.ours).sort(), ["decisionGet", "decisionPost", "requestApproval"]);
    assert.ok(figures.coldStartMs.floor.emptyHandler.median > 0 && figures.coldStartMs.floor.emptyHandler.runs === 2);
    assert.deepEqual(Object.keys(figures.warmLatencyMs.ours).sort(), ["decision", "reviewPage"]);
    assert.deepEqual(figures.roundTripMs.map((row: { pending: number }) => row.pending), [1, 3]);
    assert.ok(figures.roundTripMs.every((row: { approvalsPerSecond: number }) => row.approvalsPerSecond > 0));
    assert.match(result.stdout, /6\. Click to resume/);
    assert.deepEqual(Object.keys(figures.clickToResumeMs).sort(), ["functionUrl", "httpApi", "restApi"]);
    for (const row of Object.values(figures.clickToResumeMs) as Array<{ first: { ms: number; calls: Record<string, number> }; warm: { p50: number; clicks: number; calls: Record<string, number> } }>) {
      assert.ok(row.first.ms >= 0 && row.warm.p50 >= 0 && row.warm.clicks === 5);
      assert.equal(row.warm.calls.SendTaskSuccess, 1, "the calls are counted up to the one that resumes the execution");
    }
    if (referenceTemplate) assert.deepEqual(Object.keys(figures.oursOverReference).sort(), ["coldStartAboveFloor", "coldStartMedian", "packageBytes", "packageGzipBytes", "warmDecision"]);
    if (referenceTemplate) assert.deepEqual(Object.keys(figures.oursOverReference.coldStartAboveFloor).sort(), ["decisionGet", "decisionPost", "requestApproval"]);
    else assert.match(result.stderr, /The reference template is not at .*: measuring this project only/);
  });
});
