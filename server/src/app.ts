import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import websocket from "@fastify/websocket";
import type { TRPCError } from "@trpc/server";
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AppDeps } from "./deps.js";
import { batchLimitHook } from "./http/batch-limit.js";
import { wsProtocolErrorCode } from "./http/client-mistakes.js";
import { registerConnectionCeiling } from "./http/connection-ceiling.js";
import { githubAuthRoutes } from "./http/github-auth.js";
import { registerHealthRoutes } from "./http/health.js";
import { invitePage } from "./http/invite-page.js";
import { registerMetrics } from "./http/metrics.js";
import { registerRequestGuards } from "./http/request-guards.js";
import { restView } from "./http/rest.js";
import { registerShareBodyLimit } from "./http/share-body-limit.js";
import { trpcFastifyErrorHandler } from "./http/trpc-errors.js";
import { createTrpcWebSocket } from "./http/trpc-websocket.js";
import { budgetsOf } from "./limits/budgets.js";
import { addressKey, perAddressStore } from "./limits/calls.js";
import { trustFunction } from "./limits/trust-proxy.js";
import { wsEncoder } from "./realtime/ws-encoder.js";
import { type AppRouter, appRouter } from "./routers/_app.js";
import { createContextFactory } from "./trpc/context.js";
import { reportProcedureError } from "./trpc/errors.js";

export const TRPC_PREFIX = "/trpc";
/** Largest WebSocket message accepted; bigger frames close the connection (1009). */
export const WS_MAX_PAYLOAD = 1024 * 1024;

/** The tRPC notification that makes wsLink clients reconnect (to another instance). */
const RECONNECT_NOTIFICATION = JSON.stringify({
  id: null,
  method: "reconnect",
});

/**
 * Builds the whole HTTP/WebSocket app from injected dependencies. It never listens and never
 * opens or closes the database or bus: its owner (main.ts, or a test) does.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // A client that dribbles its headers or body (slowloris) is answered 408 and dropped instead of
    // holding a socket and a parser forever. Only the receiving of a request is timed: answers,
    // WebSocket connections and SSE streams live on. Node checks the deadlines every
    // `connectionsCheckingInterval`, so a quarter of the shorter one keeps the overshoot small.
    requestTimeout: config.timeouts.requestMs,
    http: {
      headersTimeout: config.timeouts.headersMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.timeouts.headersMs / 4))),
    },
    trustProxy: trustFunction(config.trustProxy),
    routerOptions: { maxParamLength: 5000 },
  });

  await app.register(helmet, { global: true, contentSecurityPolicy: false });
  await app.register(cors, {
    origin: config.corsOrigins === "*" ? true : config.corsOrigins,
    allowedHeaders: ["authorization", "content-type", "trpc-accept", "last-event-id"],
  });
  await app.register(rateLimit, {
    max: config.rateLimits.perAddress,
    timeWindow: "1 minute",
    // Counted with the WebSocket calls of the same address (limits/calls.ts), in Redis when configured.
    store: perAddressStore(deps.limiter, budgetsOf(config).perAddress),
    keyGenerator: (req) => addressKey(req.ip),
    allowList: (req) => req.url === "/health" || req.url === "/ready" || req.url === "/metrics",
    // Thrown as an error: under /trpc the tRPC-shaped error handler turns it into a 429 body.
    errorResponseBuilder: (_req, context) => ({
      statusCode: 429,
      code: "FST_RATE_LIMITED",
      message: `Too many requests: at most ${context.max} a minute from this address; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  // /trpc upgrades are served by our own `ws` server (http/trpc-websocket.ts); `@fastify/websocket`
  // keeps any other WebSocket route, listening on the upgrades that server passes on.
  const trpcSocket = createTrpcWebSocket<AppRouter>({ path: TRPC_PREFIX, maxPayload: WS_MAX_PAYLOAD });
  await app.register(websocket, {
    options: { maxPayload: WS_MAX_PAYLOAD, server: trpcSocket.forwardTo },
    // `ws` has already answered a protocol error with its close code (1009 for a frame too big).
    errorHandler(error, socket, request) {
      const code = wsProtocolErrorCode(error);
      if (code) request.log.warn({ code, reason: error.message }, "WebSocket closed: the client sent a frame it may not send");
      else request.log.error({ err: error }, "WebSocket failed");
      socket.terminate();
    },
    // Tell tRPC clients to reconnect (they will land on another instance), then close.
    preClose(done) {
      for (const client of this.websocketServer.clients) {
        try {
          client.send(RECONNECT_NOTIFICATION);
          client.close(1012, "server restarting");
        } catch {
          client.terminate();
        }
      }
      this.websocketServer.close(() => done());
    },
  });
  trpcSocket.attach(app);

  // A refused upgrade's socket is destroyed once the 403 (or 503) is written: by trpcSocket's
  // onResponse hook for /trpc, by `@fastify/websocket`'s (whose onRequest hook runs first) for others.
  const ceiling = registerConnectionCeiling(app, config.maxConnections);
  registerRequestGuards(app, config);
  registerMetrics(app, deps.metrics, config.metricsToken, {
    connections: ceiling.open,
    websockets: () => trpcSocket.clients() + app.websocketServer.clients.size,
  });
  registerHealthRoutes(app, deps);
  await app.register(githubAuthRoutes, { prefix: "/auth/github", deps });
  await app.register(invitePage, { deps });

  // Encapsulated (no fastify-plugin): tRPC replaces the JSON parser in its own context only.
  await app.register(async (scope) => {
    scope.setErrorHandler(trpcFastifyErrorHandler);
    scope.addHook("onRequest", batchLimitHook(TRPC_PREFIX, config.maxBatchSize));
    registerShareBodyLimit(scope, config);
    // One set of options for HTTP and WebSocket, as the Fastify adapter's `useWSS` shared them.
    const trpcOptions = {
      router: appRouter,
      createContext: createContextFactory(deps),
      // For WebSocket messages; HTTP batches are refused earlier with a clearer message (batchLimitHook).
      maxBatchSize: config.maxBatchSize,
      keepAlive: { enabled: true, pingMs: 25_000, pongWaitMs: 10_000 },
      // JSON like the default, but an event shared by many subscribers is serialized once.
      experimental_encoder: wsEncoder,
      // Typed for both transports (HTTP hands a Fastify request, WebSocket an IncomingMessage).
      onError({ error, path, type }: { error: TRPCError; path: string | undefined; type: string }) {
        reportProcedureError(deps.logger, { error, path, type });
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"];
    await scope.register(fastifyTRPCPlugin, { prefix: TRPC_PREFIX, trpcOptions });
    // The WebSocket endpoint (GET /trpc, upgrades only: http/trpc-websocket.ts).
    trpcSocket.route(scope, { ...trpcOptions, wss: trpcSocket.wss });
  });

  // REST view of the same procedures, /doc and /reference: its own encapsulated plugin.
  await app.register(restView, { deps, router: appRouter });

  return app;
}
