import { AppError, type HandshakeState } from "@osmynt/db";

/** What each recorded browser failure means, for the editor that waits on the handshake. */
export const failureMessages: Record<string, string> = {
  access_denied: "sign-in was declined on GitHub",
  github_refused: "GitHub refused the sign-in (the authorization code was not accepted)",
  github_unavailable: "GitHub failed or did not answer in time during sign-in",
  login_conflict: "the GitHub login belongs to another account on this server",
  expired: "the handshake expired while the browser was signing in",
  too_many_codes: "too many wrong codes were typed on the sign-in page",
  internal: "the server failed while signing in",
};

/**
 * Why a handshake has nothing (more) to hand over, as the error the editor gets: gone, already
 * retrieved and expired are NOT_FOUND (start again); a failed browser flow says what failed.
 */
export function handshakeError(id: string, state: HandshakeState | undefined): AppError {
  if (!state)
    return new AppError(
      "NOT_FOUND",
      `Handshake ${id} not found, or the retrieval secret does not match: it never existed, has been swept after expiring, or is not yours`,
    );
  if (state.status === "retrieved")
    return new AppError("NOT_FOUND", `Handshake ${id} was already retrieved: a sealed session is handed over only once`, {
      handshakeStatus: "retrieved",
    });
  if (state.status === "failed") {
    const failure = state.failure ?? "internal";
    return new AppError("PRECONDITION_FAILED", `Handshake ${id} failed: ${failureMessages[failure] ?? failure}; start a new sign-in`, {
      handshakeStatus: "failed",
      failure,
    });
  }
  if (state.expired) return new AppError("NOT_FOUND", `Handshake ${id} has expired; start a new sign-in`, { handshakeStatus: "expired" });
  return new AppError("CONFLICT", `Handshake ${id} is still ${state.status}`, { handshakeStatus: state.status });
}

/** Still waiting for the browser: neither done, failed nor expired. */
export function isWaiting(state: HandshakeState): boolean {
  return !state.expired && (state.status === "pending" || state.status === "authorizing" || state.status === "exchanging");
}
