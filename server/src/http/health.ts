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

/** How often the memory figure /health reports is refreshed. */
const MEMORY_SAMPLE_MS = 10_000;

/**
 * Memory use, sampled on a timer rather than on each /health call: reading the resident set size
 * opens /proc/self/stat, which fails when the process is at its open-file limit, and a liveness
 * probe that fails then would get a working (merely busy) instance killed. A failed sample keeps
 * the previous figures; /health itself never does anything that can run out of descriptors.
 */
function memorySampler() {
  let sample = { rssBytes: 0, heapUsedBytes: 0, sampledAt: new Date(0).toISOString() };
  const take = () => {
    try {
      const memory = process.memoryUsage();
      sample = { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, sampledAt: new Date().toISOString() };
    } catch {
      // At the file limit: keep the last sample; the next tick tries again.
    }
  };
  take();
  const timer = setInterval(take, MEMORY_SAMPLE_MS);
  timer.unref();
  return { current: () => sample, stop: () => clearInterval(timer) };
}

/** `/health` says the process is alive; `/ready` really asks the database and the bus. */
export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps) {
  const memory = memorySampler();
  app.addHook("onClose", async () => memory.stop());

  app.get("/health", async () => {
    // getrusage(2): a system call, no file opened.
    const cpu = process.cpuUsage();
    return {
      status: "ok",
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      memory: memory.current(),
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
