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
  const missingTemplate = `No reference template at ${REFERENCE_TEMPLATE} (the project's shared/reference beside this checkout): set REFERENCE_TEMPLATE to compare with the reference.`;
  /**
   * The reference parts need the template. A template named with REFERENCE_TEMPLATE that is not there is a failure
   * with the reason; a checkout with no shared/ folder beside it (the template is not part of this repository) is
   * a visible skip, under CI too: this project's own figures are asserted either way.
   */
  const requireTemplate = (context: Mocha.Context) => {
    if (referenceTemplate) return;
    if (process.env.REFERENCE_TEMPLATE) throw new Error(missingTemplate);
    console.log(`      (skipped) ${missingTemplate}`);
    context.skip();
  };

  it("extracts the reference template's two functions as runnable code with the stack's values filled in", function () {
    requireTemplate(this);
    const reference = extractReferenceFunctions({ email: "approver@example.com", topicArn: "arn:aws:sns:eu-west-1:1:topic" });
    for (const code of [reference.approval, reference.sendEmail]) assert.doesNotThrow(() => new Script(code));
    assert.match(reference.approval, /exports\.handler = /);
    assert.match(reference.approval, /Approved! Task approved by approver@example\.com/);
    assert.match(reference.sendEmail, /exports\.lambda_handler = /);
    assert.match(reference.sendEmail, /TopicArn: emailSnsTopic/);
    assert.ok(reference.sendEmail.includes('"arn:aws:sns:eu-west-1:1:topic"'));
    assert.ok(!reference.approval.includes("${"), "no CloudFormation substitution left");
  });

  /** One quick bench run, shared by the tests below (it takes a while). */
  let run: { stdout: string; stderr: string; figures: any } | undefined;
  const benchRun = () => {
    if (run) return run;
    const out = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "results.json");
    const result = spawnSync(process.execPath, ["-r", "tsx/cjs", "bench/run.ts", "--quick", "--runs", "2", "--requests", "5", "--sizes", "1,3", "--out", out], { cwd: ROOT, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    return (run = { stdout: result.stdout, stderr: result.stderr, figures: JSON.parse(readFileSync(out, "utf8")) });
  };

  it("npm run bench -- --quick writes every figure for ours", () => {
    const { stdout, stderr, figures } = benchRun();
    assert.match(stdout, /4\. Local round trip/);
    for (const fn of Object.values(figures.packages.ours) as Array<{ bytes: number; gzipBytes: number }>) assert.ok(fn.bytes > 0 && fn.gzipBytes > 0);
    for (const fn of Object.values(figures.coldStartMs.ours) as Array<{ median: number; runs: number }>) assert.ok(fn.median > 0 && fn.runs === 2);
    assert.deepEqual(Object.keys(figures.coldStartMs.ours).sort(), ["decisionGet", "decisionPost", "requestApproval"]);
    assert.ok(figures.coldStartMs.floor.emptyHandler.median > 0 && figures.coldStartMs.floor.emptyHandler.runs === 2);
    assert.deepEqual(Object.keys(figures.warmLatencyMs.ours).sort(), ["decision", "reviewPage"]);
    assert.deepEqual(figures.roundTripMs.map((row: { pending: number }) => row.pending), [1, 3]);
    assert.ok(figures.roundTripMs.every((row: { approvalsPerSecond: number }) => row.approvalsPerSecond > 0));
    assert.match(stdout, /6\. Click to resume/);
    assert.deepEqual(Object.keys(figures.clickToResumeMs).sort(), ["functionUrl", "httpApi", "restApi"]);
    for (const row of Object.values(figures.clickToResumeMs) as Array<{ first: { ms: number; calls: Record<string, number> }; warm: { p50: number; clicks: number; calls: Record<string, number> } }>) {
      assert.ok(row.first.ms >= 0 && row.warm.p50 >= 0 && row.warm.clicks === 5);
      assert.equal(row.warm.calls.SendTaskSuccess, 1, "the calls are counted up to the one that resumes the execution");
    }
    // Which side the run measured follows from the template alone: both with it, ours only (and said so) without.
    assert.deepEqual(Object.keys(figures.packages).sort(), referenceTemplate ? ["ours", "reference"] : ["ours"]);
    assert.equal(/The reference template is not at .*: measuring this project only/.test(stderr), !referenceTemplate);
  });

  it("and the reference's figures beside ours, from its template", function () {
    requireTemplate(this);
    const { stdout, figures } = benchRun();
    assert.match(stdout, /5\. Ours \/ reference/);
    for (const fn of Object.values(figures.packages.reference) as Array<{ bytes: number; gzipBytes: number }>) assert.ok(fn.bytes > 0 && fn.gzipBytes > 0);
    for (const fn of Object.values(figures.coldStartMs.reference) as Array<{ median: number; runs: number }>) assert.ok(fn.median > 0 && fn.runs === 2);
    assert.deepEqual(Object.keys(figures.oursOverReference).sort(), ["coldStartAboveFloor", "coldStartMedian", "packageBytes", "packageGzipBytes", "warmDecision"]);
    assert.deepEqual(Object.keys(figures.oursOverReference.coldStartAboveFloor).sort(), ["decisionGet", "decisionPost", "requestApproval"]);
  });
});
