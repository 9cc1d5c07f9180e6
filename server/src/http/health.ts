import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../deps.js";

const startedAt = Date.now();
export const version = "0.1.0";

async function check(name: string, kind: string, probe: () => Promise<void>) {
  try {
    await probe();
    return { name, kind, ok: true as const };
  } catch (error) {
    return {
      name,
      kind,
      ok: false as const,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** `/health` says the process is alive; `/ready` really asks the database and the bus. */
export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps) {
  app.get("/health", async () => {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      status: "ok",
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      cpu: { userMicros: cpu.user, systemMicros: cpu.system },
    };
  });

  app.get("/ready", async (_req, reply) => {
    const checks = await Promise.all([
      check("database", deps.database.kind, () => deps.database.ping(2000)),
      check("bus", deps.bus.kind, () => deps.bus.ping(2000)),
    ]);
    const failed = checks.filter((c) => !c.ok).map((c) => c.name);
    reply.code(failed.length === 0 ? 200 : 503);
    return {
      status: failed.length === 0 ? "ready" : "unavailable",
      ...(failed.length > 0 ? { failed, message: `not ready: ${failed.join(" and ")} unreachable` } : {}),
      checks: Object.fromEntries(checks.map(({ name, ...rest }) => [name, rest])),
    };
  });
}
