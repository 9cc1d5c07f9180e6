import { isAppError } from "@osmynt/db";
import { initTRPC, TRPCError } from "@trpc/server";
import { z } from "zod";
import { countCall } from "../limits/calls.js";
import type { Context } from "./context.js";
import { databaseUnavailable, formatError, inputRefusedByDatabase, toTRPCError, transactionConflict } from "./errors.js";
import { idInput } from "./id-input.js";

/**
 * What a procedure says about itself, for the REST view (server/src/http/rest.ts) and its
 * OpenAPI document. Every query and mutation is on REST without any of it.
 */
export interface ProcedureMeta {
  /** Set by `authedProcedure`: the operation needs `Authorization: Bearer <accessToken>`. */
  auth?: "required";
  /** Shown in /doc and /reference; the procedure path is the default summary. */
  openapi?: { summary?: string; description?: string };
}

/**
 * tRPC is initialised once, here; only the building blocks below leave this file.
 * `isDev: false` keeps stack traces out of every response, whatever NODE_ENV says.
 * @see https://trpc.io/docs/server/routers
 */
const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    isDev: false,
    // SSE subscriptions: a ping every 15 s keeps proxies from closing an idle stream, and a client
    // that hears nothing for 40 s reconnects (resuming with its last event id).
    sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 40_000 } },
    errorFormatter: ({ shape, error }) => formatError(shape, error),
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Turns domain errors thrown anywhere below into their tRPC codes, database errors that only
 * an input value can cause into BAD_REQUEST, a transaction aborted by a deadlock or a
 * serialization conflict into CONFLICT (retry), and a database outage into SERVICE_UNAVAILABLE
 * (never a 500, never driver text).
 */
const mapDomainErrors = t.middleware(async function mapDomainErrors({ next }) {
  const result = await next();
  if (result.ok) return result;
  if (isAppError(result.error.cause)) throw toTRPCError(result.error.cause);
  const refused =
    inputRefusedByDatabase(result.error.cause) ?? transactionConflict(result.error.cause) ?? databaseUnavailable(result.error.cause);
  if (refused) throw refused;
  return result;
});

/**
 * Every call, over HTTP or WebSocket, counts against its budgets (per address, per user, and the
 * procedure's own stricter one; see limits/). A socket or a batch is no way around them.
 */
const limitCalls = t.middleware(async function limitCalls({ ctx, path, next }) {
  await countCall(ctx, path, ctx.deps.limiter);
  return next();
});

/** Every call's latency by procedure and outcome (the final code, after the mapping below). */
const timeCalls = t.middleware(async function timeCalls({ ctx, path, type, next }) {
  const started = performance.now();
  const result = await next();
  ctx.deps.metrics?.callDuration.observe(
    { procedure: path, type, outcome: result.ok ? "ok" : result.error.code },
    (performance.now() - started) / 1000,
  );
  return result;
});

/** Anyone may call it. */
export const publicProcedure = t.procedure.use(timeCalls).use(mapDomainErrors).use(limitCalls);

/** Needs a valid access token of an active session; narrows `ctx` to the signed-in user. */
export const authedProcedure = publicProcedure
  .use(function isAuthed({ ctx, next }) {
    if (!ctx.auth.ok) throw new TRPCError({ code: ctx.auth.code ?? "UNAUTHORIZED", message: ctx.auth.reason });
    return next({
      ctx: { ...ctx, user: ctx.auth.user, sessionId: ctx.auth.sessionId },
    });
  })
  .meta({ auth: "required" });

/**
 * A procedure on one team: `teamId` is part of its input (merged with the procedure's own input).
 * It authorizes nothing by itself: membership and role are part of every team query's `where`
 * (`teamScope` in @osmynt/db), so no handler can forget them or check them after the fact.
 * @see https://trpc.io/docs/server/procedures#input-merging
 */
export const teamProcedure = authedProcedure.input(z.object({ teamId: idInput("team", "teamId") }));
