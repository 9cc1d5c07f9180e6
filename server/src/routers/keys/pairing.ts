import {
  AppError,
  abortPairing,
  advancePairing,
  createPairing,
  getPairing,
  isAppError,
  listDevices,
  listPendingPairings,
  type PairingView,
  readDeviceLogState,
} from "@osmynt/db";
import { checkPairingKey } from "../../keys/pairing-keys.js";
import { toTRPCError } from "../../trpc/errors.js";
import { authedProcedure, router } from "../../trpc/init.js";
import {
  pairingAbortInput,
  pairingConfirmInput,
  pairingInitInput,
  pairingOutput,
  pairingRefInput,
  pairingRespondInput,
  pairingRevealInput,
  pendingPairingsOutput,
} from "./pairing.types.js";

/** How often a waiting `onUpdate` reads its pairing: the row is the truth on every instance. */
const POLL_MS = 200;
/** Pairings started by one user that may be open at once. */
const MAX_OPEN_PAIRINGS = 3;

type Output = typeof pairingOutput._zod.output;

function toOutput(p: PairingView): Output {
  return {
    pairingId: p.id,
    status: p.status,
    request: p.request as Output["request"],
    response: p.response as Output["response"],
    reveal: p.reveal as Output["reveal"],
    existingConfirmation: p.existingConfirmation as Output["existingConfirmation"],
    newConfirmation: p.newConfirmation as Output["newConfirmation"],
    abortReason: p.abortReason,
    expiresAt: p.expiresAt.toISOString(),
    createdAt: p.createdAt.toISOString(),
  };
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
 * The SAS pairing relay (crypto.md §5). Both devices are signed in as the same user; the server
 * passes public values between them, one step at a time, and stores nothing secret. It cannot
 * pair a device of its own: the commitment and the code the user compares stop a relay that
 * swaps keys, and the add_device link needs signatures by both devices.
 */
export const pairingRouter = router({
  /** Step 1, on the new device: its keys and the commitment to its ephemeral key. */
  init: authedProcedure
    .input(pairingInitInput)
    .output(pairingOutput)
    .mutation(async ({ ctx, input }) => {
      await checkPairingKey(input.signingKey, "signing", "signingKey");
      await checkPairingKey(input.kemKey, "kem", "kemKey");
      if (!(await readDeviceLogState(ctx.db, { userId: ctx.user.id })))
        throw new AppError("PRECONDITION_FAILED", "This account has no device yet to pair with: register this device with keys.register", {
          reason: "not_registered",
        });
      const pairing = await ctx.db.transaction((tx) =>
        createPairing(tx, {
          userId: ctx.user.id,
          sessionId: ctx.sessionId,
          request: input,
          ttlMs: ctx.config.keys.pairingTtlMs,
          maxOpen: MAX_OPEN_PAIRINGS,
          maxPerHour: ctx.config.keys.pairingsPerHour,
        }),
      );
      return toOutput(pairing);
    }),

  /** Requests from new devices waiting for one of my existing devices to answer. */
  pending: authedProcedure.output(pendingPairingsOutput).query(async ({ ctx }) => {
    const rows = await listPendingPairings(ctx.db, { userId: ctx.user.id });
    return {
      pairings: rows.map((p) => ({
        pairingId: p.id,
        deviceId: String(p.request.deviceId),
        name: String(p.request.name ?? ""),
        createdAt: p.createdAt.toISOString(),
        expiresAt: p.expiresAt.toISOString(),
      })),
    };
  }),

  /** Everything relayed so far in one of my pairings. */
  get: authedProcedure
    .input(pairingRefInput)
    .output(pairingOutput)
    .query(async ({ ctx, input }) => toOutput(await getPairing(ctx.db, { id: input.pairingId, userId: ctx.user.id }))),

  /** Step 2, on an existing (active) device: its id and ephemeral key. Only one device answers. */
  respond: authedProcedure
    .input(pairingRespondInput)
    .output(pairingOutput)
    .mutation(async ({ ctx, input }) => {
      await checkPairingKey(input.ephemeralKey, "kem", "ephemeralKey");
      const device = (await listDevices(ctx.db, { userId: ctx.user.id })).find((d) => d.id === input.deviceId);
      if (device?.kind !== "device" || device.status !== "active")
        throw new AppError(
          "FORBIDDEN",
          `Device ${input.deviceId} is not an active device of this account; only one may approve a new device`,
          {
            reason: "not_an_active_device",
          },
        );
      const pairing = await advancePairing(ctx.db, {
        id: input.pairingId,
        userId: ctx.user.id,
        sessionId: ctx.sessionId,
        from: "initiated",
        to: "responded",
        side: "existing",
        set: { response: { deviceId: input.deviceId, ephemeralKey: input.ephemeralKey } },
      });
      return toOutput(pairing);
    }),

  /** Step 3, on the new device: the ephemeral key it committed to. */
  reveal: authedProcedure
    .input(pairingRevealInput)
    .output(pairingOutput)
    .mutation(async ({ ctx, input }) => {
      await checkPairingKey(input.ephemeralKey, "kem", "ephemeralKey");
      const pairing = await advancePairing(ctx.db, {
        id: input.pairingId,
        userId: ctx.user.id,
        sessionId: ctx.sessionId,
        from: "responded",
        to: "revealed",
        side: "new",
        set: { reveal: { ephemeralKey: input.ephemeralKey } },
      });
      return toOutput(pairing);
    }),

  /**
   * Step 6. `existing`: the user typed the new device's code and it matched; the existing device's
   * MAC over the log head. `new`: the new device checked that MAC; its own MAC and its signature
   * over the add_device link. The existing device then appends the link with keys.addDevice.
   */
  confirm: authedProcedure
    .input(pairingConfirmInput)
    .output(pairingOutput)
    .mutation(async ({ ctx, input }) => {
      const common = { id: input.pairingId, userId: ctx.user.id, sessionId: ctx.sessionId };
      const pairing =
        input.side === "existing"
          ? await advancePairing(ctx.db, {
              ...common,
              from: "revealed",
              to: "approved",
              side: "existing",
              set: { existingConfirmation: { mac: input.mac, headSeq: input.headSeq } },
            })
          : await advancePairing(ctx.db, {
              ...common,
              from: "approved",
              to: "confirmed",
              side: "new",
              set: { newConfirmation: { mac: input.mac, reverseSignature: input.reverseSignature, createdAt: input.createdAt } },
            });
      return toOutput(pairing);
    }),

  /** Either side gives up (wrong code, bad MAC, cancelled); the other hears it through onUpdate. */
  abort: authedProcedure
    .input(pairingAbortInput)
    .output(pairingOutput)
    .mutation(async ({ ctx, input }) => {
      const { pairing } = await abortPairing(ctx.db, { id: input.pairingId, userId: ctx.user.id, reason: input.reason });
      return toOutput(pairing);
    }),

  /**
   * The pairing now and after every step, until it is completed or aborted (then the stream ends),
   * or expires (PRECONDITION_FAILED). It reads the row, so it works on every instance.
   */
  onUpdate: authedProcedure.input(pairingRefInput).subscription(async function* ({ ctx, input, signal }) {
    try {
      let last = "";
      while (!signal?.aborted) {
        const pairing = await getPairing(ctx.db, { id: input.pairingId, userId: ctx.user.id });
        const seen = `${pairing.status}`;
        if (seen !== last) {
          last = seen;
          yield toOutput(pairing);
        }
        if (pairing.status === "completed" || pairing.status === "aborted") return;
        if (pairing.expired)
          throw new AppError("PRECONDITION_FAILED", `Pairing ${pairing.id} expired; start a new one`, {
            pairingId: pairing.id,
            reason: "expired",
          });
        await sleep(POLL_MS, signal);
      }
    } catch (error) {
      // Thrown while iterating, past the middleware that maps domain errors (see handshake.ts).
      throw isAppError(error) ? toTRPCError(error) : error;
    }
  }),
});
