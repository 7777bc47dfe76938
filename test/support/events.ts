/** Test helpers over the real transport event builders in local/transportEvents.ts. */
import type { Transport } from "../../functions/decision/httpEvent";
import { TRANSPORT_EVENTS, type PlainHttpRequest } from "../../local/transportEvents";

export type HttpCall = PlainHttpRequest;
export const EVENT_BUILDERS: Record<Transport, (call: HttpCall) => unknown> = TRANSPORT_EVENTS;
export const ALL_TRANSPORTS = Object.keys(TRANSPORT_EVENTS) as Transport[];

/** A browser's form post from the review page itself. */
export function formPost(path: string, fields: Record<string, string>, extraHeaders: Record<string, string> = {}): HttpCall {
  return {
    method: "POST",
    path,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html,application/xhtml+xml", "Sec-Fetch-Site": "same-origin", "User-Agent": "Mozilla/5.0 test", ...extraHeaders },
    body: new URLSearchParams(fields).toString(),
  };
}

export function jsonPost(path: string, body: unknown): HttpCall {
  return { method: "POST", path, headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) };
}
