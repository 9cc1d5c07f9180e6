import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";

/**
 * A database of its own for tests that act on the whole event log (retention prunes every team's
 * events), so they cannot disturb the files running beside them. On the embedded backend every
 * server already has its own in-memory PGlite; on PostgreSQL this creates a fresh database next to
 * the run's one, which the server migrates at start. Pass `env` to startServer; `drop` at the end.
 */
export async function isolatedDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const runUrl = inject("databaseUrl");
  if (!runUrl) return { env: {}, drop: async () => {} };
  const name = `osmynt_iso_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = postgres(runUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await admin.end({ timeout: 5 });
    },
  };
}
