import { createServer, type IncomingMessage, type Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { AnyRouter } from "@trpc/server";
import { getWSConnectionHandler, type WSSHandlerOptions } from "@trpc/server/adapters/ws";
import type { FastifyInstance } from "fastify";
import { type WebSocket, WebSocketServer } from "ws";
import { wsProtocolErrorCode } from "./client-mistakes.js";

/** The tRPC notification that makes wsLink clients reconnect (to another instance). */
const RECONNECT_NOTIFICATION = JSON.stringify({ id: null, method: "reconnect" });

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
}

function destroyOnError(this: Duplex) {
  this.destroy();
}

/**
 * tRPC's WebSocket endpoint on our own `ws` server (`noServer`), instead of `@fastify/websocket`'s
 * route. Why: that route keeps the upgrade's Fastify Request and Reply (and a ServerResponse tied to
 * the socket) alive for the socket's whole life, through the error listener it puts on every
 * socket (about 2.3 KiB of the ~26 KiB an idle subscription cost: bench/BENCHMARKS.md).
 *
 * An upgrade to `path` is still dispatched through Fastify (`app.routing`, as `@fastify/websocket`
 * does), so every onRequest guard runs exactly as for HTTP and answers a refusal the same way
 * (origin and dev-host checks 403, the rate limit 429, the connection ceiling 503; the socket is
 * closed once the refusal is written). Only the route's handler differs: it hands the socket to
 * `ws` and keeps nothing of the request but the IncomingMessage tRPC's context reads. Upgrades to
 * any other path go to `@fastify/websocket`, which is given `forwardTo` as its server to listen on.
 * @see https://trpc.io/docs/server/websockets (getWSConnectionHandler: tRPC on your own ws server)
 * @see https://github.com/websockets/ws#multiple-servers-sharing-a-single-https-server
 */
export function createTrpcWebSocket<TRouter extends AnyRouter>(opts: { path: string; maxPayload: number }) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
  const pending = new WeakMap<IncomingMessage, PendingUpgrade>();
  /** Where upgrades to other paths are re-emitted; `@fastify/websocket` listens here, not on the real server. */
  const forwardTo: Server = createServer();

  return {
    wss,
    forwardTo,
    /** Open WebSockets on `path` right now (for the metrics). */
    clients: () => wss.clients.size,

    /** Listens for upgrades on the app's server; call after `@fastify/websocket` is registered with `forwardTo`. */
    attach(app: FastifyInstance) {
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (pathOf(req.url) !== opts.path) {
          forwardTo.emit("upgrade", req, socket, head);
          return;
        }
        // Node drops its own socket error listener before 'upgrade': keep the socket guarded while
        // the hooks run (`ws` puts its own on in handleUpgrade).
        socket.on("error", destroyOnError);
        pending.set(req, { socket, head });
        const res = new ServerResponse(req);
        try {
          res.assignSocket(socket as never);
          app.routing(req, res);
        } catch (err) {
          app.log.warn({ err }, "WebSocket upgrade failed");
          socket.destroy();
        }
      };
      app.server.on("upgrade", onUpgrade);
      // A refused upgrade (403, 429, 503, 404): the answer is written, the socket must not linger.
      app.addHook("onResponse", async (request) => {
        const upgrade = pending.get(request.raw);
        if (upgrade) {
          pending.delete(request.raw);
          upgrade.socket.destroy();
        }
      });
      app.addHook("preClose", (done) => {
        app.server.removeListener("upgrade", onUpgrade);
        // Tell tRPC clients to reconnect (they will land on another instance), then close.
        for (const client of wss.clients) {
          try {
            client.send(RECONNECT_NOTIFICATION);
            client.close(1012, "server restarting");
          } catch {
            client.terminate();
          }
        }
        wss.close(() => done());
      });
    },

    /**
     * The route for `path` (register it where the tRPC hooks apply); `handlerOptions.wss` is `wss`. A plain GET without an upgrade
     * is answered 404, as `@fastify/websocket`'s route did.
     */
    route(app: FastifyInstance, handlerOptions: WSSHandlerOptions<TRouter>) {
      const onConnection = getWSConnectionHandler(handlerOptions);
      const log = app.log;
      // One listener for every socket (a closure per socket would cost each connection memory).
      function onSocketError(this: WebSocket, error: Error) {
        const code = wsProtocolErrorCode(error);
        // `ws` has already answered a protocol error with its close code (1009 for a frame too big).
        if (code) log.warn({ code, reason: error.message }, "WebSocket closed: the client sent a frame it may not send");
        else log.error({ err: error }, "WebSocket failed");
        this.terminate();
      }
      app.get(opts.path, (request, reply) => {
        const raw = request.raw;
        const upgrade = pending.get(raw);
        if (!upgrade) return reply.code(404).send();
        pending.delete(raw);
        reply.hijack();
        // The ServerResponse was only there for a refusal: unhook it so the socket does not keep it
        // (and, through it, the request) alive.
        (reply.raw as ServerResponse).detachSocket(upgrade.socket as never);
        upgrade.socket.removeListener("error", destroyOnError);
        wss.handleUpgrade(raw, upgrade.socket, upgrade.head, (socket: WebSocket) => {
          socket.on("error", onSocketError);
          onConnection(socket, raw);
        });
      });
    },
  };
}

function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}
