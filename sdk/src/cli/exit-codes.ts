import { isTRPCClientError } from "@trpc/client";
import { CommanderError } from "commander";
import { CryptoError } from "../crypto/errors.js";
import { RecipientError } from "../devices/devices.js";
import { PairingAbortedError } from "../devices/pairing.js";
import { ResyncRequiredError } from "../stream-errors.js";

/**
 * The CLI's exit codes, part of its contract with scripts (documented in sdk/README.md and the
 * root README). A new failure picks the closest existing code rather than a new number.
 */
export const ExitCode = {
  ok: 0,
  /** Bad command line, input the server refused as invalid, a file that cannot be read, or an unexpected error. */
  usage: 1,
  /** No session (or it ended), or this device has no keys in the account yet. */
  notSignedIn: 2,
  /** The team, user, share or device does not exist for you, or you may not act on it. */
  notFound: 3,
  /** A signature, device log, key or share failed verification, or a share's path escapes the repository. */
  integrity: 4,
  /** The server could not be reached or failed (5xx, timeouts, rate limits). */
  network: 5,
  /** The current state refuses it: a file changed since the shared commit, a declined prompt, an expired invite, a conflict. */
  conflict: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const names: Record<ExitCode, string> = {
  0: "ok",
  1: "usage",
  2: "not_signed_in",
  3: "not_found",
  4: "integrity",
  5: "network",
  6: "conflict",
};

/** A failure the CLI reports in one line (no stack) with a chosen exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const trpcCodes: Record<string, ExitCode> = {
  BAD_REQUEST: ExitCode.usage,
  PARSE_ERROR: ExitCode.usage,
  PAYLOAD_TOO_LARGE: ExitCode.usage,
  UNSUPPORTED_MEDIA_TYPE: ExitCode.usage,
  UNAUTHORIZED: ExitCode.notSignedIn,
  NOT_FOUND: ExitCode.notFound,
  FORBIDDEN: ExitCode.notFound,
  CONFLICT: ExitCode.conflict,
  PRECONDITION_FAILED: ExitCode.conflict,
};

/** What a failure means for the caller: exit code, stable name, and a one-line message. */
export function classify(error: unknown): { exitCode: ExitCode; code: string; message: string; details?: Record<string, unknown> } {
  const of = (exitCode: ExitCode, message: string, details?: Record<string, unknown>) => ({
    exitCode,
    code: names[exitCode],
    message,
    ...(details ? { details } : {}),
  });
  if (error instanceof CliError) return of(error.exitCode, error.message, error.details);
  if (error instanceof CommanderError) return of(ExitCode.usage, error.message.replace(/^error: /, ""));
  if (error instanceof PairingAbortedError) return of(ExitCode.conflict, error.message, { reason: error.reason });
  if (error instanceof RecipientError || error instanceof CryptoError)
    return of(ExitCode.integrity, error.message, { reason: (error as CryptoError).reason });
  if (error instanceof ResyncRequiredError) return of(ExitCode.conflict, error.message);
  if (isTRPCClientError(error)) {
    const data = error.data as { code?: string; details?: Record<string, unknown> } | undefined;
    const exitCode = data?.code ? (trpcCodes[data.code] ?? ExitCode.network) : ExitCode.network;
    return of(exitCode, error.message, data?.details ?? (data?.code ? { trpcCode: data.code } : undefined));
  }
  const code = (error as { code?: unknown; cause?: { code?: unknown } }).cause?.code ?? (error as { code?: unknown }).code;
  if (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|UND_ERR)/.test(code))
    return of(ExitCode.network, `cannot reach the server (${code})`);
  // A file the command line named that cannot be read, and anything unforeseen: exit 1 with its message.
  return of(ExitCode.usage, error instanceof Error ? error.message : String(error));
}
