import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

type Key = keyof typeof TRPC_ERROR_CODES_BY_KEY;

const byStatus: Record<number, Key> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  408: "TIMEOUT",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
  502: "BAD_GATEWAY",
  503: "SERVICE_UNAVAILABLE",
};

/** A tRPC-shaped error body, for failures that happen before tRPC sees the request. */
export function trpcErrorBody(status: number, message: string) {
  const key = byStatus[status] ?? "INTERNAL_SERVER_ERROR";
  return {
    error: {
      message,
      code: TRPC_ERROR_CODES_BY_KEY[key],
      data: { code: key, httpStatus: status },
    },
  };
}

/**
 * Fastify rejects some requests before the tRPC handler runs (body over the limit, unknown content
 * type, rate limit). Under /trpc those still answer in tRPC's error shape with a clear message.
 */
export function trpcFastifyErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const status =
    error.statusCode && ((error.statusCode >= 400 && error.statusCode < 500) || error.statusCode === 503) ? error.statusCode : 500;
  let message = status === 500 ? "Internal server error; the failure was logged" : error.message;
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE")
    message = `Request body is larger than the limit of ${req.routeOptions.bodyLimit ?? "the server's"} bytes`;
  if (status === 500) req.log.error({ err: error }, "request failed before reaching tRPC");
  reply.code(status).send(trpcErrorBody(status, message));
}
