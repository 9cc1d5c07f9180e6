import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import lockfile from "proper-lockfile";
import { type Database, DataDirError, type DbHandle, type DbOptions, migrationsFolder } from "./client.js";
import { migrationsApplied } from "./migrations-applied.js";
import { hasCluster, readTemplate } from "./pglite-template.js";
import * as schema from "./schema/index.js";
import { withTimeout } from "./with-timeout.js";

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

/**
 * PostgreSQL's settings for the embedded database, on top of PGlite's own. Its cluster comes with
 * initdb's `shared_buffers = 128MB`, which PostgreSQL allocates and touches at start inside the
 * WebAssembly memory: ~130 MiB of RSS for a cache the data of a laptop or a small team does not
 * fill (the operating system's page cache still holds the files). Measured on a restart: 128 MB
 * → 16 MB took PGlite alone from ~300 to ~165 MiB and ~2.1 to ~1.3 s of CPU (bench/BENCHMARKS.md).
 * One process is PostgreSQL's only client: no room for 100 connections' shared state either.
 */
const PGLITE_START_PARAMS = [
  ...PGlite.defaultStartParams,
  ...["-c", "shared_buffers=16MB", "-c", "max_connections=4", "-c", "max_wal_senders=0", "-c", "max_replication_slots=0"],
];

export async function createPglite(dataDir: string, options: DbOptions): Promise<DbHandle> {
  const inMemory = dataDir.startsWith("memory://");
  const release = inMemory ? async () => {} : await claimDataDir(dataDir, options.onWarning ?? (() => {}));
  let client: PGlite;
  try {
    const template = inMemory || !hasCluster(dataDir) ? readTemplate() : undefined;
    client = await PGlite.create(dataDir, { startParams: PGLITE_START_PARAMS, ...(template ? { loadDataDir: template } : {}) });
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
    async migrate() {
      if (!(await migrationsApplied(db, migrationsFolder))) await migratePglite(drizzlePglite(client), { migrationsFolder });
    },
    async close() {
      await client.close();
      await release().catch(() => {});
    },
  };
}
