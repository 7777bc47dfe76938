/**
 * An installed package has its `dependencies` and nothing else (`npm install human-approval` leaves the
 * development dependencies out). Whatever the package's `bin` and its component entry load must therefore be a
 * runtime dependency: ts-node, for one, was a development dependency while the bin required it, so the bin of an
 * installed package could not start.
 */
import { strict as assert } from "node:assert";
import { builtinModules } from "node:module";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";

const ROOT = path.resolve(__dirname, "../..");
const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const BUILTINS = new Set(builtinModules);

/** "@scope/name/sub" -> "@scope/name"; "name/sub" -> "name". */
const packageOf = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
const isPackage = (specifier: string) => !specifier.startsWith(".") && !specifier.startsWith("/") && !specifier.startsWith("node:") && !BUILTINS.has(specifier.split("/")[0]);

/** Every package a TypeScript entry reaches through the project's own files (type-only imports do not load). */
function packagesLoadedBy(entry: string): Set<string> {
  const { metafile } = buildSync({ entryPoints: [path.join(ROOT, entry)], bundle: true, packages: "external", platform: "node", format: "cjs", write: false, metafile: true, logLevel: "silent" });
  const loaded = new Set<string>();
  for (const input of Object.values(metafile!.inputs)) {
    for (const imported of input.imports) if (imported.external && isPackage(imported.path)) loaded.add(packageOf(imported.path));
  }
  return loaded;
}

/** The packages a plain JavaScript file requires. */
function packagesRequiredBy(file: string): Set<string> {
  const source = readFileSync(path.join(ROOT, file), "utf8");
  return new Set([...source.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]).filter(isPackage).map(packageOf));
}

describe("an installed package needs only its dependencies", () => {
  const runtime = new Set(Object.keys(manifest.dependencies));
  const missing = (loaded: Set<string>) => [...loaded].filter((name) => !runtime.has(name));

  it("the bin (cli/human-approval.js) and the CLI it runs load only runtime dependencies", () => {
    const bin = manifest.bin["human-approval"];
    assert.equal(bin, "cli/human-approval.js");
    const required = packagesRequiredBy(bin);
    assert.ok(required.has("tsx"), `the bin loads the CLI's source with tsx: ${[...required].join(", ")}`);
    const loaded = new Set([...required, ...packagesLoadedBy("cli/main.ts")]);
    assert.ok(loaded.has("@aws-sdk/client-sfn"), "the check sees the CLI's own imports");
    assert.deepEqual(missing(loaded), [], "development dependencies the installed bin would need");
  });

  it("the CLI and the local mode start without loading the Pulumi SDK (about 770 modules at each start)", () => {
    for (const entry of ["cli/main.ts", "local/start.ts"]) assert.ok(!packagesLoadedBy(entry).has("@pulumi/pulumi"), `${entry} loads @pulumi/pulumi`);
  });

  it("the component entry (package.json main) and the functions it bundles during pulumi up load only runtime dependencies", () => {
    const loaded = new Set([manifest.main, "functions/requestApproval/index.ts", "functions/decision/index.ts"].flatMap((entry) => [...packagesLoadedBy(entry)]));
    for (const seen of ["@pulumi/aws", "esbuild", "oauth4webapi"]) assert.ok(loaded.has(seen), `the check sees ${seen}`);
    assert.deepEqual(missing(loaded), [], "development dependencies the component would need");
  });
});
