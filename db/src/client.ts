import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { type ExtractTablesWithRelations, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import lockfile from "proper-lockfile";
import { hasCluster, readTemplate } from "./pglite-template.js";
import * as schema from "./schema/index.js";

export type Schema = typeof schema;

/** One drizzle type for both drivers: query code never knows which one it runs on. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** What query functions take: the database or a transaction already open on it. */
export type Executor = Database | Transaction;

/** Connections of the pool: how many exist at most, are running something, and how many callers wait for one. */
export interface PoolUse {
  size: number;
  inUse: number;
  waiting: number;
}

export interface DbHandle {
  db: Database;
  kind: "postgres" | "pglite";
  /** The pool's use right now (PGlite: one connection, busy or not). */
  pool(): PoolUse;
  /** Runs `select 1` within `timeoutMs`; throws when the database does not answer. */
  ping(timeoutMs?: number): Promise<void>;
  /** Applies the committed migrations (idempotent; serialized across instances on PostgreSQL). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** `postgres://…` selects PostgreSQL; unset selects embedded PGlite. */
  url?: string | undefined;
  /** PGlite data folder; `memory://` keeps it in memory. */
  dataDir?: string | undefined;
  /** PostgreSQL pool size per instance. */
  maxConnections?: number | undefined;
  /** Called with driver notices instead of printing them. */
  onNotice?: ((message: string) => void) | undefined;
  /** PostgreSQL: most time to open a connection before the query fails (seconds). */
  connectTimeoutSeconds?: number | undefined;
  /** PostgreSQL: `statement_timeout` of every connection (ms; 0 for none). */
  statementTimeoutMs?: number | undefined;
  /** Called when something goes wrong outside any query (the data folder's lock was lost). */
  onWarning?: ((message: string) => void) | undefined;
}

/** The embedded data folder cannot be used: named, with the reason, so start-up can say it plainly. */
export class DataDirError extends Error {
  override readonly name = "DataDirError";
}

export const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

// Any fixed 64-bit number: instances starting together take turns applying migrations.
const MIGRATION_LOCK_KEY = 0x6f736d796e74;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function createDb(options: DbOptions = {}): Promise<DbHandle> {
  if (options.url) return createPostgres(options.url, options);
  return createPglite(options.dataDir ?? "./.osmynt/data", options);
}

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

function createPostgres(url: string, options: DbOptions): DbHandle {
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

const LOCK_STALE_MS = 10_000;

/**
 * Makes sure the data folder exists and can be written (a real write, so a read-only or full
 * disk is caught too), then takes its lock: PGlite itself does not lock its folder, and two
 * processes on one folder would corrupt it. The lock is refreshed while the process lives and
 * counts as abandoned `LOCK_STALE_MS` after a crash. Throws a DataDirError naming the folder.
 */
async function claimDataDir(dataDir: string, onWarning: (message: string) => void): Promise<() => Promise<void>> {
  const where = resolve(dataDir);
  try {
    mkdirSync(dataDir, { recursive: true });
    const probe = join(dataDir, ".osmynt-write-check");
    writeFileSync(probe, "ok");
    rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "EACCES" || code === "EPERM" || code === "EROFS"
        ? "this process may not write there"
        : code === "ENOSPC"
          ? "the disk is full"
          : code === "ENOTDIR" || code === "EEXIST"
            ? "a file is in the way of the folder"
            : (error as Error).message;
    throw new DataDirError(
      `OSMYNT_DATA_DIR ${where} cannot be used: ${why} (${code ?? "error"}). Point it at a folder this user can write.`,
    );
  }
  try {
    return await lockfile.lock(where, {
      lockfilePath: join(where, "osmynt.lock"),
      realpath: false,
      stale: LOCK_STALE_MS,
      update: LOCK_STALE_MS / 2,
      onCompromised: (error) => onWarning(`the lock on OSMYNT_DATA_DIR ${where} was lost: ${error.message}`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOCKED")
      throw new DataDirError(
        `OSMYNT_DATA_DIR ${where} is in use by another engine process (its lock ${join(where, "osmynt.lock")} is held). ` +
          `Stop that process or use another folder; a lock left by a crash expires within ${LOCK_STALE_MS / 1000} s.`,
      );
    throw new DataDirError(`OSMYNT_DATA_DIR ${where} cannot be locked: ${(error as Error).message}`);
  }
}

async function createPglite(dataDir: string, options: DbOptions): Promise<DbHandle> {
  const inMemory = dataDir.startsWith("memory://");
  const release = inMemory ? async () => {} : await claimDataDir(dataDir, options.onWarning ?? (() => {}));
  let client: PGlite;
  try {
    const template = inMemory || !hasCluster(dataDir) ? readTemplate() : undefined;
    client = await PGlite.create(dataDir, template ? { loadDataDir: template } : {});
  } catch (error) {
    await release().catch(() => {});
    throw error;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    db,
    kind: "pglite",
    // One connection inside this process, queueing its own callers: there is no pool to watch.
    pool: () => ({ size: 1, inUse: 0, waiting: 0 }),
    ping: (ms = 2000) => withTimeout(client.query("select 1"), ms, "database").then(() => undefined),
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder }),
    async close() {
      await client.close();
      await release().catch(() => {});
    },
  };
}
