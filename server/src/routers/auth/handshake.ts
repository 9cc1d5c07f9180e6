import {
  AppError,
  createHandshake,
  getHandshakeStateForEditor,
  getUserById,
  hashToken,
  isAppError,
  newSecretToken,
  type SealedSession,
  takeCompletedHandshake,
} from "@osmynt/db";
import { importHandshakeKey, sealSession } from "../../auth/handshake-seal.js";
import { handshakeWaiters } from "../../auth/handshake-waiters.js";
import { userCodeOf } from "../../auth/user-code.js";
import type { Context } from "../../trpc/context.js";
import { toTRPCError } from "../../trpc/errors.js";
import { publicProcedure, router } from "../../trpc/init.js";
import { publicBaseUrl, requireGitHub } from "./github-sign-in.js";
import { handshakeInitInput, handshakeInitOutput, handshakeRefInput, handshakeRetrieveOutput } from "./handshake.types.js";
import { handshakeError, isWaiting } from "./handshake-errors.js";
import { openSession } from "./issue-session.js";

const RETRIEVAL_SECRET_PREFIX = "osh";

type Ref = { handshakeId: string; retrievalSecret: string };

/**
 * The editor's one retrieval: the session is opened only now (so a flow nobody retrieves leaves
 * no session behind), sealed to the editor's key, and the handshake marked retrieved, in one
 * transaction. Null while the browser is still on its way.
 */
async function take(ctx: Context, ref: Ref): Promise<{ sealedSession: SealedSession } | null> {
  const secretHash = hashToken(ref.retrievalSecret);
  const outcome = await ctx.db.transaction(async (tx) => {
    const taken = await takeCompletedHandshake(tx, { id: ref.handshakeId, retrievalSecretHash: secretHash });
    if (!taken.ok) return taken;
    const user = await getUserById(tx, taken.userId);
    if (!user) throw new AppError("NOT_FOUND", `Handshake ${ref.handshakeId}: the signed-in user no longer exists; start a new sign-in`);
    const session = await openSession(tx, ctx.config, { user, method: "github", userAgent: ctx.meta.userAgent });
    return { ok: true as const, sealedSession: await sealSession({ publicKey: taken.publicKey, handshakeId: ref.handshakeId, session }) };
  });
  if (outcome.ok) return { sealedSession: outcome.sealedSession };
  if (outcome.state && isWaiting(outcome.state)) return null;
  throw handshakeError(ref.handshakeId, outcome.state);
}

/**
 * The editor's side of browser sign-in. The editor is not signed in yet, so these are public:
 * what protects the session is the retrieval secret only the editor holds, the user code the
 * person types in the browser, and the seal to the editor's key.
 */
export const handshakeRouter = router({
  /**
   * Starts a browser sign-in for the editor's ephemeral P-256 key. The editor shows `userCode`,
   * opens `authorizeUrl`, and keeps `retrievalSecret` to itself.
   */
  init: publicProcedure
    .input(handshakeInitInput)
    .output(handshakeInitOutput)
    .mutation(async ({ ctx, input }) => {
      const github = requireGitHub(ctx.config);
      await importHandshakeKey(input.publicKey);
      const base = publicBaseUrl(ctx.config, ctx.meta.origin);
      const secret = newSecretToken(RETRIEVAL_SECRET_PREFIX);
      const { id, expiresAt } = await createHandshake(ctx.db, {
        publicKey: input.publicKey,
        retrievalSecretHash: secret.hash,
        ttlMs: github.handshakeTtlMs,
      });
      return {
        handshakeId: id,
        authorizeUrl: `${base}/auth/github/start?handshake=${encodeURIComponent(id)}`,
        userCode: await userCodeOf(ctx.config, id, input.publicKey),
        retrievalSecret: secret.token,
        expiresAt: expiresAt.toISOString(),
      };
    }),

  /** `pending` until the browser finishes, then the sealed session, once; a second call is NOT_FOUND. */
  retrieve: publicProcedure
    .input(handshakeRefInput)
    .output(handshakeRetrieveOutput)
    .mutation(async ({ ctx, input }) => {
      const taken = await take(ctx, input);
      return taken ? { status: "complete" as const, ...taken } : { status: "pending" as const };
    }),

  /**
   * The sealed session the moment the browser flow finishes (then the subscription ends), or the
   * error that ended the flow. Waiting costs no query: the handshake's row is read once at the
   * start and once each time its `handshake.settled` event (from any instance) or its expiry
   * wakes it. Subscriptions are capped per connection and per handshake.
   */
  onComplete: publicProcedure.input(handshakeRefInput).subscription(async function* ({ ctx, input, signal }) {
    const slot = ctx.meta.refused
      ? { refused: ctx.meta.refused }
      : handshakeWaiters(ctx.deps.hub).acquire(input.handshakeId, ctx.meta.socket);
    try {
      if ("refused" in slot) throw new AppError("TOO_MANY_REQUESTS", slot.refused);
      while (!signal?.aborted) {
        const state = await getHandshakeStateForEditor(ctx.db, {
          id: input.handshakeId,
          retrievalSecretHash: hashToken(input.retrievalSecret),
        });
        if (state?.status === "complete" && !state.expired) {
          const taken = await take(ctx, input);
          if (taken) {
            yield { status: "complete" as const, ...taken };
            return;
          }
        } else if (!state || !isWaiting(state)) {
          throw handshakeError(input.handshakeId, state);
        }
        await slot.next(state.expiresAt, signal);
      }
    } catch (error) {
      // Thrown while iterating, past the middleware that maps domain errors: mapped here, an
      // expired or declined handshake is an answer (NOT_FOUND, PRECONDITION_FAILED), not a
      // server failure for the error log.
      throw isAppError(error) ? toTRPCError(error) : error;
    } finally {
      if (!("refused" in slot)) slot.release();
    }
  }),
});
