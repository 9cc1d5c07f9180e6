import { AppError, type AppErrorCode, isAppError } from "@osmynt/db";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { wsProtocolErrorCode } from "../http/client-mistakes.js";

/** The one place where domain errors become tRPC errors (and so HTTP statuses). */
const trpcCodeFor: Record<AppErrorCode, TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  BAD_GATEWAY: "BAD_GATEWAY",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
};

export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({
    code: trpcCodeFor[error.code],
    message: error.message,
    cause: error,
  });
}

/**
 * SQLSTATE classes that only a value can cause: 22 (data exception: invalid byte sequence, invalid
 * text representation, out of range, string too long…) and 54 (program limit exceeded: a value too
 * big to index). Input is validated at the edge so these should never happen; if one slips
 * through, the client still gets BAD_REQUEST rather than a 500, and the log gets the code only.
 */
const INPUT_SQLSTATE = /^(22|54)[0-9A-Z]{3}$/;

/** The SQLSTATE of a driver error (postgres.js or PGlite) anywhere in a cause chain. */
export function sqlStateOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** A database error caused by an input value, as the BAD_REQUEST it is; undefined for any other error. */
export function inputRefusedByDatabase(error: unknown): TRPCError | undefined {
  const state = sqlStateOf(error);
  if (!state || !INPUT_SQLSTATE.test(state)) return undefined;
  // The SQLSTATE stays in the cause, for the server's eyes: the answer names no database detail.
  return new TRPCError({
    code: "BAD_REQUEST",
    message: "A value in the input cannot be stored or compared (malformed text, or a number or string out of range)",
    cause: new Error(`the database refused an input value (SQLSTATE ${state})`),
  });
}

/**
 * Failures that say the database cannot be reached right now, not that anything is wrong with the
 * call: postgres.js's connection errors, the socket's, and the SQLSTATEs of a server that is
 * gone, starting, shutting down, full, or cancelled the statement at its timeout.
 */
const UNREACHABLE_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300|57014)$/;

export const DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable right now; retry in a few seconds";

/** A database outage as SERVICE_UNAVAILABLE (503, retryable, no driver text); undefined for any other error. */
export function databaseUnavailable(error: unknown): TRPCError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
      return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE });
  }
  return undefined;
}

/**
 * SQLSTATEs of a transaction the database aborted because of what ran beside it, not because of
 * the call: 40P01 (chosen as the victim of a deadlock) and 40001 (serialization failure). Nothing
 * of it was applied, and the same call sent again normally succeeds.
 */
const RETRYABLE_SQLSTATE = new Set(["40P01", "40001"]);

export const TRANSACTION_CONFLICT_MESSAGE = "The change collided with a concurrent change to the same data and was not applied; retry it";

/** A transaction aborted by a deadlock or a serialization conflict as CONFLICT (409) saying to retry; undefined for any other error. */
export function transactionConflict(error: unknown): TRPCError | undefined {
  const state = sqlStateOf(error);
  if (!state || !RETRYABLE_SQLSTATE.has(state)) return undefined;
  // The SQLSTATE stays in the cause, for the server's log: the answer names no database detail.
  return new TRPCError({
    code: "CONFLICT",
    message: TRANSACTION_CONFLICT_MESSAGE,
    cause: new Error(`the database aborted the transaction (SQLSTATE ${state})`),
  });
}

export const INTERNAL_MESSAGE = "Internal server error; the failure was logged";

type Issue = ZodError["issues"][number];

/**
 * A union's own message ("target is { teamId } or { userId }") hides what was wrong when the input
 * plainly chose one branch (its keys fit it) and failed inside it, e.g. 501 ids where at most 500
 * are taken: then that branch's issues are the ones worth naming.
 */
function unionBranch(issue: Issue): Issue[] | null {
  if (issue.code !== "invalid_union") return null;
  const chosen = issue.errors.filter((branch) => !branch.some((i) => i.code === "unrecognized_keys" || i.code === "invalid_type"));
  return chosen.length === 1 ? (chosen[0] as Issue[]).map((i) => ({ ...i, path: [...issue.path, ...i.path] })) : null;
}

