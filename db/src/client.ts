import { fileURLToPath } from "node:url";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type * as schema from "./schema/index.js";

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

/**
 * Opens the database `options` name. Each driver (PGlite with its WebAssembly PostgreSQL, or
 * postgres.js) is imported only when chosen: a process on PostgreSQL never loads PGlite.
 */
export async function createDb(options: DbOptions = {}): Promise<DbHandle> {
  if (options.url) return (await import("./postgres-db.js")).createPostgres(options.url, options);
  return (await import("./pglite-db.js")).createPglite(options.dataDir ?? "./.osmynt/data", options);
}
