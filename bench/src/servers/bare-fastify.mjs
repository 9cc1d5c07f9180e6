/**
 * Baseline for start-up: a bare Fastify server with a `/ready` route, started the way the engine's
 * production command is (`node` on JavaScript: no tsx, no package-manager wrapper).
 */
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/ready", async () => ({ status: "ready" }));
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
