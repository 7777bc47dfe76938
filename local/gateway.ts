/**
 * The local stand-in for the chosen transport: an HTTP server on 127.0.0.1 that
 * turns each browser request into that transport's Lambda event, calls the
 * decision handler, and writes its response back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpResponse } from "../functions/decision/decision";
import type { Transport } from "../functions/decision/httpEvent";
import { REST_API_STAGE_PATH, TRANSPORT_EVENTS } from "./transportEvents";

/** Answers a path the transport does not own (the local control API); undefined to pass it on. */
export type LocalRoute = (request: IncomingMessage, body: Buffer, url: URL) => Promise<{ statusCode: number; body: unknown } | undefined>;

const MAX_BODY_BYTES = 1024 * 1024;

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
  decide: (event: unknown) => Promise<HttpResponse>;
  localRoute?: LocalRoute;
}): Promise<LocalGateway> {
  const stagePrefix = options.transport === "restApi" ? REST_API_STAGE_PATH : "";

  async function serve(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const body = await readBody(request);
    if (body === undefined) return void response.writeHead(413, { "Content-Type": "text/plain" }).end("Request body too large.");
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

  const server: Server = createServer((request, response) => {
    serve(request, response).catch((error: Error) => {
      response.writeHead(502, { "Content-Type": "text/plain" }).end(`Local gateway error: ${error.message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "EADDRINUSE" ? new PortInUseError(options.port) : error));
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    callbackUrl: `${origin}${stagePrefix}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
