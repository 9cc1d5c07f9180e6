import { Redis } from "ioredis";
import type { Logger } from "pino";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

/** So many calls per window, per key (a client address, a user). */
export interface Budget {
  points: number;
  windowMs: number;
}

export interface Verdict {
  ok: boolean;
  /** The count could not be taken (Redis unreachable and RATE_LIMIT_ON_REDIS_DOWN=closed): refuse with 503. */
  unavailable?: boolean;
  /** Calls counted in the current window, this one included. */
  used: number;
  limit: number;
  /** Until the window ends and the count starts again. */
  resetMs: number;
}

export interface Limiter {
  /** Counts `points` calls of `key` against the named budget. Never throws. */
  take(name: string, budget: Budget, key: string, points?: number): Promise<Verdict>;
  readonly shared: boolean;
  close(): Promise<void>;
}

type Counter = RateLimiterMemory | RateLimiterRedis;

/** What the limits do while Redis is unreachable (RATE_LIMIT_ON_REDIS_DOWN). */
export type OnRedisDown = "local" | "open" | "closed";

/**
 * Fixed-window counters (rate-limiter-flexible). With REDIS_URL every instance counts in Redis, so a
 * budget holds for the whole deployment, whichever instance or transport a call arrives on.
 *
 * If Redis is unreachable (no Redis round trip is even tried while the connection is not ready):
 * - `local` (the default): each instance counts in its own memory (the library's insurance
 *   limiter): the limits stay on, only N instances then allow up to N times the budget between
 *   them. Chosen over failing open (an outage would switch the limits off, exactly when someone
 *   may be hammering) and over failing closed (a Redis outage would lock every user out of an
 *   engine whose source of truth, PostgreSQL, is fine);
 * - `open`: every call is allowed until Redis is back;
 * - `closed`: every counted call is refused with 503 SERVICE_UNAVAILABLE until Redis is back.
 */
export function createLimiter(options: {
  redisUrl: string | undefined;
  prefix: string;
  logger: Logger;
  onRedisDown?: OnRedisDown;
  /** Told of every refusal, by budget name (for the metrics). */
  onRejected?: (name: string) => void;
}): Limiter {
  const onRedisDown = options.onRedisDown ?? "local";
  const log = options.logger.child({ component: "rate-limits" });
  let lastErrorLog = 0;
  const redis = options.redisUrl
    ? new Redis(options.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 3000,
        connectionName: "osmynt-limits",
        retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
      })
    : null;
  redis?.on("error", (error: Error) => {
    if (Date.now() - lastErrorLog > 10_000) {
      lastErrorLog = Date.now();
      log.warn({ err: error.message }, "redis unreachable; rate limits are counted per instance until it is back");
    }
  });

  const counters = new Map<string, Counter>();
  const counterFor = (name: string, budget: Budget): Counter => {
    const id = `${name}/${budget.points}/${budget.windowMs}`;
    let counter = counters.get(id);
    if (!counter) {
      const common = {
        points: budget.points,
        duration: Math.max(1, Math.ceil(budget.windowMs / 1000)),
        keyPrefix: `${options.prefix}:rl:${name}`,
      };
      counter = redis
        ? new RateLimiterRedis({
            ...common,
            storeClient: redis,
            rejectIfRedisNotReady: true,
            ...(onRedisDown === "local" ? { insuranceLimiter: new RateLimiterMemory(common) } : {}),
          })
        : new RateLimiterMemory(common);
      counters.set(id, counter);
    }
    return counter;
  };

  const verdict = (res: RateLimiterRes, ok: boolean, budget: Budget): Verdict => ({
    ok,
    used: res.consumedPoints,
    limit: budget.points,
    resetMs: res.msBeforeNext,
  });

  return {
    shared: redis !== null,
    async take(name, budget, key, points = 1) {
      try {
        return verdict(await counterFor(name, budget).consume(key, points), true, budget);
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) {
          options.onRejected?.(name);
          return verdict(outcome, false, budget);
        }
        // Redis unreachable (with `local`, the insurance limiter answered instead and we are not here).
        if (Date.now() - lastErrorLog > 10_000) {
          lastErrorLog = Date.now();
          log.warn(
            { err: String(outcome), onRedisDown },
            `rate limits cannot be counted; calls ${onRedisDown === "closed" ? "refused" : "allowed"}`,
          );
        }
        if (onRedisDown === "closed") {
          options.onRejected?.(`${name}:unavailable`);
          return { ok: false, unavailable: true, used: 0, limit: budget.points, resetMs: 1000 };
        }
        return { ok: true, used: 0, limit: budget.points, resetMs: 0 };
      }
    },
    async close() {
      redis?.disconnect();
    },
  };
}
