import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { newId } from "../ids.js";
import { refreshTokens, sessions } from "../schema/sessions.js";
import { users } from "../schema/users.js";
import { hashToken, newSecretToken } from "../tokens.js";
import { type SelfUser, selfUserColumns } from "./users.js";

export const REFRESH_TOKEN_PREFIX = "osr";

/**
 * How long a session may live: `maxAgeMs` from sign-in whatever the refreshes (absolute), and
 * `idleMs` from its last use (a refresh). Both are checked by the database clock on every
 * request and refresh, so lowering them takes effect at once for existing sessions.
 */
export interface SessionLimits {
  maxAgeMs: number;
  idleMs: number;
}

const secs = (ms: number) => sql`make_interval(secs => ${ms / 1000}::double precision)`;

/** The session is neither revoked nor past its absolute lifetime or idle timeout. */
function sessionAlive(limits: SessionLimits) {
  return and(
    isNull(sessions.revokedAt),
    sql`${sessions.createdAt} + ${secs(limits.maxAgeMs)} > now()`,
    sql`${sessions.lastUsedAt} + ${secs(limits.idleMs)} > now()`,
  );
}

export interface IssuedRefreshToken {
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

/** A new refresh token; it never outlives the session's absolute end (`sessionEnd`). */
async function issueRefreshToken(db: Executor, sessionId: string, ttlMs: number, sessionEnd: Date): Promise<IssuedRefreshToken> {
  const { token, hash } = newSecretToken(REFRESH_TOKEN_PREFIX);
  const expiresAt = new Date(Math.min(Date.now() + ttlMs, sessionEnd.getTime()));
  await db.insert(refreshTokens).values({
    id: newId("refreshToken"),
    sessionId,
    tokenHash: hash,
    expiresAt,
  });
  return { refreshToken: token, refreshTokenExpiresAt: expiresAt };
}

export async function createSession(
  db: Executor,
  params: {
    userId: string;
    method: string;
    userAgent?: string | undefined;
    refreshTtlMs: number;
    limits: SessionLimits;
  },
): Promise<{ sessionId: string } & IssuedRefreshToken> {
  const sessionId = newId("session");
  const [row] = await db
    .insert(sessions)
    .values({
      id: sessionId,
      userId: params.userId,
      method: params.method,
      userAgent: params.userAgent?.slice(0, 256),
    })
    .returning({ createdAt: sessions.createdAt });
  if (!row) throw new Error("session insert returned nothing");
  return {
    sessionId,
    ...(await issueRefreshToken(db, sessionId, params.refreshTtlMs, sessionEndOf(row.createdAt, params.limits))),
  };
}

function sessionEndOf(createdAt: Date, limits: SessionLimits): Date {
  return new Date(createdAt.getTime() + limits.maxAgeMs);
}

export type RotateResult =
  | ({ ok: true; sessionId: string; user: SelfUser } & IssuedRefreshToken)
  | { ok: false; reason: "unknown" | "expired" | "revoked" | "sessionMaxAge" | "sessionIdle" }
  | { ok: false; reason: "reused"; sessionId: string; userId: string };

/**
 * Spends a refresh token and issues its successor in the same session. The `used_at is null`
 * condition makes the spend atomic: of two concurrent refreshes with one token, exactly one wins
 * and the other is reported as reuse (a stolen token being raced), for the caller to revoke.
 */
export async function rotateRefreshToken(
  db: Executor,
  params: { refreshToken: string; refreshTtlMs: number; limits: SessionLimits },
): Promise<RotateResult> {
  const hash = hashToken(params.refreshToken);
  const [spent] = await db
    .update(refreshTokens)
    .set({ usedAt: sql`now()` })
    .where(and(eq(refreshTokens.tokenHash, hash), isNull(refreshTokens.usedAt), sql`${refreshTokens.expiresAt} > now()`))
    .returning({ sessionId: refreshTokens.sessionId });
  if (!spent) {
    const [known] = await db
      .select({
        sessionId: refreshTokens.sessionId,
        userId: sessions.userId,
        usedAt: refreshTokens.usedAt,
        revokedAt: sessions.revokedAt,
      })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(eq(refreshTokens.tokenHash, hash));
    if (!known) return { ok: false, reason: "unknown" };
    if (known.revokedAt) return { ok: false, reason: "revoked" };
    if (!known.usedAt) return { ok: false, reason: "expired" };
    return {
      ok: false,
      reason: "reused",
      sessionId: known.sessionId,
      userId: known.userId,
    };
  }
  const [active] = await db
    .update(sessions)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(sessions.id, spent.sessionId), sessionAlive(params.limits)))
    .returning({ userId: sessions.userId, createdAt: sessions.createdAt });
  if (!active) {
    // Say which limit ended it; the spent token stays spent (the caller's transaction commits it).
    const [ended] = await db
      .select({
        revoked: sql<boolean>`${sessions.revokedAt} is not null`,
        tooOld: sql<boolean>`${sessions.createdAt} + ${secs(params.limits.maxAgeMs)} <= now()`,
      })
      .from(sessions)
      .where(eq(sessions.id, spent.sessionId));
    if (!ended || ended.revoked) return { ok: false, reason: "revoked" };
    return { ok: false, reason: ended.tooOld ? "sessionMaxAge" : "sessionIdle" };
  }
  const [user] = await db.select(selfUserColumns).from(users).where(eq(users.id, active.userId));
  if (!user) return { ok: false, reason: "revoked" };
  const issued = await issueRefreshToken(db, spent.sessionId, params.refreshTtlMs, sessionEndOf(active.createdAt, params.limits));
  return { ok: true, sessionId: spent.sessionId, user, ...issued };
}

/** An active session as `getActiveSession` finds it, with what a cache needs to re-check its limits later. */
export interface ActiveSession {
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  /** The database clock when it was read (the limits are measured by it). */
  checkedAt: Date;
}

/**
 * The session, if it is still active (not revoked, within its lifetime and idle timeout). Scoped
 * by user: a token names both.
 */
export async function getActiveSession(
  db: Executor,
  params: { sessionId: string; userId: string; limits: SessionLimits },
): Promise<ActiveSession | undefined> {
  const [row] = await db
    .select({
      userId: sessions.userId,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      checkedAt: sql<Date>`now()`.mapWith(sessions.createdAt),
    })
    .from(sessions)
    .where(and(eq(sessions.id, params.sessionId), eq(sessions.userId, params.userId), sessionAlive(params.limits)));
  return row;
}

/** Revokes one of the user's sessions; false when it is not theirs or already ended. */
export async function revokeSession(db: Executor, params: { sessionId: string; userId: string; reason: string }): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: params.reason })
    .where(and(eq(sessions.id, params.sessionId), eq(sessions.userId, params.userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

export async function listActiveSessions(db: Executor, params: { userId: string; limits: SessionLimits }) {
  return db
    .select({
      id: sessions.id,
      method: sessions.method,
      userAgent: sessions.userAgent,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
    })
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, params.userId),
        sessionAlive(params.limits),
        // a session whose newest refresh token has expired is over even if nobody revoked it
        sql`exists (select 1 from ${refreshTokens} where ${refreshTokens.sessionId} = ${sessions.id} and ${refreshTokens.usedAt} is null and ${refreshTokens.expiresAt} > now())`,
      ),
    )
    .orderBy(desc(sessions.lastUsedAt));
}
