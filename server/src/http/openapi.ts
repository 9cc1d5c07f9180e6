import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { version } from "./health.js";
import type { RestOperation } from "./rest-operations.js";

/**
 * The one error shape of the API: what /trpc answers for a failed call, and what every REST
 * operation answers too (same `message`, same codes).
 */
export const apiErrorSchema = z
  .object({
    error: z.object({
      message: z.string().describe("What went wrong, in words for the caller: which field, which rule, what to do"),
      code: z.number().int().describe("JSON-RPC 2.0 error code of the tRPC code (e.g. -32600 for BAD_REQUEST)"),
      data: z
        .object({
          code: z
            .string()
            .describe(
              "The tRPC error code: BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, PRECONDITION_FAILED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, TOO_MANY_REQUESTS, BAD_GATEWAY, INTERNAL_SERVER_ERROR…",
            ),
          httpStatus: z.number().int(),
          path: z.string().optional().describe("The procedure path, when the call reached a procedure"),
          zodError: z.array(z.unknown()).optional().describe("Validation failures: the zod issues, one per bad field"),
          details: z.unknown().optional().describe("Safe, machine-readable details of a domain error (e.g. a failure reason)"),
        })
        .loose(),
    }),
  })
  .meta({ id: "Error", description: "Every failed call answers this, with the HTTP status of `data.code`" });

const SECURITY_SCHEME = "bearerAuth";

function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: apiErrorSchema } } };
}

const DESCRIPTION = `The REST view of Osmynt Engine's tRPC procedures: every query and mutation of \`/trpc\` is also
an operation here, with the same validation, authorization and answers.

- **Paths**: the tRPC path with dots as slashes under \`/api/v1\` (\`teams.invites.create\` →
  \`POST /api/v1/teams/invites/create\`).
- **Queries** are \`GET\`, their input as query parameters (numbers and booleans as text, objects and
  arrays as JSON). **Mutations** are \`POST\` with the input as a JSON body.
- **Auth**: \`Authorization: Bearer <accessToken>\` (from \`auth.devLogin\`, \`auth.loginWithGitHubToken\`,
  the browser sign-in or \`auth.refresh\`).
- **Errors**: one shape (\`Error\` below), the same \`message\` and codes as tRPC; the HTTP status is
  the code's.
- **Live events** (\`events.subscribe\`, \`auth.handshake.onComplete\`) are subscriptions: WebSocket
  or SSE on \`/trpc\` only.`;

function operationFor(op: RestOperation): ZodOpenApiOperationObject {
  const description = [op.meta.openapi?.description, `tRPC: \`${op.procedurePath}\` (${op.type}).`].filter(Boolean).join("\n\n");
  const input =
    op.method === "GET"
      ? op.input instanceof z.ZodObject && { requestParams: { query: op.input } }
      : op.input && { requestBody: { required: true, content: { "application/json": { schema: op.input } } } };
  return {
    operationId: op.procedurePath,
    tags: [op.procedurePath.split(".")[0] ?? "api"],
    summary: op.meta.openapi?.summary ?? op.procedurePath,
    description,
    security: op.auth ? [{ [SECURITY_SCHEME]: [] }] : [],
    ...input,
    responses: {
      200: {
        description: "The procedure's answer",
        content: { "application/json": { schema: op.output ?? z.unknown() } },
      },
      400: errorResponse("Invalid input: the message names each bad field and `data.zodError` holds the zod issues"),
      ...(op.auth ? { 401: errorResponse("No access token, or an expired or revoked one: sign in again or refresh") } : {}),
      ...(op.method === "POST" ? { 413: errorResponse("Body larger than the server's limit") } : {}),
      429: errorResponse("Rate limited: the message says when to retry"),
      default: errorResponse(
        "Any other failure, in the same shape: FORBIDDEN 403, NOT_FOUND 404, CONFLICT 409, PRECONDITION_FAILED 412, UNSUPPORTED_MEDIA_TYPE 415, INTERNAL_SERVER_ERROR 500, BAD_GATEWAY 502",
      ),
    },
  };
}

/** The OpenAPI 3.1 document of the REST view, generated from the procedures' zod schemas. */
export function buildOpenApiDocument(operations: RestOperation[], opts: { serverUrl: string | undefined }) {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of operations) {
    paths[op.url] = { ...paths[op.url], [op.method.toLowerCase()]: operationFor(op) };
  }
  return createDocument({
    openapi: "3.1.0",
    info: { title: "Osmynt Engine API", version, description: DESCRIPTION },
    servers: [{ url: opts.serverUrl ?? "/" }],
    tags: [...new Set(operations.map((op) => op.procedurePath.split(".")[0] ?? "api"))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The session's access token" },
      },
    },
  });
}
