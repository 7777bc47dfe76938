/**
 * The local stand-in for the chosen transport: an HTTP server on 127.0.0.1 that
 * turns each browser request into that transport's Lambda event, calls the
 * decision handler, and writes its response back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import type { HttpResponse } from "../functions/decision/decision";
import type { Transport } from "../functions/decision/httpEvent";
import { REST_API_STAGE_PATH, TRANSPORT_EVENTS } from "./transportEvents";

/** Answers a path the transport does not own (the local control API); undefined to pass it on. */
export type LocalRoute = (request: IncomingMessage, body: Buffer, url: URL) => Promise<{ statusCode: number; body: unknown } | undefined>;

const MAX_BODY_BYTES = 1024 * 1024;

/** The local control API (start executions, read their outcome, the stack's outputs): for this machine's own scripts only. */
const CONTROL_PATH = /^\/(executions(\/|$)|stack-outputs$)/;
/** Where the gateway listens unless told otherwise; `npm start -- --host` sets LOCAL_GATEWAY_HOST. */
export const DEFAULT_HOST = "127.0.0.1";
const LOOPBACK_ADDRESS = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_ADDRESS.test(host) || host === "localhost";
}

/**
 * Why a request may not use the control API, or undefined if it may. It must come from this machine
 * (a loopback peer), name this gateway by a loopback name in its Host header (a DNS-rebinding page
 * names its own domain), and not come from another site (a browser says so in Sec-Fetch-Site or Origin).
 */
export function controlApiRefusal(request: { headers: Record<string, string | string[] | undefined>; peer?: string }, port: number, what = "The control API"): string | undefined {
  if (!request.peer || !LOOPBACK_ADDRESS.test(request.peer)) return `${what} answers only requests from this machine.`;
  const host = String(request.headers.host ?? "").toLowerCase();
  if (!LOOPBACK_NAMES.some((name) => host === `${name}:${port}`)) return `${what} answers only requests addressed to 127.0.0.1:${port} or localhost:${port}, not ${JSON.stringify(host)}.`;
  const fetchSite = request.headers["sec-fetch-site"];
  if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") return `${what} refuses requests from other sites.`;
  const origin = request.headers.origin;
  if (origin !== undefined && !LOOPBACK_NAMES.some((name) => origin === `http://${name}:${port}`)) return `${what} refuses requests from other sites.`;
  return undefined;
}

/**
 * Makes a local stand-in server (the AWS stand-in, dynalite) answer only this machine's SDK clients, as the
 * control API does: a web page that rebinds its own name to 127.0.0.1, or posts across sites, gets a 403
 * before any handler runs. Call before `listen`.
 */
export function refuseForeignRequests(server: Server, what: string): void {
  const handlers = server.listeners("request") as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const refusal = controlApiRefusal({ headers: request.headers, peer: request.socket.remoteAddress }, (server.address() as AddressInfo).port, what);
    if (refusal) return void response.writeHead(403, { "Content-Type": "application/json" }).end(JSON.stringify({ __type: "AccessDeniedException", message: refusal }));
    for (const handler of handlers) handler(request, response);
  });
}

/**
 * Why a request may not reach the pages, or undefined if it may: its Host must name this gateway (a
 * loopback name, or with --host 0.0.0.0 one of this machine's addresses) at its port. A DNS-rebinding
 * page names its own domain, and would otherwise read review pages as the same origin.
 */
export function pageHostRefusal(hostHeader: string | undefined, port: number, listenHost: string): string | undefined {
  const host = String(hostHeader ?? "").toLowerCase();
  const names = [...LOOPBACK_NAMES, ...(WILDCARD_HOSTS.includes(listenHost) ? networkAddresses() : isLoopbackHost(listenHost) ? [] : [linkHost(listenHost)])];
  return names.some((name) => host === `${name}:${port}`) ? undefined : `This server answers only requests addressed to it (127.0.0.1:${port}), not ${JSON.stringify(host)}.`;
}

