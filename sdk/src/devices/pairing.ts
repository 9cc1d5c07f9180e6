import type { RouterProcedures } from "../app-router.js";
import {
  CryptoError,
  createDeviceKeys,
  createPairingOffer,
  DeviceLogError,
  existingDeviceMac,
  existingDeviceSession,
  findDevice,
  loadDeviceKeys,
  newDeviceMac,
  newDeviceSession,
  PairingError,
  type PairingSession,
  respondToPairingOffer,
  revealPairingKey,
  reverseSignLink,
  sameSasCode,
  signLink,
  unsignedLink,
  verifyExistingDeviceMac,
  verifyNewDeviceMac,
} from "../crypto/index.js";
import type { DeviceInternals } from "./devices.js";

type Pairing = RouterProcedures["keys.pairing.get"]["output"];
type Status = Pairing["status"];
type AbortReason = RouterProcedures["keys.pairing.abort"]["input"]["reason"];

/** The pairing ended without a device added: aborted by either side, expired, or timed out here. */
export class PairingAbortedError extends CryptoError<"aborted" | "expired" | "timeout"> {
  override readonly name = "PairingAbortedError";
}

export interface PairingWaitOptions {
  /** How often to read the pairing from the relay. Default 250 ms. */
  pollMs?: number;
  /** Give up (and abort the pairing) after this long. Default 5 minutes, the relay's own expiry. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const order: Status[] = ["initiated", "responded", "revealed", "approved", "confirmed", "completed"];

function sleep(ms: number, signal: AbortSignal | undefined) {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Both sides of SAS pairing (crypto.md §5) over the server's relay, which is read by polling
 * `keys.pairing.get` (plain HTTP, so it works wherever calls work). The relay is not trusted: the
 * commitment, the code the user compares and the two MACs catch a relay that changes a message,
 * and the device is added only by a link both devices signed.
 */
export function pairingFlows(internals: DeviceInternals) {
  const { client, store, keyName, myself, myActiveLog, trust, afterApprove } = internals;

  async function waitFor(pairingId: string, status: Status, options: PairingWaitOptions): Promise<Pairing> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    for (;;) {
      let pairing: Pairing;
      try {
        pairing = await client.keys.pairing.get.query({ pairingId });
      } catch (error) {
        if ((error as { data?: { details?: { reason?: string } } }).data?.details?.reason === "expired")
          throw new PairingAbortedError("expired", `Pairing ${pairingId} expired; start again`);
        throw error;
      }
      if (pairing.status === "aborted")
        throw new PairingAbortedError(
          "aborted",
          `Pairing ${pairingId} was aborted by the other device (${pairing.abortReason ?? "cancelled"})`,
        );
      if (order.indexOf(pairing.status) >= order.indexOf(status)) return pairing;
      if (new Date(pairing.expiresAt).getTime() <= Date.now())
        throw new PairingAbortedError("expired", `Pairing ${pairingId} expired; start again`);
      if (Date.now() > deadline || options.signal?.aborted) {
        await abort(pairingId, options.signal?.aborted ? "cancelled" : "timeout");
        throw new PairingAbortedError("timeout", `Pairing ${pairingId}: the other device did not answer in time`);
      }
      await sleep(options.pollMs ?? 250, options.signal);
    }
  }

  async function abort(pairingId: string, reason: AbortReason): Promise<void> {
    await client.keys.pairing.abort.mutate({ pairingId, reason }).catch(() => undefined);
  }

