import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { commandWithPort, localDefaultsFromStack, parseCliOptions, UsageError, type CliOptions } from "../../local/cliOptions";

const ROOT = path.resolve(__dirname, "../..");
const DEFAULTS = { transport: "functionUrl" as const, approverEmails: ["approver@example.com"] };
const [ANN, BOB, CY, DEE] = ["ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"];

const BASE_OPTIONS: CliOptions = {
  transport: "functionUrl",
  inputFile: undefined,
  serve: false,
  approvalTimeoutSeconds: 86_400,
  port: 3000,
  host: "127.0.0.1",
  signIn: false,
  verbose: false,
  help: false,
  approverEmails: ["approver@example.com"],
  requiredApprovals: 1,
  requestedBy: undefined,
  allowSelfApproval: false,
};

const isOneLineUsageError = (message: RegExp) => (error: Error) => {
  assert.ok(error instanceof UsageError, `a UsageError, not ${error.name}`);
  assert.match(error.message, message);
  assert.ok(!error.message.includes("\n"), "one line");
  return true;
};

describe("npm start options", () => {
  it("defaults to the dev stack's transport and approvers, one approval, a day-long timeout and port 3000", () => {
    assert.deepEqual(parseCliOptions([], { transport: "httpApi", approverEmails: ["Ops@Example.com", BOB] }), { ...BASE_OPTIONS, transport: "httpApi", approverEmails: ["ops@example.com", BOB] });
  });

  it("reads every option, with fractional minutes rounded to whole seconds", () => {
    const options = parseCliOptions(
      ["--transport", "restApi", "--input", "in.json", "--timeout-minutes", "0.5", "--port", "0", "--host", "0.0.0.0", "--serve", "--verbose", "--approvers", `${ANN}, Bob@Example.com,${CY}`, "--required-approvals", "2", "--requested-by", "Ann@Example.com", "--allow-self-approval"],
      DEFAULTS,
    );
    assert.deepEqual(options, {
      transport: "restApi",
      inputFile: "in.json",
      serve: true,
      approvalTimeoutSeconds: 30,
      port: 0,
      host: "0.0.0.0",
      signIn: false,
      verbose: true,
      help: false,
      approverEmails: [ANN, BOB, CY],
      requiredApprovals: 2,
      requestedBy: ANN,
      allowSelfApproval: true,
    });
    assert.equal(parseCliOptions(["--timeout-minutes", "0.001"], DEFAULTS).approvalTimeoutSeconds, 1);
  });

  it("lets a requester who is also an approver ask, when enough others can vote", () => {
    const options = parseCliOptions(["--approvers", `${ANN},${BOB},${CY}`, "--required-approvals", "2", "--requested-by", CY], DEFAULTS);
    assert.equal(options.requestedBy, CY);
    assert.equal(options.allowSelfApproval, false);
  });

  for (const [args, message] of [
    [["--transport", "smtp"], /--transport is "smtp": use one of restApi, httpApi, functionUrl/],
    [["--timeout-minutes", "0"], /--timeout-minutes is "0"/],
    [["--timeout-minutes", "soon"], /--timeout-minutes is "soon"/],
    [["--port", "70000"], /--port is "70000"/],
    [["--colour"], /Unknown option '--colour'/],
    [["--approvers", ","], /--approvers is ",": give at least one email address/],
    [["--approvers", `${ANN},bob`], /--approvers lists "bob": each entry must be an email address/],
    [["--approvers", `${ANN},Ann@Example.com`], /--approvers lists ann@example\.com twice/],
    [["--approvers", `${ANN},${BOB}`, "--required-approvals", "3"], /^--required-approvals is "3": use a whole number from 1 to 2 \(the number of approvers in --approvers\)\.$/],
    [["--approvers", `${ANN},${BOB}`, "--required-approvals", "0"], /--required-approvals is "0": use a whole number from 1 to 2/],
    [["--approvers", `${ANN},${BOB}`, "--required-approvals", "1.5"], /--required-approvals is "1\.5": use a whole number from 1 to 2/],
    [["--approvers", `${ANN},${BOB}`, "--required-approvals", "two"], /--required-approvals is "two"/],
    [["--required-approvals", "2"], /--required-approvals is "2": use a whole number from 1 to 1 \(the number of approvers in Pulumi\.dev\.yaml's approverEmails\)/],
    [["--requested-by", "me"], /--requested-by is "me": use an email address/],
    [["--approvers", `${ANN},${BOB}`, "--required-approvals", "2", "--requested-by", "Bob@Example.com"], /--required-approvals is 2, but only 1 approver besides --requested-by bob@example\.com can vote .*--allow-self-approval/],
  ] as Array<[string[], RegExp]>) {
    it(`refuses ${args.join(" ")} with a one-line explanation naming the flag`, () => {
      assert.throws(() => parseCliOptions(args, DEFAULTS), isOneLineUsageError(message));
    });
  }

  it("takes the dev stack's transport and approvers, and blames a bad value on the stack file and key", () => {
    assert.deepEqual(localDefaultsFromStack({ "human-approval:transport": "httpApi", "human-approval:approverEmails": JSON.stringify([ANN, BOB]) }, "Pulumi.dev.yaml", "approver@example.com"), { transport: "httpApi", approverEmails: [ANN, BOB] });
    assert.deepEqual(localDefaultsFromStack({}, "Pulumi.dev.yaml", "approver@example.com"), { transport: "functionUrl", approverEmails: ["approver@example.com"] });
    assert.throws(
      () => localDefaultsFromStack({ "human-approval:transport": "smtp", "human-approval:approverEmails": JSON.stringify(["not-an-address"]) }, "Pulumi.dev.yaml", "approver@example.com"),
      (error: Error) => {
        assert.ok(error instanceof UsageError);
        const lines = error.message.split("\n");
        assert.equal(lines.length, 2, "one line per problem");
        assert.match(lines[0], /^Pulumi\.dev\.yaml: human-approval:transport is "smtp": allowed values are/);
        assert.match(lines[1], /^Pulumi\.dev\.yaml: human-approval:approverEmails is "not-an-address"/);
        assert.ok(!error.message.includes("--"), "no flag the user never passed is blamed");
        return true;
      },
    );
  });

  it("suggests the user's own command with another port", () => {
    assert.equal(commandWithPort(["--port", "3000"], 3001), "npm start -- --port 3001");
    assert.equal(commandWithPort(["--transport", "httpApi", "--port=3000", "--input", "my input.json"], 3001), "npm start -- --transport httpApi --input 'my input.json' --port 3001");
    assert.equal(commandWithPort([], 3001), "npm start -- --port 3001");
  });
});

interface StartResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `npm start`'s script in a child process and collects what it prints; `onOutput` sees all of
 * stdout so far after every chunk. INIT_CWD is the directory npm was started in (set here as npm does).
 */
function runStart(args: string[], options: { initCwd?: string; onOutput?: (stdout: string, child: ChildProcess) => void } = {}): Promise<StartResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-r", "tsx/cjs", "local/start.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, INIT_CWD: options.initCwd ?? ROOT },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      options.onOutput?.(stdout, child);
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The lines under "Open a link in a browser:", as approver -> link. */
function linksPrinted(stdout: string): Map<string, string> | undefined {
  const block = /Open a link in a browser:\n((?: {2}\S+: \S+\n)+)/.exec(stdout)?.[1];
  if (!block) return undefined;
  return new Map(block.trimEnd().split("\n").map((line) => line.trim().split(": ") as [string, string]));
}

const approve = (link: string, comment = "") => fetch(link, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ decision: "approve", comment }).toString() });
const count = (text: string, part: string) => text.split(part).length - 1;
const KEEPS_SERVING = "the review pages are still served at the links above";

