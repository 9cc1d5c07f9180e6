import type { FastifyReply, FastifyRequest } from "fastify";
import { trpcErrorBody } from "./trpc-errors.js";

/**
 * Refuses an HTTP batch of more than `max` calls before anything of it runs, with a message that
 * names the limit (tRPC's own `maxBatchSize`, which also bounds WebSocket messages, says only
 * "Batch call exceeds maximum size"). The calls are the comma-separated paths after the prefix.
 */
export function batchLimitHook(prefix: string, max: number) {
  return async function batchLimit(req: FastifyRequest, reply: FastifyReply) {
    const query = req.url.indexOf("?");
    if (query < 0 || !/[?&]batch=1(&|$)/.test(req.url.slice(query))) return;
    const paths = req.url.slice(prefix.length + 1, query);
    const calls = paths.split(",").length;
    if (calls > max) {
      const message = `a batch may hold at most ${max} calls (MAX_BATCH_SIZE); this one has ${calls}: split it`;
      return reply.code(400).send(trpcErrorBody(400, message));
    }
  };
}
