import type { FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import { normalizeIP } from "@fastify/rate-limit";
import { TRPCError } from "@trpc/server";
import type { Context } from "../trpc/context.js";
import { budgetsOf, type ProcedureBudget, procedureBudgetOf } from "./budgets.js";
import type { Budget, Limiter } from "./limiter.js";

/** The counting key of a client address: IPv6 clients count per /64, as @fastify/rate-limit does. */
export function addressKey(ip: string): string {
  return normalizeIP(ip);
}

/** The per-address budget's name: @fastify/rate-limit (HTTP) and WebSocket calls share it. */
export const PER_ADDRESS = "address";

/**
 * @fastify/rate-limit's store over the limiter's per-address budget, so an HTTP request and a
 * call over WebSocket from the same address draw from one count (in Redis when configured).
 */
export function perAddressStore(limiter: Limiter, budget: Budget): FastifyRateLimitStoreCtor {
  return class PerAddressStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void) {
      limiter.take(PER_ADDRESS, budget, key).then(
        (v) => (v.unavailable ? callback(unavailableError()) : callback(null, { current: v.used, ttl: v.resetMs })),
        (error: Error) => callback(error),
      );
    }
    child() {
      return this;
    }
  };
}

const UNAVAILABLE_MESSAGE = "Rate limits cannot be counted while Redis is unreachable (RATE_LIMIT_ON_REDIS_DOWN=closed); retry shortly";

/** For @fastify/rate-limit: thrown to the error handler, which answers its status. */
function unavailableError(): Error {
  return Object.assign(new Error(UNAVAILABLE_MESSAGE), { statusCode: 503 });
}

const budgetLabels: Record<ProcedureBudget, string> = { signIn: "sign-in", inviteAccept: "invite acceptance", pairing: "device pairing" };

function tooMany(limit: number, what: string, resetMs: number): TRPCError {
  return new TRPCError({
    code: "TOO_MANY_REQUESTS",
    message: `Too many requests: at most ${limit} a minute ${what}; retry in ${Math.max(1, Math.ceil(resetMs / 1000))} s`,
  });
}

/**
 * Counts one call against every budget it draws from; throws TOO_MANY_REQUESTS past any of them.
 * HTTP requests were already counted per address by @fastify/rate-limit (extra calls of a batch
 * by `countBatch`); a WebSocket call is counted per address here, so a socket is no way around it.
 */
export async function countCall(ctx: Context, path: string, limiter: Limiter): Promise<void> {
  if (ctx.meta.transport === "internal") return;
  const budgets = budgetsOf(ctx.config);
  const address = ctx.meta.ip ? addressKey(ctx.meta.ip) : undefined;
  const userId = ctx.auth.ok ? ctx.auth.user.id : undefined;
  const checks: { name: string; budget: Budget; key: string; what: string }[] = [];
  if (ctx.meta.transport === "ws" && address)
    checks.push({ name: PER_ADDRESS, budget: budgets.perAddress, key: address, what: "from this address" });
  if (userId) checks.push({ name: "user", budget: budgets.perUser, key: userId, what: "for this user" });
  const special = procedureBudgetOf(path);
  if (special) {
    const budget = budgets.procedure[special];
    const what = `for ${budgetLabels[special]}`;
    if (address) checks.push({ name: `procedure:${special}`, budget, key: `address:${address}`, what: `${what} from this address` });
    if (userId) checks.push({ name: `procedure:${special}`, budget, key: `user:${userId}`, what: `${what} for this user` });
  }
  const verdicts = await Promise.all(checks.map((c) => limiter.take(c.name, c.budget, c.key)));
  if (verdicts.some((v) => v.unavailable)) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: UNAVAILABLE_MESSAGE });
  verdicts.forEach((v, i) => {
    const check = checks[i];
    if (!v.ok && check) throw tooMany(v.limit, check.what, v.resetMs);
  });
}

/**
 * The calls of an HTTP batch past the first count against the per-address budget too (the
 * request itself was counted once by @fastify/rate-limit). Throws TOO_MANY_REQUESTS past it.
 */
export async function countBatch(ctx: Pick<Context, "config" | "meta">, calls: number, limiter: Limiter): Promise<void> {
  if (calls <= 1 || !ctx.meta.ip) return;
  const v = await limiter.take(PER_ADDRESS, budgetsOf(ctx.config).perAddress, addressKey(ctx.meta.ip), calls - 1);
  if (v.unavailable) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: UNAVAILABLE_MESSAGE });
  if (!v.ok) throw tooMany(v.limit, "from this address", v.resetMs);
}
