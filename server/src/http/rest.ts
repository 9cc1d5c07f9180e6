import { getTRPCErrorFromUnknown, type TRPCError } from "@trpc/server";
import type { CreateFastifyContextOptions } from "@trpc/server/adapters/fastify";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { AppDeps } from "../deps.js";
import type { AppRouter } from "../routers/_app.js";
import { createContextFactory } from "../trpc/context.js";
import { formatError, reportProcedureError } from "../trpc/errors.js";
import { createCallerFactory } from "../trpc/init.js";
import { registerLazyReference } from "./reference.js";
import { queryDecoder, REST_PREFIX, type RestOperation, restOperations } from "./rest-operations.js";
import { trpcErrorBody, trpcFastifyErrorHandler } from "./trpc-errors.js";

export const OPENAPI_PATH = "/doc";
export const REFERENCE_PATH = "/reference";

interface RestViewOptions {
  deps: AppDeps;
  router: AppRouter;
}

/** The body of a failed call: the same shape, message and codes that /trpc answers. */
function errorReply(error: TRPCError, path: string) {
  const shape = formatError(
    {
      message: error.message,
      code: TRPC_ERROR_CODES_BY_KEY[error.code],
      data: { code: error.code, httpStatus: getHTTPStatusCodeFromError(error), path },
    },
    error,
  );
  return { status: shape.data.httpStatus, body: { error: shape } };
}

function procedureAt(caller: object, path: string): (input: unknown) => Promise<unknown> {
  let node: unknown = caller;
  for (const key of path.split(".")) node = (node as Record<string, unknown>)[key];
  return node as (input: unknown) => Promise<unknown>;
}

async function restRoutes(scope: FastifyInstance, { deps, router, operations }: RestViewOptions & { operations: RestOperation[] }) {
  const createContext = createContextFactory(deps);
  const createCaller = createCallerFactory(router);

  // Bodies are JSON only (anything else: 415); a mutation without input may come with
  // `content-type: application/json` and no body.
  const json = scope.getDefaultJsonParser("error", "error");
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const text = body.toString();
    if (text === "") done(null, undefined);
    else json(req, text, done);
  });
  scope.setErrorHandler(trpcFastifyErrorHandler);
  scope.setNotFoundHandler((req, reply) => {
    reply
      .code(404)
      .send(trpcErrorBody(404, `No REST operation ${req.method} ${req.url.split("?")[0]}; the operations are listed at ${OPENAPI_PATH}`));
  });

  for (const op of operations) {
    const decodeQuery = queryDecoder(op.input);
    scope.route({
      method: op.method,
      url: op.url.slice(REST_PREFIX.length),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const input = op.method === "GET" ? decodeQuery(req.query as Record<string, string | string[]>) : req.body;
        const signal = new AbortController().signal;
        try {
          const ctx = await createContext({
            req,
            res: reply,
            info: {
              accept: null,
              type: op.type,
              isBatchCall: false,
              calls: [],
              connectionParams: null,
              signal,
              url: new URL(req.url, "http://rest"),
            },
          } as CreateFastifyContextOptions);
          const caller = createCaller(ctx, {
            onError: ({ error }) => reportProcedureError(deps.logger, { error, path: op.procedurePath, type: op.type }),
          });
          const data = await procedureAt(caller, op.procedurePath)(input);
          return reply
            .code(200)
            .type("application/json; charset=utf-8")
            .send(JSON.stringify(data ?? null));
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          // Context creation failures never reached the caller's onError.
          if (!(cause instanceof Error && cause.name === "TRPCError")) {
            reportProcedureError(deps.logger, { error, path: op.procedurePath, type: op.type });
          }
          const { status, body } = errorReply(error, op.procedurePath);
          return reply.code(status).send(body);
        }
      },
    });
  }
}

/**
 * The REST view: every query and mutation of the router under /api/v1 (calling the very same
 * procedures through a tRPC caller, so validation, authorization, domain errors and events are
 * theirs), its OpenAPI 3.1 document at /doc and a Scalar reference at /reference, served from the
 * package with no CDN. Rate limits, body limit and CORS are the app's, as for /trpc.
 */
export const restView: FastifyPluginAsync<RestViewOptions> = async (scope, { deps, router }) => {
  const { operations } = restOperations(router);
  // Built on the first request, not at start-up: zod-openapi and the walk over every schema are
  // work a start (and most processes' whole life) does not need.
  let document: Promise<unknown> | undefined;
  scope.get(OPENAPI_PATH, async (_req, reply) => {
    document ??= import("./openapi.js").then(({ buildOpenApiDocument }) =>
      buildOpenApiDocument(operations, { serverUrl: deps.config.publicUrl }),
    );
    return reply.send(await document);
  });
  registerLazyReference(scope, REFERENCE_PATH, {
    url: OPENAPI_PATH,
    pageTitle: "Osmynt Engine API reference",
    // Fonts would come from Scalar's CDN, and its AI agent and telemetry from its cloud: a
    // reference served by an engine must work offline and talk to this server only.
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    showDeveloperTools: "never",
    authentication: { preferredSecurityScheme: "bearerAuth" },
  });
  await scope.register(restRoutes, { prefix: REST_PREFIX, deps, router, operations });
};
