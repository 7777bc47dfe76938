/**
 * The documentation: a short README as the front door, the reference in docs/, one page per topic. Nothing the
 * README documented before it was cut down may be lost (every one of its headings lives on in a page), every
 * link between the pages resolves, and every stack setting, stack output, component argument and output is
 * documented where a reader looks for it.
 */
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { CONFIG_KEYS } from "../../stacks/config";

const ROOT = path.resolve(__dirname, "../..");
const DOCS = path.join(ROOT, "docs");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const pages = readdirSync(DOCS).filter((file) => file.endsWith(".md")).map((file) => `docs/${file}`);
const markdown = ["README.md", "CHANGELOG.md", ...pages];

/** Headings outside code blocks, as GitHub makes their anchors. */
function headingsOf(text: string): string[] {
  let fenced = false;
  const headings: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    else if (!fenced && /^#{1,6} /.test(line)) headings.push(line.replace(/^#+ /, "").trim());
  }
  return headings;
}
const anchorOf = (heading: string) => heading.toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");

/** Every heading the README had before it became a front door (0.1.0): each is now a section of a docs page. */
const MOVED_HEADINGS = [
  "Quick start", "How an approval works", "Security model: who can do what", "Approvers, quorum and separation of duties",
  "Sign-in with OpenID Connect", "Registering the client", "What changes for approvers", "What sign-in protects against that links alone do not", "How it works",
  "Decision delivery guarantees", "Run it locally", "Tests", "Deploy with Pulumi", "Gate a deployment on an approval", "The human-approval CLI",
  "Withdrawing a request", "Reminders", "Alarms", "Configuration", "Stack outputs", "Transports and switching between them",
  "The decision endpoint's HTTP behaviour", "Delivery: pull requests, plans, policies, deploys", "Benchmarks", "Cost per million approvals", "Teardown",
  "Project layout and dependencies", "Installing on Node 20", "How the functions call AWS", "Known limits",
];

/** The names an interface or class declares in a source file (no type checking: just its members). */
function memberNames(file: string, declaration: string): string[] {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.ES2022, true);
  const names: string[] = [];
  source.forEachChild((node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === declaration) {
      for (const member of node.members) {
        const isPublicProperty = ts.isPropertySignature(member) || (ts.isPropertyDeclaration(member) && !member.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.PrivateKeyword));
        if (isPublicProperty && member.name && ts.isIdentifier(member.name)) names.push(member.name.text);
      }
    }
  });
  return names;
}

describe("the documentation", () => {
  const readme = read("README.md");

  it("the README is a short front door: what it is, a picture, the two commands, the two ways to use it, security, links", () => {
    assert.ok(readme.split("\n").length <= 120, `README.md has ${readme.split("\n").length} lines`);
    assert.match(readme, /!\[[^\]]+\]\(docs\/[\w-]+\.png\)/, "a picture");
    assert.match(readme, /^npm start\b/m);
    assert.match(readme, /^npm test\b/m);
    assert.match(readme, /stand-alone stack/i);
    assert.match(readme, /```python[\s\S]*HumanApprovalWorkflow/);
    assert.match(readme, /```typescript[\s\S]*HumanApprovalWorkflow/);
    assert.match(readme, /\(docs\/security\.md\)/);
    for (const page of pages) assert.ok(readme.includes(`](${page})`), `README.md links ${page}`);
  });

  it("keeps every section the README had, each in a docs page", () => {
    const documented = new Set(pages.flatMap((page) => headingsOf(read(page))));
    for (const heading of MOVED_HEADINGS) assert.ok(documented.has(heading), `no docs page has the section "${heading}"`);
  });

  it("every relative link resolves, to a file and to a heading in it", () => {
    for (const file of markdown) {
      const text = read(file).replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [relative, anchor] = target.split("#");
        const resolved = relative ? path.join(path.dirname(path.join(ROOT, file)), relative) : path.join(ROOT, file);
        assert.ok(existsSync(resolved), `${file}: ${target} does not exist`);
        if (anchor) assert.ok(headingsOf(readFileSync(resolved, "utf8")).map(anchorOf).includes(anchor), `${file}: ${target} names no heading`);
      }
    }
  });

  it("documents every stack setting and every stack output on the configuration page", () => {
    const configuration = read("docs/configuration.md");
    for (const key of Object.keys(CONFIG_KEYS)) assert.ok(configuration.includes(`| \`${key}\` |`), `docs/configuration.md: ${key}`);
    const outputs = [...read("index.ts").matchAll(/^export const (\w+)/gm)].map((match) => match[1]);
    assert.ok(outputs.length >= 5);
    for (const output of outputs) assert.ok(configuration.includes(`| \`${output}\` |`), `docs/configuration.md: output ${output}`);
  });

  it("documents every component argument and output on the component page", () => {
    const component = read("docs/component.md");
    const args = memberNames("components/humanApprovalWorkflow.ts", "HumanApprovalWorkflowArgs");
    const outputs = memberNames("components/humanApprovalWorkflow.ts", "HumanApprovalWorkflow");
    assert.ok(args.length >= 20 && outputs.length >= 7, `${args.length} arguments, ${outputs.length} outputs`);
    for (const name of [...args, ...outputs]) assert.ok(component.includes(`| \`${name}\` |`), `docs/component.md: ${name}`);
  });
});
