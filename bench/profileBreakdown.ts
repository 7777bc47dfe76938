/**
 * Where a cold start's CPU time goes, from the profiles `npm run bench -- --profile <dir>` writes:
 *
 *   npm run bench -- --quick --runs 5 --sizes 1 --profile .local/bench/profiles
 *   node --require tsx/cjs bench/profileBreakdown.ts .local/bench/profiles
 *
 * Self time per variant (mean over its profiles), by package: our bundles are mapped back to their
 * sources with a source map of the same build (functions/bundle.ts), Node's own modules by
 * name. The top-level code of a bundle (every module's body, flattened into one function) counts
 * as one line. Compiling a file counts under Node's module loader, which asks for it. Approximate: a
 * profile's sampling slows what it samples.
 */
import { bundleHandler, bundleHandlerWithSourceMap, type HandlerName } from "../functions/bundle";
import { readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import * as path from "node:path";
async function mapFor(name: HandlerName) {
  const { code, sourceMap } = await bundleHandlerWithSourceMap(name);
  if (code !== (await bundleHandler(name))) throw new Error("the source-mapped build differs from the shipped one");
  return new SourceMap(JSON.parse(sourceMap));
}
function pkgOf(source: string) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (m) return m[1];
  return source.replace(/^(\.\.\/)+/, "").split("/").slice(0, 2).join("/");
}
(async () => {
  const dir = process.argv[2];
  const maps: Record<string, SourceMap> = { "ours-decision.js": await mapFor("decision"), "ours-request-approval.js": await mapFor("requestApproval") };
  const byVariant: Record<string, Record<string, number>> = {};
  const counts: Record<string, number> = {};
  for (const file of readdirSync(dir)) {
    const variant = file.split(".").slice(0, 2).join(".");
    counts[variant] = (counts[variant] ?? 0) + 1;
    const profile = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
    const self = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
    const acc = (byVariant[variant] ??= {});
    for (const node of profile.nodes) {
      const ms = self.get(node.id) ?? 0;
      if (!ms) continue;
      const { url, functionName, lineNumber, columnNumber } = node.callFrame;
      let key: string;
      const base = path.basename(url);
      if (Object.hasOwn(maps, base)) {
        const entry = maps[base].findEntry(lineNumber, columnNumber) as { originalSource?: string };
        key = entry.originalSource ? "bundle: " + pkgOf(entry.originalSource) : "bundle: top level (every module's body)";
      } else if (url.startsWith("node:")) key = url.startsWith("node:internal/modules/") ? "node: module loader (includes compiling what it loads)" : url.startsWith("node:internal/") ? "node: other internals" : url;
      else if (!url) key = functionName || "(anonymous)";
      else key = base;
      acc[key] = (acc[key] ?? 0) + ms;
    }
  }
  for (const [variant, acc] of Object.entries(byVariant)) {
    const n = counts[variant];
    const total = Object.values(acc).reduce((a, b) => a + b, 0) / n;
    console.log(`\n${variant} (${n} profiles, mean sampled ${total.toFixed(1)} ms)`);
    for (const [key, ms] of Object.entries(acc).sort((a, b) => b[1] - a[1]).slice(0, 22)) console.log(`  ${(ms / n).toFixed(1).padStart(6)}  ${key}`);
  }
})();
