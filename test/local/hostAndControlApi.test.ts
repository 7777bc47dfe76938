/**
 * Local mode as a newcomer meets it: the default timeout comes from the dev stack file, `--host`
 * serves the pages beyond this machine with a warning, and the control API (`/executions`) refuses
 * other machines, other sites and unexpected Host headers (DNS rebinding).
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import * as path from "node:path";
import { controlApiRefusal, isLoopbackHost, networkAddresses, pageHostRefusal } from "../../local/gateway";
import { localDefaultsFromStack, parseCliOptions, UsageError } from "../../local/cliOptions";
import { startLocalApprovals, type LocalApprovals } from "../../local/localApprovals";
import { readStackFile } from "../../stacks/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
const DEFAULTS = { transport: "functionUrl" as const, approverEmails: ["approver@example.com"] };

/** A raw HTTP request, so that Host and Origin can be anything a browser might send. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? "GET", headers: options.headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

describe("local mode: the stack file's timeout, --host, and the control API", () => {
  describe("options", () => {
    it("takes the default timeout from the dev stack file, and a flag over it", () => {
      const fromFile = localDefaultsFromStack(readStackFile("dev"), "Pulumi.dev.yaml", "approver@example.com");
      assert.equal(fromFile.approvalTimeoutMinutes, Number(readStackFile("dev")["human-approval:approvalTimeoutMinutes"]));
      assert.equal(parseCliOptions([], { ...DEFAULTS, approvalTimeoutMinutes: 60 }).approvalTimeoutSeconds, 3600);
      assert.equal(parseCliOptions(["--timeout-minutes", "2"], { ...DEFAULTS, approvalTimeoutMinutes: 60 }).approvalTimeoutSeconds, 120);
      assert.equal(parseCliOptions([], DEFAULTS).approvalTimeoutSeconds, 86_400, "no stack value: the stack's own default, 1440 minutes");
    });

    it("blames a bad or misspelled key on the stack file, never on a flag", () => {
      assert.throws(
        () => localDefaultsFromStack({ "human-approval:approverEmails": '["a@example.com"]', "human-approval:approvalTimeoutMinutes": "0", "human-approval:timeoutMinutes": "5" }, "Pulumi.dev.yaml", "approver@example.com"),
        (error: Error) => {
          assert.ok(error instanceof UsageError);
          assert.deepEqual(error.message.split("\n"), [
            "Pulumi.dev.yaml: human-approval:timeoutMinutes is not a setting of this stack: did you mean human-approval:approvalTimeoutMinutes?",
            'Pulumi.dev.yaml: human-approval:approvalTimeoutMinutes is "0": it must be a whole number from 1 to 525600.',
          ]);
          return true;
        },
      );
    });

    it("listens on 127.0.0.1 unless --host names another address", () => {
      assert.equal(parseCliOptions([], DEFAULTS).host, "127.0.0.1");
      assert.equal(parseCliOptions(["--host", "0.0.0.0"], DEFAULTS).host, "0.0.0.0");
      assert.equal(parseCliOptions(["--host", "::"], DEFAULTS).host, "::");
      for (const host of ["http://example.com", "192.168.1.5", "example.com"]) {
        // The links name 127.0.0.1 (the functions take plain http only on loopback), so the gateway must listen there too.
        assert.throws(() => parseCliOptions(["--host", host], DEFAULTS), (error: Error) => error instanceof UsageError && error.message === `--host is "${host}": use 0.0.0.0 (every network interface, IPv4) or :: (IPv6 too) to serve the pages to other machines, or a loopback address like 127.0.0.1 (this machine only).`);
      }
      assert.equal(isLoopbackHost("127.0.0.1"), true);
      assert.equal(isLoopbackHost("localhost"), true);
      assert.equal(isLoopbackHost("0.0.0.0"), false);
    });
  });

  describe("the control API's checks", () => {
    const port = 3000;
    const allowed = { headers: { host: "127.0.0.1:3000" }, peer: "127.0.0.1" };
    it("lets this machine's scripts in (curl, no browser headers)", () => {
      assert.equal(controlApiRefusal(allowed, port), undefined);
      assert.equal(controlApiRefusal({ headers: { host: "localhost:3000", "sec-fetch-site": "same-origin", origin: "http://localhost:3000" }, peer: "::1" }, port), undefined);
      assert.equal(controlApiRefusal({ headers: { host: "[::1]:3000" }, peer: "::ffff:127.0.0.1" }, port), undefined);
    });
    const refused: Array<[string, Parameters<typeof controlApiRefusal>[0], RegExp]> = [
      ["another machine", { ...allowed, peer: "192.168.1.20" }, /only requests from this machine/],
      ["a page that rebinds its own name to 127.0.0.1", { ...allowed, headers: { host: "evil.example:3000" } }, /only requests addressed to 127\.0\.0\.1:3000 or localhost:3000, not "evil\.example:3000"/],
      ["no Host header", { ...allowed, headers: {} }, /only requests addressed to/],
      ["another port's name", { ...allowed, headers: { host: "127.0.0.1:8080" } }, /only requests addressed to/],
      ["a cross-site browser request", { ...allowed, headers: { host: "127.0.0.1:3000", "sec-fetch-site": "cross-site" } }, /refuses requests from other sites/],
      ["a same-site one", { ...allowed, headers: { host: "127.0.0.1:3000", "sec-fetch-site": "same-site" } }, /refuses requests from other sites/],
      ["another origin (a browser without Sec-Fetch-Site)", { ...allowed, headers: { host: "127.0.0.1:3000", origin: "https://evil.example" } }, /refuses requests from other sites/],
    ];
    for (const [what, request, message] of refused) {
      it(`refuses ${what}`, () => assert.match(controlApiRefusal(request, port) ?? "", message));
    }
  });

  describe("the control API of a running local stack", function () {
    this.timeout(60_000);
    let local: LocalApprovals;
    before(async () => (local = await startLocalApprovals({ transport: "httpApi", approvalTimeoutSeconds: 600 })));
    after(async () => local?.close());

    it("starts an execution for a script on this machine, and refuses rebinding and cross-site requests without starting one", async () => {
      const { port } = new URL(local.origin);
      const body = JSON.stringify({ title: "Rotate keys" });
      const post = (headers: Record<string, string>) => send(`${local.origin}/executions`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
      const started = local.standIn.emails.length;

      const foreign: Array<Record<string, string>> = [{ Host: `evil.example:${port}` }, { Origin: "https://evil.example" }, { "Sec-Fetch-Site": "cross-site" }];
      for (const headers of foreign) {
        const refused = await post(headers);
        assert.equal(refused.status, 403, JSON.stringify(headers));
        assert.match(JSON.parse(refused.body).error, /control API/);
      }
      assert.equal((await send(`${local.origin}/executions/anything`, { headers: { Host: `rebound.example:${port}` } })).status, 403, "reading an execution is refused too");
      assert.equal(local.standIn.emails.length, started, "no execution was started");

      const created = await post({});
      assert.equal(created.status, 201, created.body);
      assert.match(JSON.parse(created.body).reviewUrl, /^http:\/\/127\.0\.0\.1:\d+\/requests\//);
    });
  });

  describe("every local endpoint refuses a DNS-rebinding page and other sites", function () {
    this.timeout(60_000);
    let local: LocalApprovals;
    before(async () => (local = await startLocalApprovals({ transport: "restApi", approvalTimeoutSeconds: 600 })));
    after(async () => local?.close());

    /** The same request as this machine's client sends it, then as a rebinding page (its own name) and a cross-site page would. */
    async function refusesForeign(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }, expected: number, sites: "refused" | "allowed" = "refused") {
      const { port } = new URL(url);
      assert.equal((await send(url, options)).status, expected, `${url} answers this machine`);
      const hosts: Record<string, string>[] = [{ Host: `rebound.example:${port}` }, { Host: `localhost:${Number(port) + 1}` }];
      const otherSites: Record<string, string>[] = [{ Origin: "https://evil.example" }, { "Sec-Fetch-Site": "cross-site" }];
      for (const foreign of sites === "refused" ? [...hosts, ...otherSites] : hosts) {
        const refused = await send(url, { ...options, headers: { ...options.headers, ...foreign } });
        assert.equal(refused.status, 403, `${url} with ${JSON.stringify(foreign)}: ${refused.body}`);
        assert.ok(!refused.body.includes("arn:"), "nothing of the stack is shown");
      }
    }

    it("the stack outputs (the endpoints of the stand-ins)", async () => {
      await refusesForeign(`${local.origin}/stack-outputs`, {}, 200);
    });

    it("the AWS stand-in: no link is minted (GenerateMac) and no task answered for a web page", async () => {
      const kms = { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.GenerateMac" }, body: JSON.stringify({ KeyId: "any", MacAlgorithm: "HMAC_SHA_256", Message: "eA==" }) };
      const calls = local.standIn.callCount("GenerateMac");
      const { port } = new URL(local.stackOutputs.endpoints.sfn);
      const foreignRequests: Record<string, string>[] = [{ Host: `rebound.example:${port}` }, { Origin: "https://evil.example" }, { "Sec-Fetch-Site": "cross-site" }];
      for (const foreign of foreignRequests) {
        assert.equal((await send(local.stackOutputs.endpoints.sfn, { ...kms, headers: { ...kms.headers, ...foreign } })).status, 403, JSON.stringify(foreign));
      }
      assert.equal(local.standIn.callCount("GenerateMac"), calls, "the stand-in never ran it");
      const sfn = { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.DescribeExecution" }, body: JSON.stringify({ executionArn: "arn:aws:states:eu-west-1:000000000000:execution:x:y" }) };
      await refusesForeign(local.stackOutputs.endpoints.sfn, sfn, 400);
    });

    it("the local DynamoDB (dynalite)", async () => {
      const listTables = { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables", Authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0", "X-Amz-Date": "20260101T000000Z" }, body: "{}" };
      await refusesForeign(local.stackOutputs.endpoints.dynamodb, listTables, 200);
    });

    it("the gateway's pages: a rebinding page cannot read a review page as its own origin", async () => {
      const execution = local.startExecution({ title: "Rebinding" });
      const { reviewUrl } = await execution.email;
      // A link clicked in webmail is a cross-site navigation, and must open; only the Host must be this server's.
      await refusesForeign(reviewUrl, {}, 200, "allowed");
      assert.equal((await send(reviewUrl, { headers: { "Sec-Fetch-Site": "cross-site" } })).status, 200);
    });

    it("the pages' Host check: loopback names at this port, and this machine's addresses only when serving beyond it", () => {
      assert.equal(pageHostRefusal("127.0.0.1:3000", 3000, "127.0.0.1"), undefined);
      assert.equal(pageHostRefusal("LOCALHOST:3000", 3000, "127.0.0.1"), undefined);
      assert.match(pageHostRefusal("evil.example:3000", 3000, "127.0.0.1") ?? "", /not "evil\.example:3000"/);
      assert.match(pageHostRefusal(undefined, 3000, "0.0.0.0") ?? "", /answers only requests addressed to it/);
      for (const address of networkAddresses()) {
        assert.equal(pageHostRefusal(`${address}:3000`, 3000, "0.0.0.0"), undefined);
        assert.ok(pageHostRefusal(`${address}:3000`, 3000, "127.0.0.1"), "not when listening on loopback only");
      }
    });
  });

  it("npm start -- --host 0.0.0.0 warns that the pages are served beyond this machine, and uses the stack file's timeout", async function () {
    this.timeout(120_000);
    const minutes = Number(readStackFile("dev")["human-approval:approvalTimeoutMinutes"]);
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["-r", "tsx/cjs", "local/start.ts", "--port", "0", "--host", "0.0.0.0"], { cwd: ROOT, env: { ...process.env, INIT_CWD: ROOT } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("Waiting for a decision")) child.kill("SIGINT");
      });
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /^Warning: --host 0\.0\.0\.0: the pages are served to every machine that can reach this one on port \d+, over plain HTTP\. Whoever holds a link can vote with it\. The control API \(\/executions\) still answers only this machine\.( From another machine, open a link with 127\.0\.0\.1:\d+ replaced by [\d.:]+( or [\d.:]+)*\.)?\n$/);
    assert.match(result.stdout, /http:\/\/127\.0\.0\.1:\d+\/requests\//, "the links name 127.0.0.1");
    assert.match(result.stdout, new RegExp(`expires in ${minutes === 60 ? "1 hour" : `${minutes} minutes`}`), "the timeout of Pulumi.dev.yaml");
  });
});
