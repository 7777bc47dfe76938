/**
 * The few Slack Web API calls this stack makes, as plain HTTPS requests (no Slack SDK: five methods and
 * a response_url post do not need one, and the bundles stay small). Methods are called at
 * `https://slack.com/api/<method>`, or at `$SLACK_API_URL/<method>` (local mode and tests only).
 * Every call has a deadline: a slow Slack never holds a vote or a request past the function's timeout.
 */
import { normaliseAddress } from "../address";

export const SLACK_API_URL = "https://slack.com/api";
/** Each Web API call's deadline; a few calls fit well inside both functions' timeouts. */
export const SLACK_CALL_TIMEOUT_MS = 2_500;

/** Slack answered `ok: false` (the method's error code), or could not be reached. */
export class SlackApiError extends Error {
  override name = "SlackApiError";
  constructor(readonly method: string, readonly code: string) {
    super(`Slack ${method} failed: ${code}`);
  }
}

/** A message as chat.postMessage and chat.update take it: fallback text and Block Kit blocks. */
export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

/** What a response_url takes: a message that replaces the original one, or an ephemeral reply under it. */
export interface SlackResponse extends SlackMessage {
  replace_original: boolean;
  response_type?: "ephemeral" | "in_channel";
}

export interface SlackUser {
  id: string;
  teamId?: string;
  /** The workspace's verified address, in the one normalised form (functions/shared/address.ts); undefined if none or not plain. */
  email?: string;
}

export interface SlackApi {
  /** users.lookupByEmail: the workspace member with this address, or undefined when there is none. */
  lookupByEmail(email: string): Promise<SlackUser | undefined>;
  /** users.info: who pressed a button (scope users:read.email for the address). */
  userInfo(userId: string): Promise<SlackUser | undefined>;
  /** conversations.open: the direct message channel with this user. */
  openDirectMessage(userId: string): Promise<string>;
  postMessage(channel: string, message: SlackMessage): Promise<{ channel: string; ts: string }>;
  updateMessage(channel: string, ts: string, message: SlackMessage): Promise<void>;
  /** Posts to an interaction's response_url; only Slack's own hooks (or the local stand-in) are ever called. */
  respond(responseUrl: string, response: SlackResponse): Promise<void>;
}

type Fetch = typeof fetch;

export interface SlackWebApiOptions {
  /** The bot token (xoxb-…), read from Secrets Manager when first needed. */
  botToken: () => Promise<string>;
  /** Base URL of the Web API; `SLACK_API_URL` in local mode and tests. */
  baseUrl?: string;
  fetch?: Fetch;
  timeoutMs?: number;
}

/** Response URLs Slack hands out; anything else in a payload is not followed (it would make this function a proxy). */
export function isSlackResponseUrl(url: string, baseUrl = SLACK_API_URL): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === "https:" && parsed.hostname === "hooks.slack.com" && parsed.port === "") return true;
  // The local stand-in's own hooks, under the base URL it serves the Web API on.
  return baseUrl !== SLACK_API_URL && parsed.origin === new URL(baseUrl).origin && parsed.pathname.startsWith("/hooks/");
}

type Answer = { ok?: boolean; error?: string } & Record<string, unknown>;
const asRecord = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {});

function userOf(value: unknown): SlackUser | undefined {
  const user = asRecord(value);
  if (typeof user.id !== "string") return undefined;
  const email = asRecord(user.profile).email;
  return {
    id: user.id,
    ...(typeof user.team_id === "string" ? { teamId: user.team_id } : {}),
    ...(typeof email === "string" && normaliseAddress(email) ? { email: normaliseAddress(email) } : {}),
  };
}

export function slackWebApi(options: SlackWebApiOptions): SlackApi {
  const baseUrl = (options.baseUrl ?? SLACK_API_URL).replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? SLACK_CALL_TIMEOUT_MS;

  // Form-encoded: every method takes it (some read-only ones take no JSON); blocks travel as a JSON string.
  const call = async (method: string, fields: Record<string, string | unknown[] | boolean>): Promise<Answer> => {
    const token = await options.botToken();
    const body = new URLSearchParams(Object.entries(fields).map(([name, value]): [string, string] => [name, typeof value === "string" ? value : JSON.stringify(value)]));
    let answer: Answer;
    try {
      const response = await fetchImpl(`${baseUrl}/${method}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status === 429) throw new SlackApiError(method, "ratelimited");
      answer = asRecord(await response.json()) as Answer;
    } catch (error) {
      if (error instanceof SlackApiError) throw error;
      throw new SlackApiError(method, (error as Error)?.name === "TimeoutError" ? "timeout" : "unreachable");
    }
    if (answer.ok !== true) throw new SlackApiError(method, typeof answer.error === "string" ? answer.error.slice(0, 64) : "unknown_error");
    return answer;
  };

  return {
    async lookupByEmail(email) {
      try {
        return userOf((await call("users.lookupByEmail", { email })).user);
      } catch (error) {
        if (error instanceof SlackApiError && error.code === "users_not_found") return undefined;
        throw error;
      }
    },
    async userInfo(userId) {
      try {
        return userOf((await call("users.info", { user: userId })).user);
      } catch (error) {
        if (error instanceof SlackApiError && error.code === "user_not_found") return undefined;
        throw error;
      }
    },
    async openDirectMessage(userId) {
      const channel = asRecord((await call("conversations.open", { users: userId })).channel).id;
      if (typeof channel !== "string") throw new SlackApiError("conversations.open", "no_channel");
      return channel;
    },
    async postMessage(channel, message) {
      const answer = await call("chat.postMessage", { channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false });
      if (typeof answer.ts !== "string") throw new SlackApiError("chat.postMessage", "no_ts");
      return { channel: typeof answer.channel === "string" ? answer.channel : channel, ts: answer.ts };
    },
    async updateMessage(channel, ts, message) {
      await call("chat.update", { channel, ts, text: message.text, blocks: message.blocks });
    },
    async respond(responseUrl, response) {
      if (!isSlackResponseUrl(responseUrl, baseUrl)) throw new SlackApiError("response_url", "not_a_slack_url");
      try {
        const answer = await fetchImpl(responseUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(response), signal: AbortSignal.timeout(timeoutMs) });
        if (!answer.ok) throw new SlackApiError("response_url", `http_${answer.status}`);
      } catch (error) {
        if (error instanceof SlackApiError) throw error;
        throw new SlackApiError("response_url", (error as Error)?.name === "TimeoutError" ? "timeout" : "unreachable");
      }
    },
  };
}
