import type { WebSocket } from "ws";

/** WebSocket close codes of ours (4000–4999 is the application range). */
export const CloseCodes = {
  /** The session ended, or the access token the connection opened with expired: reconnect with a fresh one. */
  sessionRevoked: 4401,
  tooManyConnections: 4429,
  slowConsumer: 4408,
} as const;

/**
 * The WebSocket connections of this instance, by session: a connection is bound to the session
 * that opened it, so revoking the session closes it (on whichever instance it lives, since every
 * instance reads the `session.revoked` event from the log).
 */
/**
 * A WebSocket is authorized for the lifetime of the access token it opened with: at the token's
 * expiry the server closes it with 4401, and the client reconnects with a fresh token (resuming
 * its streams from their last event id). Without this an open socket would outlive the token.
 */
export function closeAtTokenExpiry(socket: WebSocket, expiresAt: Date): void {
  // setTimeout's limit is ~24.8 days; access tokens live a day at most.
  const delay = Math.max(0, Math.min(expiresAt.getTime() - Date.now(), 2 ** 31 - 1));
  const timer = setTimeout(() => socket.close(CloseCodes.sessionRevoked, "access token expired"), delay);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

export function createConnectionRegistry() {
  const bySession = new Map<string, Set<WebSocket>>();
  const perUser = new Map<string, number>();
  const streamsPerUser = new Map<string, number>();
  const anonymousPerIp = new Map<string, number>();

  return {
    /** False when the user already holds the maximum number of connections on this instance. */
    register(params: { userId: string; sessionId: string; socket: WebSocket; maxPerUser: number }): boolean {
      const count = perUser.get(params.userId) ?? 0;
      if (count >= params.maxPerUser) return false;
      perUser.set(params.userId, count + 1);
      let sockets = bySession.get(params.sessionId);
      if (!sockets) {
        sockets = new Set();
        bySession.set(params.sessionId, sockets);
      }
      sockets.add(params.socket);
      params.socket.once("close", () => {
        const left = (perUser.get(params.userId) ?? 1) - 1;
        if (left <= 0) perUser.delete(params.userId);
        else perUser.set(params.userId, left);
        sockets.delete(params.socket);
        if (sockets.size === 0) bySession.delete(params.sessionId);
      });
      return true;
    },
    /**
     * Counts a WebSocket opened without an access token (an editor waiting for its browser
     * sign-in) against its client address; false when that address already holds `max`.
     */
    registerAnonymous(params: { ip: string; socket: WebSocket; max: number }): boolean {
      const count = anonymousPerIp.get(params.ip) ?? 0;
      if (count >= params.max) return false;
      anonymousPerIp.set(params.ip, count + 1);
      params.socket.once("close", () => {
        const left = (anonymousPerIp.get(params.ip) ?? 1) - 1;
        if (left <= 0) anonymousPerIp.delete(params.ip);
        else anonymousPerIp.set(params.ip, left);
      });
      return true;
    },
    /**
     * Counts an event stream against the user's limit on this instance (WebSocket and SSE alike).
     * Returns its release function, or null when the user already has `max` open streams.
     */
    acquireStream(userId: string, max: number): (() => void) | null {
      const count = streamsPerUser.get(userId) ?? 0;
      if (count >= max) return null;
      streamsPerUser.set(userId, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (streamsPerUser.get(userId) ?? 1) - 1;
        if (left <= 0) streamsPerUser.delete(userId);
        else streamsPerUser.set(userId, left);
      };
    },
    closeSession(sessionId: string) {
      for (const socket of bySession.get(sessionId) ?? []) socket.close(CloseCodes.sessionRevoked, "session revoked");
    },
    count: () => [...perUser.values()].reduce((a, b) => a + b, 0),
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;
