import { AppError, recordAudit, revokeSession } from "@osmynt/db";
import type { AppDeps } from "../../deps.js";
import { withEvents } from "../../trpc/with-events.js";

/**
 * Ends one session of a user: the revocation, its audit row and the `session.revoked` event
 * commit together. This instance forgets the session at once; the others, and open connections
 * of that session, hear about it through the log.
 */
export async function endSession(
  deps: Pick<AppDeps, "db" | "bus" | "sessionCache">,
  params: {
    userId: string;
    sessionId: string;
    actorId: string | null;
    reason: "logout" | "revoked" | "refresh-reuse";
  },
): Promise<void> {
  const ended = await withEvents(deps, async (tx, emit) => {
    const revoked = await revokeSession(tx, {
      sessionId: params.sessionId,
      userId: params.userId,
      reason: params.reason,
    });
    if (!revoked) return false;
    await recordAudit(tx, {
      actorId: params.actorId,
      action: "auth.sessionRevoked",
      targetType: "session",
      targetId: params.sessionId,
      metadata: { reason: params.reason, userId: params.userId },
    });
    await emit([
      {
        type: "session.revoked",
        userId: params.userId,
        teamId: null,
        payload: { sessionId: params.sessionId, reason: params.reason },
      },
    ]);
    return true;
  });
  // Also after a refusal: the session is over either way, whoever ended it.
  deps.sessionCache.invalidate(params.sessionId);
  if (!ended) throw new AppError("NOT_FOUND", `No active session ${params.sessionId} for this user`);
}
