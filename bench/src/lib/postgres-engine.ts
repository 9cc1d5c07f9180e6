import { freshDatabase, postgresReachable } from "./database.js";
import type { MeasureOptions } from "./measure.js";
import { type ServerProcess, startServerProcess } from "./processes.js";

/** The HS256 key every PostgreSQL measure gives the engine, so raw baselines can verify its tokens. */
export const BENCH_JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123456789";

export interface PostgresEngine {
  engine: ServerProcess;
  database: { url: string };
  /** The engine's environment (database, key, pool), for baselines that must share it. */
  env: Record<string, string>;
}

/**
 * The set-up every PostgreSQL measure shares: skip (with a log line, returning null) when there is
 * no PostgreSQL, else a fresh database and the engine on it, both gone after `work`, whatever happens.
 */
export async function withPostgresEngine<T>(
  options: MeasureOptions,
  settings: { poolSize: number; env?: Record<string, string> | undefined; label?: string },
  work: (setup: PostgresEngine) => Promise<T>,
): Promise<T | null> {
  if (!(await postgresReachable(options.databaseUrl))) {
    options.log(`skipped: no PostgreSQL at ${options.databaseUrl} (BENCH_DATABASE_URL)`);
    return null;
  }
  const database = await freshDatabase(options.databaseUrl);
  const env = { DATABASE_URL: database.url, JWT_SECRET: BENCH_JWT_SECRET, DATABASE_POOL_SIZE: String(settings.poolSize), ...settings.env };
  let engine: ServerProcess | undefined;
  try {
    engine = await startServerProcess("engine", env, settings.label ?? "engine");
    return await work({ engine, database, env });
  } finally {
    await engine?.stop();
    await database.drop();
  }
}

/**
 * The engine on either backend: embedded (PGlite in memory) or a fresh PostgreSQL database
 * (null, with a log line, when there is none). `label` names its CPU profile under --profile.
 */
export async function withEngine<T>(
  options: MeasureOptions,
  settings: { backend: "embedded" | "postgres"; label: string; poolSize?: number; env?: Record<string, string> },
  work: (setup: { engine: ServerProcess; env: Record<string, string> }) => Promise<T>,
): Promise<T | null> {
  if (settings.backend === "postgres") {
    return withPostgresEngine(options, { poolSize: settings.poolSize ?? 10, env: settings.env, label: settings.label }, work);
  }
  const env = { ...settings.env };
  const engine = await startServerProcess("engine", env, settings.label);
  try {
    return await work({ engine, env });
  } finally {
    await engine.stop();
  }
}
