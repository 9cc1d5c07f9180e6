import { AppError, getPairing, type Transaction } from "@osmynt/db";
import type { DeviceLink } from "@osmynt/sdk/crypto";

/**
 * An add_device that completes a pairing must add the very device that was paired: the id and the
 * two public keys the new device committed to at `keys.pairing.init`, and the pairing must have
 * reached `confirmed` (both sides checked the code and each other's MAC) and not expired.
 */
export async function checkPairedDevice(tx: Transaction, params: { userId: string; pairingId: string; link: DeviceLink }): Promise<void> {
  const pairing = await getPairing(tx, { id: params.pairingId, userId: params.userId });
  if (pairing.status !== "confirmed")
    throw new AppError(
      "PRECONDITION_FAILED",
      `Pairing ${pairing.id} is ${pairing.status}: both devices must confirm before the device is added`,
      {
        pairingId: pairing.id,
        status: pairing.status,
        reason: "wrong_step",
      },
    );
  if (pairing.expired)
    throw new AppError("PRECONDITION_FAILED", `Pairing ${pairing.id} expired; start a new one`, {
      pairingId: pairing.id,
      reason: "expired",
    });
  const { request } = pairing;
  const mismatch = (["deviceId", "signingKey", "kemKey"] as const).filter((field) => request[field] !== params.link[field]);
  if (params.link.type !== "add_device" || mismatch.length > 0)
    throw new AppError(
      "BAD_REQUEST",
      `The link does not add the device paired in ${pairing.id} (${mismatch.join(", ") || "not an add_device link"} differs)`,
      { pairingId: pairing.id, reason: "not_the_paired_device" },
    );
}