/** Addresses the gateway may listen on: this machine only (loopback), or every interface. */
export const WILDCARD_HOSTS = ["0.0.0.0", "::"];

/** This machine's addresses on its networks, for "open the pages from another machine". */
export function networkAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((address) => (address && !address.internal && address.family === "IPv4" ? [address.address] : []));
}

/**
 * The address links name. Always a loopback one: the functions accept a plain-http callback URL only
 * on loopback (anything else must be https), so from another machine a link is opened with
 * 127.0.0.1 replaced by this machine's address.
 */
function linkHost(host: string): string {
  if (WILDCARD_HOSTS.includes(host) || host === "localhost") return DEFAULT_HOST;
  return isIP(host) === 6 ? `[${host}]` : host;
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`Port ${port} is in use: stop the other process or pass --port <another port>.`);
    this.name = "PortInUseError";
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, Array.isArray(value) ? value.join(",") : value]])));
}

export interface LocalGateway {
  /** What the deployed stack would export as `callbackUrl` (REST APIs carry the stage path). */
  callbackUrl: string;
  origin: string;
  close(): Promise<void>;
}

export async function startGateway(options: {
  transport: Transport;
  port: number;
  /** The address to listen on; default LOCAL_GATEWAY_HOST, else 127.0.0.1. */
  host?: string;
  decide: (event: unknown) => Promise<HttpResponse>;
  localRoute?: LocalRoute;
}): Promise<LocalGateway> {
  const stagePrefix = options.transport === "restApi" ? REST_API_STAGE_PATH : "";

  async function serve(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const body = await readBody(request);
    if (body === undefined) return void response.writeHead(413, { "Content-Type": "text/plain" }).end("Request body too large.");
    if (CONTROL_PATH.test(url.pathname)) {
      const refusal = controlApiRefusal({ headers: request.headers, peer: request.socket.remoteAddress }, port);
      if (refusal) return void response.writeHead(403, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify({ error: refusal }));
    }
    // The pages take cross-site navigations (a link clicked in webmail), but only under this server's own name.
    const hostRefusal = pageHostRefusal(request.headers.host, port, host);
    if (hostRefusal) return void response.writeHead(403, { "Content-Type": "text/plain; charset=utf-8" }).end(hostRefusal);
    const local = await options.localRoute?.(request, body, url);
    if (local) {
      response.writeHead(local.statusCode, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify(local.body, null, 2));
      return;
    }
    // A REST API only serves paths under its stage; the event's `path` is the part after it.
    if (stagePrefix && !url.pathname.startsWith(`${stagePrefix}/`)) {
      return void response.writeHead(403, { "Content-Type": "application/json" }).end('{"message":"Forbidden"}');
    }
    const event = TRANSPORT_EVENTS[options.transport]({
      method: request.method ?? "GET",
      path: url.pathname.slice(stagePrefix.length),
      query: Object.fromEntries(url.searchParams),
      headers: flatHeaders(request),
      body,
      sourceIp: request.socket.remoteAddress,
    });
    const answer = await options.decide(event);
    // Cookies come back in the payload format's own field: `cookies` (2.0) or `multiValueHeaders` (1.0).
    const setCookies = [...(answer.cookies ?? []), ...(answer.multiValueHeaders?.["Set-Cookie"] ?? [])];
    response.writeHead(answer.statusCode, { ...answer.headers, ...(setCookies.length ? { "Set-Cookie": setCookies } : {}) }).end(request.method === "HEAD" ? undefined : answer.body);
  }

  const host = options.host ?? process.env.LOCAL_GATEWAY_HOST ?? DEFAULT_HOST;
  let port = options.port;
  const server: Server = createServer((request, response) => {
    serve(request, response).catch((error: Error) => {
      response.writeHead(502, { "Content-Type": "text/plain" }).end(`Local gateway error: ${error.message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "EADDRINUSE" ? new PortInUseError(options.port) : error));
    server.listen(options.port, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${linkHost(host)}:${port}`;
  return {
    origin,
    callbackUrl: `${origin}${stagePrefix}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
