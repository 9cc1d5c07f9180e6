import { createSession, recordAudit, type SelfUser, type Transaction } from "@osmynt/db";
import { signAccessToken } from "../../auth/access-token.js";
import type { Config } from "../../env.js";

export function toSelfUser(user: SelfUser) {
  return { ...user, createdAt: user.createdAt.toISOString() };
}

/** Opens a session for a signed-in user (inside the sign-in transaction) and mints its tokens. */
export async function openSession(
  tx: Transaction,
  config: Config,
  params: { user: SelfUser; method: string; userAgent: string | undefined },
) {
  const { sessionId, refreshToken, refreshTokenExpiresAt } = await createSession(tx, {
    userId: params.user.id,
    method: params.method,
    userAgent: params.userAgent,
    refreshTtlMs: config.auth.refreshTtlMs,
    limits: config.auth.sessionLimits,
  });
  await recordAudit(tx, {
    actorId: params.user.id,
    action: "auth.signIn",
    targetType: "session",
    targetId: sessionId,
    metadata: { method: params.method },
  });
  return sessionTokens(config, {
    user: params.user,
    sessionId,
    refreshToken,
    refreshTokenExpiresAt,
  });
}

export async function sessionTokens(
  config: Config,
  params: {
    user: SelfUser;
    sessionId: string;
    refreshToken: string;
    refreshTokenExpiresAt: Date;
  },
) {
  const access = await signAccessToken(
    { userId: params.user.id, sessionId: params.sessionId },
    config.auth.jwtSecret,
    config.auth.accessTtlSeconds,
  );
  return {
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt.toISOString(),
    refreshToken: params.refreshToken,
    refreshTokenExpiresAt: params.refreshTokenExpiresAt.toISOString(),
    user: toSelfUser(params.user),
  };
}
