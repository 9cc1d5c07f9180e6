import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { trpcErrorBody } from "./trpc-errors.js";

/** Probes an orchestrator sends: answered even past the ceiling, so a busy instance is not killed as dead. */
const PROBES = new Set(["/health", "/ready", "/metrics"]);

export interface ConnectionCeiling {
  /** TCP connections open on this instance right now (HTTP keep-alive, SSE and WebSocket alike). */
  open(): number;
  /** Connections answered 503 because the ceiling was reached, since start. */
  refused(): number;
}

/**
 * MAX_CONNECTIONS: past it, a new connection's request is answered 503 with a reason (a WebSocket
 * upgrade too, so the socket never opens) and the connection closed, while every connection
 * already open keeps working. It sits well below the process's open-file limit so the instance
 * refuses cleanly instead of having accept(2) fail and sockets reset at random. Node's own
 * `maxConnections` backs it up a little higher: a flood past both is dropped unanswered rather
 * than spending the descriptors the working connections need.
 */
export function registerConnectionCeiling(app: FastifyInstance, max: number): ConnectionCeiling {
  let open = 0;
  let refused = 0;
  const over = new WeakSet<Socket>();
  app.server.maxConnections = max + Math.max(100, Math.ceil(max / 10));
  app.server.on("connection", (socket: Socket) => {
    open++;
    socket.once("close", () => open--);
    if (open > max) over.add(socket);
  });
  app.addHook("onRequest", async (req, reply) => {
    if (!over.has(req.raw.socket)) return;
    reply.header("connection", "close");
    if (PROBES.has(req.url.split("?")[0] ?? "")) return;
    refused++;
    return reply
      .code(503)
      .header("retry-after", "5")
      .send(
        trpcErrorBody(
          503,
          `this instance is at its connection ceiling (MAX_CONNECTIONS=${max}); retry shortly, or through another instance`,
        ),
      );
  });
  return { open: () => open, refused: () => refused };
}
