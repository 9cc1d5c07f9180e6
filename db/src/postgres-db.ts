import { sql } from "drizzle-orm";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { type Database, type DbHandle, type DbOptions, migrationsFolder, type PoolUse } from "./client.js";
import { migrationsApplied } from "./migrations-applied.js";
import * as schema from "./schema/index.js";
import { withTimeout } from "./with-timeout.js";

// Any fixed 64-bit number: instances starting together take turns applying migrations.
const MIGRATION_LOCK_KEY = 0x6f736d796e74;

/**
 * Counts what runs on a postgres.js client from outside (it exposes no pool figures): a query
 * from when it is sent until it settles, a transaction for its whole length (it holds one
 * connection). Past the pool size the rest are waiting for a connection.
 */
function countingClient(client: postgres.Sql, size: number): { client: postgres.Sql; pool(): PoolUse } {
  let running = 0;
  const track = <T>(promise: Promise<T>) => {
    running++;
    const done = () => {
      running--;
    };
    promise.then(done, done);
    return promise;
  };
  const counted = new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === "begin") return (...args: unknown[]) => track((value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      if (key === "unsafe")
        return (...args: unknown[]) => {
          const query = (value as (...a: unknown[]) => postgres.PendingQuery<postgres.Row[]>).apply(target, args);
          // A postgres.js query runs when first awaited; count it from then (drizzle may still call `.values()` first).
          const then = query.then;
          let counted = false;
          // biome-ignore lint/suspicious/noThenProperty: wraps the query's own lazy `then`, to count it from its start
          query.then = function (this: typeof query, ...handlers: Parameters<typeof then>) {
            if (!counted) {
              counted = true;
              track(then.call(this) as Promise<unknown>).catch(() => {});
            }
            return then.apply(this, handlers);
          } as typeof then;
          return query;
        };
      return value;
    },
  });
  return {
    client: counted,
    pool: () => ({ size, inUse: Math.min(running, size), waiting: Math.max(0, running - size) }),
  };
}

export function createPostgres(url: string, options: DbOptions): DbHandle {
  const size = options.maxConnections ?? 10;
  const raw = postgres(url, {
    max: size,
    onnotice: (notice) => options.onNotice?.(String(notice.message)),
    // While the database is unreachable a call fails within this instead of queueing for long:
    // a refused or reset connection fails at once, one that hangs fails at the timeout.
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    // A connection that failed waits this long (seconds) before its next attempt, and the calls
    // queued on it wait with it: postgres.js's default grows to 20 s, far past a fast failure.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    ...(options.statementTimeoutMs ? { connection: { statement_timeout: options.statementTimeoutMs } } : {}),
  });
  const { client, pool } = countingClient(raw, size);
  const db = drizzlePostgres(client, { schema }) as unknown as Database;
  return {
    db,
    kind: "postgres",
    pool,
    ping: (ms = 2000) => withTimeout(db.execute(sql`select 1`), ms, "database").then(() => undefined),
    async migrate() {
      if (await migrationsApplied(db, migrationsFolder)) return;
      // A dedicated single connection holds the session-level lock for the whole migration run.
      const lockClient = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await lockClient`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres(lockClient), {
          migrationsFolder,
        });
      } finally {
        await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        await lockClient.end({ timeout: 5 });
      }
    },
    close: () => raw.end({ timeout: 5 }),
  };
}
