import { AppError } from "@osmynt/db";
import { importPublicKey, KeyError, type PublicKeyUse } from "@osmynt/sdk/crypto";

/**
 * Checks a public key a pairing message carries (an uncompressed P-256 point on the curve) before
 * the relay passes it on, so the other side hears a clear refusal instead of a key it cannot use.
 */
export async function checkPairingKey(key: string, use: PublicKeyUse, field: string): Promise<void> {
  try {
    await importPublicKey(key, use, field);
  } catch (error) {
    if (error instanceof KeyError) throw new AppError("BAD_REQUEST", error.message, { reason: error.reason, field });
    throw error;
  }
}
