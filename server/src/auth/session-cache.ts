import { type ActiveSession, type Executor, getActiveSession, type SessionLimits } from "@osmynt/db";

/**
 * Whether a session is still active, answered from memory for at most `ttlMs` after the database
 * last said so, instead of one query per request (half the work of a small query over HTTP).
 *
 * Revocation stays prompt: whoever ends a session calls `invalidate` on its own instance at once,
 * and every instance drops it when its event hub reads the `session.revoked` event from the log
 * (at once while the bus is up, within the hub's fallback poll while it is down). The TTL is the
 * bound when neither reaches an instance (its hub cannot read the log). The lifetime and idle
 * limits are re-checked on every hit against the remembered timestamps (by the database's clock),
 * so a session past either is looked up again, never served from memory.
 */
export interface SessionCache {
  /**
   * The session's user id, if the session is active: from memory if the database said so less
   * than `ttlMs` ago (0: never), else from the database. Like the limits, the TTL is the caller's
   * configuration, read at each check.
   */
  check(db: Executor, params: { sessionId: string; userId: string; limits: SessionLimits; ttlMs: number }): Promise<string | undefined>;
  /** Forgets the session (it has ended): its next request goes to the database. */
  invalidate(sessionId: string): void;
  readonly size: number;
}

interface Entry extends ActiveSession {
  /** Local time of the database's answer. */
  storedAt: number;
  /** Database clock minus local clock when it was read. */
  skewMs: number;
}

export function createSessionCache(options: { maxEntries?: number } = {}): SessionCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  // Bumped by every invalidation: a lookup that began before one may have read the session
  // before it ended, so its answer is used for that request but not remembered.
  let generation = 0;

  const alive = (entry: Entry, limits: SessionLimits, now: number) => {
    const dbNow = now + entry.skewMs;
    return entry.createdAt.getTime() + limits.maxAgeMs > dbNow && entry.lastUsedAt.getTime() + limits.idleMs > dbNow;
  };

  return {
    async check(db, params) {
      const now = Date.now();
      const entry = entries.get(params.sessionId);
      if (entry && entry.userId === params.userId && now - entry.storedAt < params.ttlMs && alive(entry, params.limits, now))
        return entry.userId;
      if (entry) entries.delete(params.sessionId);
      const started = generation;
      const found = await getActiveSession(db, params);
      if (!found) return undefined;
      if (params.ttlMs > 0 && started === generation) {
        const at = Date.now();
        if (entries.size >= maxEntries) {
          // Oldest first (a Map keeps insertion order): a flood of sessions only costs queries.
          const oldest = entries.keys().next().value;
          if (oldest !== undefined) entries.delete(oldest);
        }
        entries.set(params.sessionId, { ...found, storedAt: at, skewMs: found.checkedAt.getTime() - at });
      }
      return found.userId;
    },
    invalidate(sessionId) {
      generation++;
      entries.delete(sessionId);
    },
    get size() {
      return entries.size;
    },
  };
}
