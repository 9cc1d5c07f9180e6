import type { FastifyApiReferenceOptions } from "@scalar/fastify-api-reference";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * The Scalar API reference at `prefix`, loaded on its first request. Its package is one 4.8 MB
 * module (the browser app inlined as a string): importing it at start-up cost most of a second
 * of compilation and ~10 MiB for a page few ever open. So the routes here hand each request to a
 * small Fastify instance of its own, built with the plugin on first use, through `inject`
 * (no socket); the answer (status, headers, body) is copied as it is.
 */
export function registerLazyReference(
  scope: FastifyInstance,
  prefix: `/${string}`,
  configuration: FastifyApiReferenceOptions["configuration"],
) {
  let inner: Promise<FastifyInstance> | undefined;
  const load = async () => {
    const [{ default: Fastify }, { default: scalarApiReference }] = await Promise.all([
      import("fastify"),
      import("@scalar/fastify-api-reference"),
    ]);
    const app = Fastify({ logger: false });
    await app.register(scalarApiReference, { routePrefix: prefix, configuration });
    await app.ready();
    return app;
  };
  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    inner ??= load().catch((error) => {
      inner = undefined; // a failed load is tried again by the next request
      throw error;
    });
    const answer = await (await inner).inject({ method: "GET", url: req.url, headers: { host: req.headers.host ?? "localhost" } });
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !["content-length", "connection", "date", "keep-alive", "transfer-encoding"].includes(name))
        reply.header(name, value);
    }
    return reply.code(answer.statusCode).send(answer.rawPayload);
  };
  scope.get(prefix, forward);
  scope.get(`${prefix}/*`, forward);
}
