import { isTRPCClientError } from "@trpc/client";

/**
 * The event stream cannot resume from the cursor it was given: it is older than the server's
 * retention or ahead of its log. Reload the state the app keeps, then call `events()` again
 * without `lastEventId`.
 */
export class ResyncRequiredError extends Error {
  override readonly name = "ResyncRequiredError";
  /** The cursor the server refused. */
  readonly lastEventId: string | undefined;
  /** The newest event id the server's retention has deleted, when it said so: cursors below it are stale. */
  readonly prunedThroughEventId: string | undefined;

  constructor(message: string, options: { cause: unknown; lastEventId: string | undefined; prunedThroughEventId?: string | undefined }) {
    super(message, { cause: options.cause });
    this.lastEventId = options.lastEventId;
    this.prunedThroughEventId = options.prunedThroughEventId;
  }
}

/** The tRPC error code of a failed call, if the server gave one. */
export function codeOf(error: unknown): string | undefined {
  if (!isTRPCClientError(error)) return undefined;
  const code = (error.data as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The HTTP status of a refused SSE request: the eventsource package puts it on its error event. */
function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof status === "number" ? status : undefined;
}

/** Server codes that describe a passing state of the server rather than of the request. */
const serverSide = new Set(["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "BAD_GATEWAY", "GATEWAY_TIMEOUT", "TIMEOUT"]);

interface ErrorDetails {
  resyncRequired?: unknown;
  prunedThroughEventId?: unknown;
}

function detailsOf(error: unknown): ErrorDetails | undefined {
  if (!isTRPCClientError(error)) return undefined;
  return (error.data as { details?: ErrorDetails | null } | undefined)?.details ?? undefined;
}

/**
 * Resync is recognised by the server's `details.resyncRequired`, not by the code: errors thrown
 * while the stream runs (after `started`) reach the client as INTERNAL_SERVER_ERROR today.
 */
function isResync(error: unknown): boolean {
  return detailsOf(error)?.resyncRequired === true || (isTRPCClientError(error) && /^resync required/i.test(error.message));
}

/**
 * Whether subscribing again later may succeed: lost connections and refused requests without a
 * tRPC code (network, socket closed, proxy), the server's own failures, and "slow consumer",
 * which only means this client fell behind. Everything else is an answer about the request.
 */
export function isTransient(error: unknown): boolean {
  if (isResync(error)) return false;
  const code = codeOf(error);
  if (code === undefined) {
    const status = httpStatusOf(error);
    return status === undefined || status >= 500 || status === 429;
  }
  if (code === "TOO_MANY_REQUESTS") return /slow consumer/i.test(isTRPCClientError(error) ? error.message : "");
  return serverSide.has(code);
}

/** True for UNAUTHORIZED answers, over WebSocket (a tRPC code) or SSE (an HTTP 401). */
export function isAuthError(error: unknown): boolean {
  return codeOf(error) === "UNAUTHORIZED" || (codeOf(error) === undefined && httpStatusOf(error) === 401);
}

/** What the iteration throws for a final error: resync is its own class, the rest as received. */
export function streamError(error: unknown, lastEventId: string | undefined): unknown {
  if (!isResync(error)) return error;
  const pruned = detailsOf(error)?.prunedThroughEventId;
  return new ResyncRequiredError((error as Error).message, {
    cause: error,
    lastEventId,
    prunedThroughEventId: typeof pruned === "string" ? pruned : undefined,
  });
}