function describeIssues(error: ZodError): string {
  return error.issues
    .flatMap((issue) => unionBranch(issue) ?? [issue])
    .slice(0, 10)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "input"}: ${issue.message}`)
    .join("; ");
}

/**
 * What clients see of an error. Validation errors carry their zod issues and a readable message;
 * domain errors carry their safe details; anything unexpected (a driver error, a bug) is reduced
 * to a fixed message so no driver text or stack reaches a client.
 */
export function formatError<TShape extends { message: string; data: object }>(shape: TShape, error: TRPCError): TShape {
  const cause = error.cause;
  if (cause instanceof ZodError) {
    return {
      ...shape,
      message: `Invalid input: ${describeIssues(cause)}`,
      data: { ...shape.data, zodError: cause.issues },
    };
  }
  // tRPC reports a body (or `?input=`) that is not JSON as BAD_REQUEST; it is a parse error.
  if (error.code === "BAD_REQUEST" && cause instanceof SyntaxError) {
    return {
      ...shape,
      message: `Request input is not valid JSON: ${cause.message}`,
      code: TRPC_ERROR_CODES_BY_KEY.PARSE_ERROR,
      data: { ...shape.data, code: "PARSE_ERROR" },
    };
  }
  // Domain errors thrown while a subscription iterates never pass the mapping middleware (it wraps
  // the call, not the stream), so their code is taken from the error itself here as well.
  if (cause instanceof AppError) {
    const code = trpcCodeFor[cause.code];
    return {
      ...shape,
      message: cause.message,
      code: TRPC_ERROR_CODES_BY_KEY[code],
      data: { ...shape.data, code, httpStatus: getHTTPStatusCodeFromError(new TRPCError({ code })), details: cause.details ?? null },
    };
  }
  // A subscription's stream (or a context) failing on a database outage: a retryable 503, not a bug.
  if (error.code === "INTERNAL_SERVER_ERROR" && databaseUnavailable(cause)) {
    return {
      ...shape,
      message: DATABASE_UNAVAILABLE_MESSAGE,
      code: TRPC_ERROR_CODES_BY_KEY.SERVICE_UNAVAILABLE,
      data: { ...shape.data, code: "SERVICE_UNAVAILABLE", httpStatus: 503 },
    };
  }
  if (error.code === "INTERNAL_SERVER_ERROR") return { ...shape, message: INTERNAL_MESSAGE };
  return shape;
}

/**
 * Logs a procedure failure that is the server's fault, for /trpc and the REST view alike. A domain
 * error raised inside a subscription's stream arrives still wrapped as INTERNAL_SERVER_ERROR; it is
 * an answer to the client (resync, revoked), not a failure. Neither is a client's protocol mistake
 * on a WebSocket (a frame too big): the socket's own handler logged it at warn.
 */
export function reportProcedureError(
  logger: { error: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void },
  { error, path, type }: { error: TRPCError; path: string | undefined; type: string },
) {
  if (error.code === "SERVICE_UNAVAILABLE" || databaseUnavailable(error.cause)) {
    logger.warn({ path, type, cause: (error.cause as Error | undefined)?.message }, "procedure failed: the database is unavailable");
    return;
  }
  if (error.code === "CONFLICT" && error.message === TRANSACTION_CONFLICT_MESSAGE) {
    // Rare under normal load; many of them say two code paths take the same locks in opposite orders.
    logger.warn(
      { path, type, cause: (error.cause as Error | undefined)?.message },
      "procedure failed: transaction aborted by the database, client told to retry",
    );
    return;
  }
  if (error.code === "INTERNAL_SERVER_ERROR" && !isAppError(error.cause) && !wsProtocolErrorCode(error.cause)) {
    logger.error({ err: error.cause ?? error, path, type }, "procedure failed");
  }
}
