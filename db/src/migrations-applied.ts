import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Database } from "./client.js";

/**
 * True when the database already has every committed migration, by drizzle's own rule: its
 * migrator applies each journal entry newer (`when`) than the newest row of
 * `drizzle.__drizzle_migrations`. Asked with one or two reads, so a start-up on a migrated
 * database skips the migrator's DDL (`CREATE SCHEMA/TABLE IF NOT EXISTS`, ~0.3 s of CPU on
 * PGlite), its reading and hashing of every migration file, and on PostgreSQL the extra
 * connection holding the migration lock. Anything else (a fresh database, a new release) runs
 * the migrator as before.
 */
export async function migrationsApplied(db: Database, migrationsFolder: string): Promise<boolean> {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: { when: number }[] };
  const newest = Math.max(...journal.entries.map((entry) => entry.when));
  const table = await db.execute<{ exists: boolean }>(sql`select to_regclass('drizzle.__drizzle_migrations') is not null as "exists"`);
  if (!rows<{ exists: boolean }>(table)[0]?.exists) return false;
  const applied = await db.execute<{ last: string | null }>(sql`select max(created_at)::text as "last" from drizzle.__drizzle_migrations`);
  const last = rows<{ last: string | null }>(applied)[0]?.last;
  return last !== null && last !== undefined && Number(last) >= newest;
}

/** postgres.js answers an array of rows, PGlite an object holding them. */
function rows<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []);
}
