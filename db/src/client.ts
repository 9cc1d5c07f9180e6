import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { type ExtractTablesWithRelations, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { hasCluster, readTemplate } from "./pglite-template.js";
import * as schema from "./schema/index.js";

export type Schema = typeof schema;

/** One drizzle type for both drivers: query code never knows which one it runs on. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** What query functions take: the database or a transaction already open on it. */
export type Executor = Database | Transaction;

export interface DbHandle {
  db: Database;
  kind: "postgres" | "pglite";
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
  return createPglite(options.dataDir ?? "./.osmynt/data");
}

function createPostgres(url: string, options: DbOptions): DbHandle {
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    onnotice: (notice) => options.onNotice?.(String(notice.message)),
    connect_timeout: 10,
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Database;
  return {
    db,
    kind: "postgres",
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
    close: () => client.end({ timeout: 5 }),
  };
}

async function createPglite(dataDir: string): Promise<DbHandle> {
  const inMemory = dataDir.startsWith("memory://");
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const template = inMemory || !hasCluster(dataDir) ? readTemplate() : undefined;
  const client = await PGlite.create(dataDir, template ? { loadDataDir: template } : {});
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    db,
    kind: "pglite",
    ping: (ms = 2000) => withTimeout(client.query("select 1"), ms, "database").then(() => undefined),
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder }),
    close: () => client.close(),
  };
}