  /** Runs `step`; a PairingError (the relay changed something, or the code differs) aborts the pairing for both sides. */
  async function guarded<T>(pairingId: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof PairingError) {
        const reasons: Record<string, AbortReason> = {
          bad_mac: "mac_mismatch",
          code_mismatch: "code_mismatch",
          commitment_mismatch: "commitment_mismatch",
        };
        await abort(pairingId, reasons[error.reason] ?? "cancelled");
      } else if (error instanceof DeviceLogError) await abort(pairingId, "log_mismatch");
      throw error;
    }
  }

  return {
    /**
     * On the new device, signed in to the account: makes this device's keys (kept in the key
     * store), asks to be paired, and shows the 8-digit code (`showCode`) for the user to type on
     * one of their existing devices. `showCode` may return false when the user sees that the
     * other device shows a different result: that aborts. Resolves once the existing device has
     * added this one; this device then trusts the account's log (its fingerprint is pinned).
     */
    async pairNewDevice(
      params: { name?: string; showCode: (code: string) => unknown } & PairingWaitOptions,
    ): Promise<{ deviceId: string; fingerprint: string; pairingId: string }> {
      const user = await myself();
      const keys = (await loadDeviceKeys(store, keyName)) ?? (await createDeviceKeys(store, { name: keyName }));
      const own = await createPairingOffer({ userId: user.id, newDevice: keys });
      const { userId: _, ...offer } = own.offer;
      const name = params.name ?? "";
      const started = await client.keys.pairing.init.mutate({ ...offer, name });
      const pairingId = started.pairingId;
      return guarded(pairingId, async () => {
        const responded = await waitFor(pairingId, "responded", params);
        const session = await newDeviceSession(own, { transactionId: offer.transactionId, ...responded.response });
        await client.keys.pairing.reveal.mutate({ pairingId, ...revealPairingKey(own) });
        const [shown, approved] = await Promise.all([params.showCode(session.sas), waitFor(pairingId, "approved", params)]);
        if (shown === false) throw new PairingError("code_mismatch", "The codes on the two devices differ: pairing aborted");
        const confirmation = approved.existingConfirmation as NonNullable<Pairing["existingConfirmation"]>;

        // E vouches, under the MAC key only the two devices share, for the log up to headSeq.
        const mine = await client.keys.mine.query();
        const { state } = await trust(user.id, mine.links);
        const existing = findDevice(state, session.existingDeviceId);
        const headHash = state.hashes[confirmation.headSeq];
        if (existing?.status !== "active" || headHash === undefined)
          throw new DeviceLogError(
            "unknown_signer",
            `The approving device ${session.existingDeviceId} is not an active device of your log`,
            { userId: user.id },
          );
        const head = { seq: confirmation.headSeq, hash: headHash };
        await verifyExistingDeviceMac(
          session,
          { userId: user.id, rootHash: state.rootHash, head, signingKey: existing.signingKey },
          confirmation.mac,
        );

        const createdAt = Date.now();
        const body = unsignedLink(
          { userId: user.id, head },
          {
            type: "add_device",
            deviceId: keys.deviceId,
            signerDeviceId: existing.deviceId,
            signingKey: keys.signingPublicKey,
            kemKey: keys.kemPublicKey,
            name,
            createdAt,
          },
        );
        await client.keys.pairing.confirm.mutate({
          pairingId,
          side: "new",
          mac: await newDeviceMac(session),
          reverseSignature: await reverseSignLink(body, keys),
          createdAt,
        });
        await waitFor(pairingId, "completed", params);
        const after = await trust(user.id, (await client.keys.mine.query()).links);
        if (findDevice(after.state, keys.deviceId)?.status !== "active")
          throw new DeviceLogError("unknown_device", `Pairing ${pairingId} completed but this device is not in your log`, {
            userId: user.id,
          });
        return { deviceId: keys.deviceId, fingerprint: after.state.fingerprint, pairingId };
      });
    },

    /** Requests from new devices of this account waiting to be approved. */
    pendingPairings: () => client.keys.pairing.pending.query(),

    /**
     * On an existing device: answers a new device's request (`pairingId`, or the first one to
     * arrive), asks the user to type the code the new device shows (`enterCode`), and, when it
     * matches, adds the new device to the log with a link both devices signed. A wrong code, a
     * changed message or a bad MAC aborts the pairing for both sides.
     */
    async approveNewDevice(
      params: {
        pairingId?: string;
        enterCode: (request: { deviceId: string; name: string }) => string | Promise<string>;
      } & PairingWaitOptions,
    ): Promise<{ deviceId: string; pairingId: string; forwarded: number; backfillError?: unknown }> {
      const user = await myself();
      const { device } = await myActiveLog();
      const pairingId = params.pairingId ?? (await firstPending(params));
      const request = (await client.keys.pairing.get.query({ pairingId })).request;
      return guarded(pairingId, async () => {
        const { name, ...offer } = request;
        const mine = await respondToPairingOffer({ offer: { ...offer, userId: user.id }, existingDevice: device });
        await client.keys.pairing.respond.mutate({ pairingId, deviceId: mine.response.deviceId, ephemeralKey: mine.response.ephemeralKey });
        const revealed = await waitFor(pairingId, "revealed", params);
        const session: PairingSession = await existingDeviceSession(mine, { transactionId: offer.transactionId, ...revealed.reveal });
        const typed = await params.enterCode({ deviceId: offer.deviceId, name });
        if (!sameSasCode(typed, session))
          throw new PairingError("code_mismatch", "The code typed is not the one this device computed: pairing aborted");

        const { log } = await myActiveLog();
        const claim = { userId: user.id, rootHash: log.state.rootHash, head: log.state.head, signingKey: device.signingPublicKey };
        await client.keys.pairing.confirm.mutate({
          pairingId,
          side: "existing",
          mac: await existingDeviceMac(session, claim),
          headSeq: log.state.head.seq,
        });
        const confirmed = await waitFor(pairingId, "confirmed", params);
        const theirs = confirmed.newConfirmation as NonNullable<Pairing["newConfirmation"]>;
        await verifyNewDeviceMac(session, theirs.mac);
        const body = unsignedLink(log.state, {
          type: "add_device",
          deviceId: offer.deviceId,
          signerDeviceId: device.deviceId,
          signingKey: offer.signingKey,
          kemKey: offer.kemKey,
          name,
          createdAt: theirs.createdAt,
        });
        await client.keys.addDevice.mutate({ link: await signLink(body, device, theirs.reverseSignature), pairingId });
        return { deviceId: offer.deviceId, pairingId, ...(await runAfterApprove(offer.deviceId)) };
      });
    },
  };

  /**
   * The approving device forwards the shares it can read to the new one (the shares layer's
   * backfill, when one is attached). The device is added whatever happens here, so a failure is
   * reported with the result, not thrown: `backfill()` can be run again later.
   */
  async function runAfterApprove(deviceId: string): Promise<{ forwarded: number; backfillError?: unknown }> {
    let forwarded = 0;
    for (const hook of afterApprove.values()) {
      try {
        forwarded += await hook({ deviceId });
      } catch (error) {
        return { forwarded, backfillError: error };
      }
    }
    return { forwarded };
  }

  async function firstPending(options: PairingWaitOptions): Promise<string> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    for (;;) {
      const [first] = (await client.keys.pairing.pending.query()).pairings;
      if (first) return first.pairingId;
      if (Date.now() > deadline || options.signal?.aborted)
        throw new PairingAbortedError("timeout", "No new device asked to be paired in time");
      await sleep(options.pollMs ?? 250, options.signal);
    }
  }
}

export type PairingFlows = ReturnType<typeof pairingFlows>;
