/**
 * A stand-in for the Slack workspace, for local mode and tests: the Web API methods the functions call
 * (users.lookupByEmail, users.info, conversations.open, chat.postMessage, chat.update, and response_url
 * hooks) at `<origin>/api/<method>`, the functions' SLACK_API_URL; and a small page at `<origin>/` that
 * shows each member's direct messages, whose buttons send Slack's interaction payload, signed with the
 * app's signing secret exactly as Slack signs it, to `<callbackUrl>/slack/interactions`.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { slackSignature } from "../functions/shared/slack/signature";
import { SLACK_ACTIONS, type SlackAction } from "../functions/shared/slack/message";

export interface SlackMember {
  id: string;
  /** The workspace's verified address. */
  email: string;
  name?: string;
}

export interface StandInSlackMessage {
  channel: string;
  ts: string;
  /** The member whose direct message this is. */
  userId: string;
  text: string;
  blocks: unknown[];
  /** The blocks as first posted: a client that still shows the buttons (a stale tab) can press them after an update. */
  postedBlocks: unknown[];
  /** Ephemeral replies under it (only the presser sees them), newest last. */
  replies: string[];
  /** How many times chat.update or a response_url replaced it. */
  updates: number;
}

/** A signed interaction request, as Slack sends it: the HTTP headers and the form body. */
export interface SignedInteraction {
  method: "POST";
  path: "/slack/interactions";
  headers: Record<string, string>;
  body: string;
}

export const STAND_IN_TEAM_ID = "T0LOCAL01";

type Json = Record<string, unknown>;
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

export class SlackStandIn {
  readonly signingSecret = randomBytes(16).toString("hex");
  readonly botToken = `xoxb-local-${randomBytes(12).toString("hex")}`;
  readonly members: SlackMember[] = [];
  readonly messages: StandInSlackMessage[] = [];
  /** Every Web API call by method, for tests ("chat.postMessage": 2). */
  readonly calls = new Map<string, number>();
  /** Where the page's buttons send interactions: the decision endpoint's callbackUrl. */
  callbackUrl?: string;
  /** Slack's clock, for the signature's timestamp (tests use theirs). */
  now: () => Date = () => new Date();
  /** Methods that answer `ok: false` with this error, once per entry (a test's fault). */
  readonly failures = new Map<string, string>();
  private readonly hooks = new Map<string, StandInSlackMessage>();
  private server?: Server;
  origin = "";
  private seq = 0;

  constructor(members: Array<string | SlackMember> = []) {
    for (const member of members) this.addMember(member);
  }

  addMember(member: string | SlackMember): SlackMember {
    const added = typeof member === "string" ? { id: `U${String(this.members.length + 1).padStart(8, "0")}`, email: member } : member;
    this.members.push(added);
    return added;
  }

  /** The functions' SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api`;
  }

  /** The Secrets Manager secret's value for this app (what the component stores). */
  get secretString(): string {
    return JSON.stringify({ signingSecret: this.signingSecret, botToken: this.botToken });
  }

  async listen(port = 0): Promise<string> {
    this.server = createServer((request, response) => {
      this.serve(request, response).catch((error: Error) => response.writeHead(500, { "Content-Type": "text/plain" }).end(error.message));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, "127.0.0.1", () => resolve());
    });
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.origin;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Direct messages of the member with this address, oldest first. */
  messagesFor(email: string): StandInSlackMessage[] {
    const member = this.members.find((candidate) => candidate.email.toLowerCase() === email.toLowerCase());
    return member ? this.messages.filter((message) => message.userId === member.id) : [];
  }