describe("npm start (child process)", function () {
  // Each child compiles and loads the project (a few seconds, more on a busy machine).
  this.timeout(120_000);

  it("runs a 2-of-3 approval: one email per approver, the requester's notice, the outcome, its notice; then keeps serving until Ctrl-C", async () => {
    let voted = false;
    let checked = false;
    let votes: number[] = [];
    let late: { view: number; vote: number } | undefined;
    const result = await runStart(
      ["--port", "0", "--transport", "httpApi", "--approvers", `${ANN},${BOB},${CY},${DEE}`, "--required-approvals", "2", "--requested-by", "Dee@Example.com"],
      {
        onOutput: (stdout, child) => {
          const links = linksPrinted(stdout);
          if (links && !voted) {
            voted = true;
            void (async () => {
              votes = [(await approve(links.get(ANN)!, "fine")).status, (await approve(links.get(BOB)!, "ship it")).status];
            })();
          }
          // Once the run has ended and everyone was told, the pages still answer.
          if (links && !checked && stdout.includes(KEEPS_SERVING) && stdout.includes("Subject: [local] Approved:")) {
            checked = true;
            void (async () => {
              late = { view: (await fetch(links.get(CY)!)).status, vote: (await approve(links.get(CY)!)).status };
              child.kill("SIGINT");
            })();
          }
        },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.deepEqual(votes, [200, 200]);
    const { stdout } = result;
    assert.match(stdout, /transport httpApi; no AWS account involved/);
    assert.match(stdout, /approvers: ann@example\.com, bob@example\.com, cy@example\.com, dee@example\.com \(2 approvals settle a request/);
    for (const approver of [ANN, BOB, CY]) assert.equal(count(stdout, `\nEmail to ${approver}:\n`), 1, `one email to ${approver}`);
    assert.equal(count(stdout, "Subject: [local] Approval needed: Deploy release 2026.11 to production"), 3, "every subject names the stack (here, the local mode)");
    assert.match(stdout, new RegExp(`\\nEmail to ${DEE}:\\n-+\\nSubject: \\[local\\] Approval requested: `), "the requester's notice, without a link");
    assert.match(stdout, /Requested by: dee@example\.com/);

    const links = linksPrinted(stdout)!;
    assert.deepEqual([...links.keys()], [ANN, BOB, CY]);
    assert.equal(new Set(links.values()).size, 3, "a link per approver");
    const executionName = /Started execution (\S+)/.exec(stdout)![1];
    for (const approver of [ANN, BOB, CY]) {
      const saved = readFileSync(path.join(ROOT, ".local", "emails", `${executionName}-${approver}.txt`), "utf8");
      assert.ok(saved.includes(links.get(approver)!), `${approver}'s saved email holds their link`);
      for (const other of [ANN, BOB, CY].filter((address) => address !== approver)) assert.ok(!saved.includes(links.get(other)!), `${approver}'s email holds no other link`);
    }

    assert.match(stdout, /SUCCEEDED\n\s+path:\s+Inspect input -> Input is an object\? -> Unwrap input -> Request approval -> Verify decision -> Approved\? -> Approved\n/);
    assert.match(stdout, /"decidedBy": "bob@example\.com"/);
    assert.match(stdout, /"requestedBy": "dee@example\.com"/);
    assert.match(stdout, new RegExp(`\\nEmail to ${ANN}, ${BOB}, ${CY}, ${DEE}:\\n-+\\nSubject: \\[local\\] Approved: `), "the outcome notice to everyone");
    assert.deepEqual(late, { view: 200, vote: 409 }, "after the end, the pages still answer (and decide nothing)");
    assert.match(stdout, /Press Ctrl-C to stop\.\n/);
    assert.match(stdout, /Stopped\.\n$/);
  });

  it("--serve prints the CLI commands to use against it, and they work as printed", async () => {
    let listed: { code: number | null; stdout: string; stderr: string } | undefined;
    const result = await runStart(["--port", "0", "--serve", "--approvers", ANN], {
      onOutput: (stdout, child) => {
        const command = /and see them: node (cli\/human-approval\.js list --local-url http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout)?.[1];
        if (command && listed === undefined && stdout.includes("Open a link in a browser")) {
          listed = { code: null, stdout: "", stderr: "" };
          const cli = spawn(process.execPath, command.split(" "), { cwd: ROOT, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } });
          cli.stdout.on("data", (chunk) => (listed!.stdout += chunk));
          cli.stderr.on("data", (chunk) => (listed!.stderr += chunk));
          cli.on("close", (code) => {
            listed!.code = code;
            child.kill("SIGINT");
          });
        }
      },
    });
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stdout, /or with the CLI, in another terminal: node cli\/human-approval\.js request --title "Rotate keys" --wait --local-url http:\/\/127\.0\.0\.1:\d+\n/);
    assert.equal(listed?.code, 0, listed?.stderr);
    assert.match(listed!.stdout, /^1 pending request, newest first:/);
  });

  it("refuses a bad --required-approvals in one line, exit code 2", async () => {
    const result = await runStart(["--port", "0", "--approvers", `${ANN},${BOB}`, "--required-approvals", "5"]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'Error: --required-approvals is "5": use a whole number from 1 to 2 (the number of approvers in --approvers).\n');
    assert.equal(result.stdout, "");
  });

  it("resolves a relative --input from the directory npm start was run in, and puts --requested-by into it", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "start-input-"));
    try {
      writeFileSync(path.join(directory, "change.json"), JSON.stringify({ title: "From the current directory", ticket: "CHG-7" }));
      let interrupted = false;
      const result = await runStart(["--port", "0", "--input", "change.json", "--approvers", `${ANN},${BOB}`, "--requested-by", BOB], {
        initCwd: directory,
        onOutput: (stdout, child) => {
          if (stdout.includes("Waiting for a decision") && !interrupted) {
            interrupted = true;
            child.kill("SIGINT");
          }
        },
      });
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stdout, /Subject: \[local\] Approval needed: From the current directory/);
      assert.match(result.stdout, /CHG-7/);
      assert.equal(count(result.stdout, "\nEmail to ann@example.com:\n"), 1);
      assert.match(result.stdout, /Requested by: bob@example\.com/);
      assert.equal(linksPrinted(result.stdout)?.size, 1, "the requester gets no link");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("explains an unreadable or invalid input file in words, in one line", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "start-input-"));
    try {
      writeFileSync(path.join(directory, "input.json"), '{"title": "unterminated');
      writeFileSync(path.join(directory, "list.json"), "[1, 2]");
      // Four independent child processes: run at once.
      const [missing, folder, invalid, notAnObject] = await Promise.all([
        runStart(["--input", "no-such-file.json", "--port", "0"], { initCwd: directory }),
        runStart(["--input", directory, "--port", "0"]),
        runStart(["--input", "input.json", "--port", "0"], { initCwd: directory }),
        runStart(["--input", "list.json", "--requested-by", ANN, "--port", "0"], { initCwd: directory }),
      ]);
      assert.equal(missing.code, 2);
      assert.equal(missing.stderr, `Error: Cannot read input file no-such-file.json (${path.join(directory, "no-such-file.json")}): no such file.\n`);
      assert.equal(folder.code, 2);
      assert.equal(folder.stderr, `Error: Cannot read input file ${directory}: it is a directory, not a file.\n`);
      assert.equal(invalid.code, 2);
      assert.match(invalid.stderr, /^Error: Input file input\.json \(.*input\.json\) is not valid JSON: [^\n]+\n$/);
      assert.equal(notAnObject.code, 2);
      assert.equal(notAnObject.stderr, "Error: --requested-by needs an input that is a JSON object, to set its requestedBy field; list.json holds an array.\n");
      for (const result of [missing, folder, invalid, notAnObject]) assert.doesNotMatch(result.stderr, /ENOENT|EISDIR|\n.*\n/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("explains a port in use in one line, with the exact command to use instead", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runStart(["--port", String(port), "--transport", "restApi"]);
      assert.equal(result.code, 2);
      assert.equal(result.stderr, `Error: port ${port} is in use: stop the other process, or use another port: npm start -- --transport restApi --port ${port + 1}\n`);
    } finally {
      blocker.close();
    }
  });

  it("stops on Ctrl-C (SIGINT) while waiting, with exit code 130", async () => {
    let interrupted = false;
    const result = await runStart(["--port", "0"], {
      onOutput: (stdout, child) => {
        if (stdout.includes("Waiting for a decision") && !interrupted) {
          interrupted = true;
          child.kill("SIGINT");
        }
      },
    });
    assert.equal(result.code, 130);
    assert.match(result.stdout, /Stopped\.\n$/);
  });
});
