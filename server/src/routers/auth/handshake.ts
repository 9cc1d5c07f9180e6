import { createHandshake, getHandshakeState, isAppError, type SealedSession, takeSealedSession } from "@osmynt/db";
import { importHandshakeKey } from "../../auth/handshake-seal.js";
import type { Context } from "../../trpc/context.js";
import { toTRPCError } from "../../trpc/errors.js";
import { publicProcedure, router } from "../../trpc/init.js";
import { publicBaseUrl, requireGitHub } from "./github-sign-in.js";
import { handshakeInitInput, handshakeInitOutput, handshakeRefInput, handshakeRetrieveOutput } from "./handshake.types.js";
import { handshakeError, isWaiting } from "./handshake-errors.js";

/** How often a waiting `onComplete` looks at its handshake: the row is the truth on every instance. */
const POLL_MS = 250;

async function take(ctx: Context, id: string): Promise<{ sealedSession: SealedSession } | null> {
  const taken = await ctx.db.transaction((tx) => takeSealedSession(tx, { id }));
  if (taken.ok) return { sealedSession: taken.sealedSession };
  if (taken.state && isWaiting(taken.state)) return null;
  throw handshakeError(id, taken.state);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The editor's side of browser sign-in. The editor is not signed in yet, so these are public:
 * what protects the session is that it is sealed to the editor's key, and handed over once.
 */
export const handshakeRouter = router({
  /** Starts a browser sign-in for the editor's ephemeral P-256 key; open `authorizeUrl` in a browser. */
  init: publicProcedure
    .input(handshakeInitInput)
    .output(handshakeInitOutput)
    .mutation(async ({ ctx, input }) => {
      const github = requireGitHub(ctx.config);
      await importHandshakeKey(input.publicKey);
      const base = publicBaseUrl(ctx.config, ctx.meta.origin);
      const { id, expiresAt } = await createHandshake(ctx.db, { publicKey: input.publicKey, ttlMs: github.handshakeTtlMs });
      return {
        handshakeId: id,
        authorizeUrl: `${base}/auth/github/start?handshake=${encodeURIComponent(id)}`,
        expiresAt: expiresAt.toISOString(),
      };
    }),

  /** `pending` until the browser finishes, then the sealed session, once; a second call is NOT_FOUND. */
  retrieve: publicProcedure
    .input(handshakeRefInput)
    .output(handshakeRetrieveOutput)
    .mutation(async ({ ctx, input }) => {
      const taken = await take(ctx, input.handshakeId);
      return taken ? { status: "complete" as const, ...taken } : { status: "pending" as const };
    }),

  /**
   * The sealed session the moment the browser flow finishes (then the subscription ends), or the
   * error that ended the flow. It polls the handshake row, so it works on any instance, and never
   * outlives the handshake's expiry.
   */
  onComplete: publicProcedure.input(handshakeRefInput).subscription(async function* ({ ctx, input, signal }) {
    try {
      while (!signal?.aborted) {
        const state = await getHandshakeState(ctx.db, input.handshakeId);
        if (state?.status === "complete" && !state.expired) {
          const taken = await take(ctx, input.handshakeId);
          if (taken) {
            yield { status: "complete" as const, ...taken };
            return;
          }
        } else if (!state || !isWaiting(state)) {
          throw handshakeError(input.handshakeId, state);
        }
        await sleep(POLL_MS, signal);
      }
    } catch (error) {
      // Thrown while iterating, past the middleware that maps domain errors: mapped here, an
      // expired or declined handshake is an answer (NOT_FOUND, PRECONDITION_FAILED), not a
      // server failure for the error log.
      throw isAppError(error) ? toTRPCError(error) : error;
    }
  }),
});