  callCount(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  /**
   * The interaction Slack would send when `pressedBy` (a member id; default the message's own member) presses
   * a button of `message`. `timestamp` and `signingSecret` can be changed to forge or replay one.
   */
  interaction(message: StandInSlackMessage, action: SlackAction, options: { pressedBy?: string; timestamp?: number; signingSecret?: string; value?: string } = {}): SignedInteraction {
    const button = this.buttonsOf(message).find((candidate) => candidate.action_id === action);
    const userId = options.pressedBy ?? message.userId;
    const hook = randomBytes(8).toString("hex");
    this.hooks.set(hook, message);
    const payload = {
      type: "block_actions",
      user: { id: userId, username: userId.toLowerCase(), team_id: STAND_IN_TEAM_ID },
      api_app_id: "A0LOCAL01",
      token: "deprecated-verification-token",
      container: { type: "message", message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      trigger_id: `${Date.now()}.local`,
      team: { id: STAND_IN_TEAM_ID, domain: "local" },
      channel: { id: message.channel, name: "directmessage" },
      message: { type: "message", ts: message.ts, text: message.text, blocks: message.blocks },
      response_url: `${this.origin}/hooks/${hook}`,
      actions: [{ action_id: action, block_id: "decide", value: options.value ?? String(button?.value ?? ""), type: "button", action_ts: `${Date.now() / 1000}` }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = String(options.timestamp ?? Math.floor(this.now().getTime() / 1000));
    return {
      method: "POST",
      path: "/slack/interactions",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slackSignature(options.signingSecret ?? this.signingSecret, timestamp, body),
      },
      body,
    };
  }

  private buttonsOf(message: StandInSlackMessage): Json[] {
    return message.postedBlocks.flatMap((block) => ((block as Json).type === "actions" ? ((block as Json).elements as Json[]) : []));
  }

  private async serve(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", this.origin);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const api = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname);
    if (api && request.method === "POST") return this.webApi(api[1], request, body, response);
    const hook = /^\/hooks\/([0-9a-f]+)$/.exec(url.pathname);
    if (hook && request.method === "POST") return this.responseUrl(hook[1], body, response);
    if (url.pathname === "/press" && request.method === "POST") return this.pressFromPage(request, body, response);
    if (url.pathname === "/" && (request.method === "GET" || request.method === "HEAD")) {
      return void response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(this.page(url.searchParams.get("notice") ?? undefined));
    }
    response.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
  }

  private answer(response: ServerResponse, body: Json) {
    response.writeHead(200, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  }

  private webApi(method: string, request: IncomingMessage, body: string, response: ServerResponse) {
    this.calls.set(method, this.callCount(method) + 1);
    if (request.headers.authorization !== `Bearer ${this.botToken}`) return this.answer(response, { ok: false, error: "invalid_auth" });
    const failure = this.failures.get(method);
    if (failure) {
      this.failures.delete(method);
      return this.answer(response, { ok: false, error: failure });
    }
    const form = new URLSearchParams(body);
    const userJson = (member: SlackMember) => ({ id: member.id, team_id: STAND_IN_TEAM_ID, name: member.name ?? member.email.split("@")[0], profile: { email: member.email } });
    switch (method) {
      case "users.lookupByEmail": {
        const member = this.members.find((candidate) => candidate.email.toLowerCase() === (form.get("email") ?? "").toLowerCase());
        return this.answer(response, member ? { ok: true, user: userJson(member) } : { ok: false, error: "users_not_found" });
      }
      case "users.info": {
        const member = this.members.find((candidate) => candidate.id === form.get("user"));
        return this.answer(response, member ? { ok: true, user: userJson(member) } : { ok: false, error: "user_not_found" });
      }
      case "conversations.open": {
        const member = this.members.find((candidate) => candidate.id === form.get("users"));
        return this.answer(response, member ? { ok: true, channel: { id: `D${member.id.slice(1)}` } } : { ok: false, error: "user_not_found" });
      }
      case "chat.postMessage": {
        const channel = form.get("channel") ?? "";
        const member = this.members.find((candidate) => `D${candidate.id.slice(1)}` === channel);
        if (!member) return this.answer(response, { ok: false, error: "channel_not_found" });
        const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, "0")}`;
        const blocks = JSON.parse(form.get("blocks") ?? "[]") as unknown[];
        this.messages.push({ channel, ts, userId: member.id, text: form.get("text") ?? "", blocks, postedBlocks: blocks, replies: [], updates: 0 });
        return this.answer(response, { ok: true, channel, ts });
      }
      case "chat.update": {
        const message = this.messages.find((candidate) => candidate.channel === form.get("channel") && candidate.ts === form.get("ts"));
        if (!message) return this.answer(response, { ok: false, error: "message_not_found" });
        Object.assign(message, { text: form.get("text") ?? "", blocks: JSON.parse(form.get("blocks") ?? "[]") as unknown[], updates: message.updates + 1 });
        return this.answer(response, { ok: true, channel: message.channel, ts: message.ts });
      }
      default:
        return this.answer(response, { ok: false, error: "unknown_method" });
    }
  }

  private responseUrl(hook: string, body: string, response: ServerResponse) {
    this.calls.set("response_url", this.callCount("response_url") + 1);
    const message = this.hooks.get(hook);
    if (!message) return void response.writeHead(404, { "Content-Type": "text/plain" }).end("no_such_hook");
    const update = JSON.parse(body) as { text?: string; blocks?: unknown[]; replace_original?: boolean };
    if (update.replace_original) Object.assign(message, { text: update.text ?? "", blocks: update.blocks ?? [], updates: message.updates + 1 });
    else message.replies.push(update.text ?? "");
    response.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
  }

  /** A button on the page: sign the interaction as Slack would and send it to the decision endpoint. */
  private async pressFromPage(request: IncomingMessage, body: string, response: ServerResponse) {
    const site = request.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") return void response.writeHead(403, { "Content-Type": "text/plain" }).end("Only this page presses buttons.");
    const form = new URLSearchParams(body);
    const message = this.messages.find((candidate) => candidate.channel === form.get("channel") && candidate.ts === form.get("ts"));
    const action = form.get("action");
    if (!message || !this.callbackUrl || (action !== SLACK_ACTIONS.approve && action !== SLACK_ACTIONS.reject)) return void response.writeHead(400, { "Content-Type": "text/plain" }).end("No such message or button.");
    const interaction = this.interaction(message, action);
    const answer = await fetch(`${this.callbackUrl}${interaction.path}`, { method: "POST", headers: interaction.headers, body: interaction.body });
    const reply = (await answer.json().catch(() => ({}))) as { text?: string };
    response.writeHead(303, { Location: `/?notice=${encodeURIComponent(`${answer.status}: ${reply.text ?? ""}`)}` }).end();
  }

  private renderBlock(block: Json, message: StandInSlackMessage): string {
    const textOf = (value: unknown) => escapeHtml(String((value as Json | undefined)?.text ?? ""));
    switch (block.type) {
      case "header":
        return `<h3>${textOf(block.text)}</h3>`;
      case "section":
        return `<pre>${textOf(block.text)}</pre>`;
      case "context":
        return `<p class="context">${((block.elements as Json[]) ?? []).map(textOf).join(" ")}</p>`;
      case "actions":
        return `<div class="actions">${((block.elements as Json[]) ?? [])
          .map((element) =>
            element.url
              ? `<a class="button" href="${escapeHtml(String(element.url))}" target="_blank" rel="noreferrer">${textOf(element.text)}</a>`
              : `<form method="post" action="/press"><input type="hidden" name="channel" value="${escapeHtml(message.channel)}"><input type="hidden" name="ts" value="${escapeHtml(message.ts)}"><input type="hidden" name="action" value="${escapeHtml(String(element.action_id))}"><button class="${escapeHtml(String(element.style ?? ""))}">${textOf(element.text)}</button></form>`,
          )
          .join("")}</div>`;
      default:
        return "";
    }
  }

  private page(notice?: string): string {
    const people = this.members
      .map((member) => {
        const messages = this.messages.filter((message) => message.userId === member.id);
        const shown = messages.length
          ? messages.map((message) => `<article>${message.blocks.map((block) => this.renderBlock(block as Json, message)).join("")}${message.replies.map((reply) => `<p class="reply">Only visible to you: ${escapeHtml(reply)}</p>`).join("")}</article>`).join("")
          : "<p class=\"context\">No messages.</p>";
        return `<section><h2>Direct messages of ${escapeHtml(member.email)} <small>(${escapeHtml(member.id)})</small></h2>${shown}</section>`;
      })
      .join("");
    const style = `body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1d1c1d}h2{font-size:1.1rem;border-bottom:1px solid #ddd}article{border:1px solid #ddd;border-left:4px solid #4a154b;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}pre{white-space:pre-wrap;font:inherit;margin:.4rem 0}.actions{display:flex;gap:.5rem}.actions form{margin:0}button,.button{font:inherit;padding:.3rem .9rem;border:1px solid #bbb;border-radius:4px;background:#fff;color:#1d1c1d;text-decoration:none;cursor:pointer}.primary{background:#007a5a;color:#fff;border-color:#007a5a}.danger{background:#e01e5a;color:#fff;border-color:#e01e5a}.context,.reply{color:#616061;font-size:.9rem}.notice{background:#fff8db;padding:.5rem 1rem;border-radius:4px}`;
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Slack stand-in</title><style>${style}</style></head><body><h1>Slack stand-in: direct messages</h1><p class="context">Each button sends Slack's interaction payload, signed with the app's signing secret, to ${escapeHtml(this.callbackUrl ?? "(no endpoint yet)")}/slack/interactions.</p>${notice ? `<p class="notice">${escapeHtml(notice)}</p>` : ""}${people}</body></html>`;
  }
}
