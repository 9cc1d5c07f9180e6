import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../metrics.js";

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * GET /metrics (Prometheus text format) and the HTTP latency histogram. With METRICS_TOKEN set,
 * a scrape must send `Authorization: Bearer <token>`; without it /metrics is open (keep it off
 * the public listener then, as the deploy guide says).
 */
export function registerMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  token: string | undefined,
  gauges: { connections(): number; websockets(): number },
) {
  app.addHook("onResponse", async (req, reply) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  const unwatch = metrics.watchServer({
    connections: gauges.connections,
    websockets: gauges.websockets,
  });
  app.addHook("onClose", async () => {
    unwatch();
  });
  app.get("/metrics", async (req, reply) => {
    if (token !== undefined) {
      const sent = req.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
      if (!sent || !sameSecret(sent, token)) {
        reply.code(401).header("www-authenticate", 'Bearer realm="metrics"');
        return { error: { code: "UNAUTHORIZED", message: "/metrics needs `Authorization: Bearer <METRICS_TOKEN>`" } };
      }
    }
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
