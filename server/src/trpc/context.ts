import type { IncomingMessage } from "node:http";
import type { CreateFastifyContextOptions } from "@trpc/server/adapters/fastify";
import type { CreateWSSContextFnOptions } from "@trpc/server/adapters/ws";
import type { WebSocket } from "ws";
import { verifyAccessToken } from "../auth/access-token.js";
import type { AppDeps } from "../deps.js";
import { countBatch } from "../limits/calls.js";
import { clientAddress, trustFunction } from "../limits/trust-proxy.js";
import { CloseCodes, closeAtTokenExpiry } from "../realtime/connections.js";
import { databaseUnavailable } from "./errors.js";

export type AuthState =
  | { ok: true; user: { id: string }; sessionId: string; expiresAt: Date }
  | { ok: false; reason: string; code?: "UNAUTHORIZED" | "TOO_MANY_REQUESTS" };

export interface RequestMeta {
  userAgent: string | undefined;
  ip: string | undefined;
  transport: "http" | "ws" | "internal";
  /** Where an HTTP request was sent (`http://host:port`), for links when PUBLIC_URL is not set. */
  origin?: string | undefined;
  /** Set when this connection is over a limit: its public procedures answer TOO_MANY_REQUESTS with it. */
  refused?: string;
  /** The request came through a proxy (it carries Forwarded / X-Forwarded-* / X-Real-IP headers). */
  forwarded?: boolean;
  /** The WebSocket this context belongs to (WS transport only), for backpressure checks. */
  socket?: WebSocket | undefined;
}

async function authenticate(deps: AppDeps, accessToken: string | null): Promise<AuthState> {
  if (!accessToken)
    return {
      ok: false,
      reason: "no access token: sign in and send `Authorization: Bearer <accessToken>`",
    };
  const verified = await verifyAccessToken(accessToken, deps.config.auth.jwtSecret);
  if (!verified.ok) return verified;
  // Checking the session needs the database (unless it vouched for it a moment ago, see
  // auth/session-cache.ts): while it is away the call is a retryable 503.
  const userId = await deps.sessionCache
    .check(deps.db, { ...verified.claims, limits: deps.config.auth.sessionLimits, ttlMs: deps.config.auth.sessionCacheTtlMs })
    .catch((error) => {
      throw databaseUnavailable(error) ?? error;
    });
  if (!userId)
    return {
      ok: false,
      reason: "the session has ended (signed out, revoked, or past its lifetime or idle timeout); sign in again",
    };
  return { ok: true, user: { id: userId }, sessionId: verified.claims.sessionId, expiresAt: verified.expiresAt };
}

/** The request-free part of the context: what tests build directly for `createCaller`. */
export async function createContextInner(deps: AppDeps, opts: { accessToken: string | null; meta: RequestMeta }) {
  const auth = await authenticate(deps, opts.accessToken);
  return {
    deps,
    db: deps.db,
    config: deps.config,
    auth,
    meta: opts.meta,
    log: deps.logger.child(auth.ok ? { userId: auth.user.id } : {}),
  };
}

export type Context = Awaited<ReturnType<typeof createContextInner>>;

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"];

/** Whether a proxy (or someone pretending to be one) relayed this request. */
function isForwarded(raw: IncomingMessage): boolean {
  return FORWARDING_HEADERS.some((name) => raw.headers[name] !== undefined);
}

function bearer(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/**
 * One factory for both transports. HTTP sends the token in the Authorization header; WebSocket
 * clients send it in connectionParams (browsers cannot set headers on a WebSocket). The adapter
 * hands WS connections the raw IncomingMessage, so nothing here reads Fastify decorators.
 * @see https://trpc.io/docs/server/websockets#connection-params
 */
/**
 * The HTTP origin a WebSocket upgrade was sent to (its Host header). Like the HTTP origin, it only
 * shapes links handed back to the caller on this connection, so a forged Host misleads no one else.
 */
function websocketOrigin(raw: IncomingMessage): string | undefined {
  const host = raw.headers.host;
  if (!host) return undefined;
  const secure = (raw.socket as { encrypted?: boolean }).encrypted === true;
  return `${secure ? "https" : "http"}://${host}`;
}

export function createContextFactory(deps: AppDeps) {
  const trust = trustFunction(deps.config.trustProxy);
  return async ({ req, res, info }: CreateFastifyContextOptions | CreateWSSContextFnOptions) => {
    const http = "raw" in req ? req : undefined;
    const raw: IncomingMessage = http ? http.raw : (req as IncomingMessage);
    const isWs = http === undefined;
    const paramToken = info.connectionParams?.token;
    const accessToken = isWs
      ? typeof paramToken === "string"
        ? paramToken
        : bearer(raw.headers.authorization)
      : bearer(raw.headers.authorization);
    const userAgent = raw.headers["user-agent"];
    const socket = isWs ? (res as unknown as WebSocket) : undefined;
    const ctx = await createContextInner(deps, {
      accessToken,
      meta: {
        userAgent: typeof userAgent === "string" ? userAgent : undefined,
        // Behind trusted proxies, the client they name (Fastify's request.ip for HTTP; the same rule for WS).
        ip: http ? http.ip : clientAddress(raw, trust),
        transport: isWs ? "ws" : "http",
        origin: http ? `${http.protocol}://${http.host}` : websocketOrigin(raw),
        forwarded: isForwarded(raw),
        socket,
      },
    });
    if (!isWs) {
      await countBatch(ctx, info.calls.length, deps.limiter);
    }
    const limit = deps.config.realtime.maxConnectionsPerUser;
    if (
      socket &&
      ctx.auth.ok &&
      !deps.connections.register({ userId: ctx.auth.user.id, sessionId: ctx.auth.sessionId, socket, maxPerUser: limit })
    ) {
      // Every call on this connection answers with the reason, then the connection goes away.
      setTimeout(() => socket.close(CloseCodes.tooManyConnections, "too many connections"), 2000).unref();
      return {
        ...ctx,
        auth: {
          ok: false as const,
          code: "TOO_MANY_REQUESTS" as const,
          reason: `too many open connections for this user (at most ${limit} per instance); close one and retry`,
        },
      };
    }
    if (socket && ctx.auth.ok) closeAtTokenExpiry(socket, ctx.auth.expiresAt);
    if (socket && !ctx.auth.ok && accessToken === null) {
      const ip = ctx.meta.ip ?? "unknown";
      const max = deps.config.realtime.maxAnonymousPerIp;
      if (!deps.connections.registerAnonymous({ ip, socket, max })) {
        const reason = `too many connections without an access token from this address (at most ${max}); close one and retry`;
        setTimeout(() => socket.close(CloseCodes.tooManyConnections, "too many anonymous connections"), 2000).unref();
        return {
          ...ctx,
          auth: { ok: false as const, code: "TOO_MANY_REQUESTS" as const, reason },
          meta: { ...ctx.meta, refused: reason },
        };
      }
    }
    return ctx;
  };
}
