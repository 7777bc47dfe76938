/**
 * Which function invocation an AWS call belongs to, in the local mode: every handler invocation runs in its
 * own async context, and each HTTP request it makes is tagged with that invocation's id (a header the
 * stand-in reads). The stand-in can then stop one invocation as if its function had crashed, while the
 * others (a verification step that runs meanwhile) go on.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type * as http from "node:http";
// The module itself, not an import namespace (whose properties are read-only getters): the wrapper must be
// what every `http.request` caller sees.
const httpModule: typeof http = require("node:http");

export const INVOCATION_HEADER = "x-local-invocation";
const current = new AsyncLocalStorage<string>();
let tagging = false;

/**
 * Tags every HTTP request made inside `runInvocation` with its invocation id (once per process). The
 * functions reach the local endpoints over plain http; `http.request` is wrapped, as HTTP mocking libraries do.
 */
function tagRequests() {
  if (tagging) return;
  tagging = true;
  const request = httpModule.request;
  httpModule.request = function tagged(this: unknown, ...args: unknown[]) {
    const outgoing = (request as (...all: unknown[]) => http.ClientRequest).apply(this, args);
    const id = current.getStore();
    if (id) outgoing.setHeader(INVOCATION_HEADER, id);
    return outgoing;
  } as typeof http.request;
}

/** A function that crashed (injected): what Lambda reports for a function that died. */
export class InvocationCrashed extends Error {
  override name = "Lambda.Unknown";
}

/**
 * Runs one invocation of a handler. `crashed(id)` says whether the stand-in stopped it (a crash fault); then
 * the invocation fails as a crashed function would, whatever the handler made of the errors it saw.
 */
export async function runInvocation<T>(handler: () => Promise<T>, crashed: (id: string) => boolean): Promise<T> {
  tagRequests();
  const id = randomUUID();
  const result = await current.run(id, handler).then((value) => ({ value }), (error: unknown) => ({ error }));
  if (crashed(id)) throw new InvocationCrashed("The function crashed (an injected fault) right after one of its AWS calls.");
  if ("error" in result) throw result.error;
  return result.value;
}
