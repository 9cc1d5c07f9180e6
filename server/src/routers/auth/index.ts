import { AppError, findOrCreateLocalUser, getUserById, isAppError, listActiveSessions, newId, rotateRefreshToken } from "@osmynt/db";
import { authedProcedure, publicProcedure, router } from "../../trpc/init.js";
import { startPersonalTeam } from "../teams/manage-team.js";
import {
  devLoginInput,
  okSchema,
  refreshInput,
  revokeSessionInput,
  selfUserSchema,
  sessionInfoSchema,
  sessionSchema,
} from "./auth.types.js";
import { endSession } from "./end-session.js";
import { loginWithGitHubToken } from "./github-token.js";
import { handshakeRouter } from "./handshake.js";
import { openSession, sessionTokens, toSelfUser } from "./issue-session.js";

const refreshFailures = {
  unknown: "refresh token is not recognised; sign in again",
  expired: "refresh token has expired; sign in again",
  revoked: "the session of this refresh token has ended; sign in again",
  sessionMaxAge: "the session reached its maximum lifetime (SESSION_MAX_AGE_DAYS); sign in again",
  sessionIdle: "the session was unused for longer than its idle timeout (SESSION_IDLE_TIMEOUT_DAYS); sign in again",
} as const;

export const authRouter = router({
  /** Browser sign-in with GitHub for an editor: init, then onComplete (or retrieve). */
  handshake: handshakeRouter,

  /** Signs in with a GitHub access token (`gh auth token`, an editor's GitHub session). */
  loginWithGitHubToken,

  /** Local development only: signs in (creating if needed) a user by login, no password. */
  devLogin: publicProcedure
    .input(devLoginInput)
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      if (ctx.config.devLoginDisabledReason) throw new AppError("FORBIDDEN", ctx.config.devLoginDisabledReason);
      // A relayed request did not come from this machine, whatever its socket address says.
      if (ctx.meta.forwarded)
        throw new AppError(
          "FORBIDDEN",
          "devLogin refuses forwarded requests (Forwarded / X-Forwarded-* / X-Real-IP): it is for this machine only",
        );
      return ctx.db.transaction(async (tx) => {
        const { user, created } = await findOrCreateLocalUser(tx, {
          id: newId("user"),
          login: input.login,
        });
        if (created) await startPersonalTeam(tx, user);
        return openSession(tx, ctx.config, {
          user,
          method: "dev",
          userAgent: ctx.meta.userAgent,
        });
      });
    }),

  refresh: publicProcedure
    .input(refreshInput)
    .output(sessionSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await ctx.db.transaction((tx) =>
        rotateRefreshToken(tx, {
          refreshToken: input.refreshToken,
          refreshTtlMs: ctx.config.auth.refreshTtlMs,
          limits: ctx.config.auth.sessionLimits,
        }),
      );
      if (result.ok) return sessionTokens(ctx.config, result);
      if (result.reason === "reused") {
        // A rotated token came back: someone holds a copy. End the whole session for both holders.
        await endSession(ctx.deps, {
          userId: result.userId,
          sessionId: result.sessionId,
          actorId: null,
          reason: "refresh-reuse",
        }).catch((error: unknown) => {
          // A concurrent reuse may have revoked it first; any other failure must not pass silently.
          if (!(isAppError(error) && error.code === "NOT_FOUND")) throw error;
        });
        ctx.log.warn({ sessionId: result.sessionId }, "refresh token reuse; session revoked");
        throw new AppError("UNAUTHORIZED", "refresh token was already used, so the session has been revoked; sign in again");
      }
      throw new AppError("UNAUTHORIZED", refreshFailures[result.reason]);
    }),

  logout: authedProcedure.output(okSchema).mutation(async ({ ctx }) => {
    await endSession(ctx.deps, {
      userId: ctx.user.id,
      sessionId: ctx.sessionId,
      actorId: ctx.user.id,
      reason: "logout",
    });
    return { ok: true as const };
  }),

  me: authedProcedure.output(selfUserSchema).query(async ({ ctx }) => {
    // Read now, not remembered with the session: the profile follows GitHub at each sign-in.
    const user = await getUserById(ctx.db, ctx.user.id);
    if (!user) throw new AppError("UNAUTHORIZED", "the user of this session no longer exists; sign in again");
    return toSelfUser(user);
  }),

  sessions: router({
    list: authedProcedure.output(sessionInfoSchema.array()).query(async ({ ctx }) => {
      const rows = await listActiveSessions(ctx.db, { userId: ctx.user.id, limits: ctx.config.auth.sessionLimits });
      return rows.map((s) => ({
        ...s,
        createdAt: s.createdAt.toISOString(),
        lastUsedAt: s.lastUsedAt.toISOString(),
        current: s.id === ctx.sessionId,
      }));
    }),
    revoke: authedProcedure
      .input(revokeSessionInput)
      .output(okSchema)
      .mutation(async ({ ctx, input }) => {
        await endSession(ctx.deps, {
          userId: ctx.user.id,
          sessionId: input.sessionId,
          actorId: ctx.user.id,
          reason: "revoked",
        });
        return { ok: true as const };
      }),
  }),
});
