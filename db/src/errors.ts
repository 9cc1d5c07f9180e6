/**
 * The one domain error type. Query and domain code throws it and never imports tRPC; the server's
 * error formatter maps `code` to a tRPC code and an HTTP status in one place.
 */
export const appErrorCodes = [
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PRECONDITION_FAILED",
  "TOO_MANY_REQUESTS",
  "PAYLOAD_TOO_LARGE",
  /** An upstream service we depend on (GitHub) failed or did not answer in time. */
  "BAD_GATEWAY",
  "INTERNAL_SERVER_ERROR",
] as const;

export type AppErrorCode = (typeof appErrorCodes)[number];

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: AppErrorCode;
  /** Safe, structured detail for the client (ids, counts); never secrets or driver text. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AppErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
