import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { newId } from "../ids.js";
import { refreshTokens, sessions } from "../schema/sessions.js";
import { users } from "../schema/users.js";
import { hashToken, newSecretToken } from "../tokens.js";
import { type SelfUser, selfUserColumns } from "./users.js";

export const REFRESH_TOKEN_PREFIX = "osr";

export interface IssuedRefreshToken {
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

async function issueRefreshToken(db: Executor, sessionId: string, ttlMs: number): Promise<IssuedRefreshToken> {
  const { token, hash } = newSecretToken(REFRESH_TOKEN_PREFIX);
  const expiresAt = new Date(Date.now() + ttlMs);
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
  },
): Promise<{ sessionId: string } & IssuedRefreshToken> {
  const sessionId = newId("session");
  await db.insert(sessions).values({
    id: sessionId,
    userId: params.userId,
    method: params.method,
    userAgent: params.userAgent?.slice(0, 256),
  });
  return {
    sessionId,
    ...(await issueRefreshToken(db, sessionId, params.refreshTtlMs)),
  };
}

export type RotateResult =
  | ({ ok: true; sessionId: string; user: SelfUser } & IssuedRefreshToken)
  | { ok: false; reason: "unknown" | "expired" | "revoked" }
  | { ok: false; reason: "reused"; sessionId: string; userId: string };

/**
 * Spends a refresh token and issues its successor in the same session. The `used_at is null`
 * condition makes the spend atomic: of two concurrent refreshes with one token, exactly one wins
 * and the other is reported as reuse (a stolen token being raced), for the caller to revoke.
 */
export async function rotateRefreshToken(db: Executor, params: { refreshToken: string; refreshTtlMs: number }): Promise<RotateResult> {
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
    .where(and(eq(sessions.id, spent.sessionId), isNull(sessions.revokedAt)))
    .returning({ userId: sessions.userId });
  if (!active) return { ok: false, reason: "revoked" };
  const [user] = await db.select(selfUserColumns).from(users).where(eq(users.id, active.userId));
  if (!user) return { ok: false, reason: "revoked" };
  const issued = await issueRefreshToken(db, spent.sessionId, params.refreshTtlMs);
  return { ok: true, sessionId: spent.sessionId, user, ...issued };
}

/** The session and its user, if the session is still active. Scoped by user: a token names both. */
export async function getActiveSession(db: Executor, params: { sessionId: string; userId: string }): Promise<SelfUser | undefined> {
  const [row] = await db
    .select(selfUserColumns)
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, params.sessionId), eq(sessions.userId, params.userId), isNull(sessions.revokedAt)));
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

export async function listActiveSessions(db: Executor, params: { userId: string }) {
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
        isNull(sessions.revokedAt),
        // a session whose newest refresh token has expired is over even if nobody revoked it
        sql`exists (select 1 from ${refreshTokens} where ${refreshTokens.sessionId} = ${sessions.id} and ${refreshTokens.usedAt} is null and ${refreshTokens.expiresAt} > now())`,
      ),
    )
    .orderBy(desc(sessions.lastUsedAt));
}
