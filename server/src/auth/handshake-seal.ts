import { AppError, type SealedSession } from "@osmynt/db";
import { importPublicKey, KeyError, sealHandshake } from "@osmynt/sdk/crypto";

/**
 * The browser sign-in's hand-off, sealed with the SDK's crypto core (`@osmynt/sdk/crypto`,
 * HPKE base mode DHKEM(P-256) / HKDF-SHA256 / AES-128-GCM, bound to the handshake id): the SDK
 * opens it with the same code, so the two sides cannot drift apart.
 */

function badKey(error: unknown): never {
  if (error instanceof KeyError) throw new AppError("BAD_REQUEST", error.message);
  throw error;
}

/**
 * Checks the editor's public key (an uncompressed P-256 point, base64url) at init, so an invalid
 * key is refused there, not at the end of the flow.
 */
export async function importHandshakeKey(publicKey: string): Promise<void> {
  await importPublicKey(publicKey, "kem", "publicKey").catch(badKey);
}

/** Seals a session to the editor's key for one handshake. */
export function sealSession(params: { publicKey: string; handshakeId: string; session: unknown }): Promise<SealedSession> {
  const plaintext = new TextEncoder().encode(JSON.stringify(params.session));
  return sealHandshake({ publicKey: params.publicKey, handshakeId: params.handshakeId, plaintext }).catch(badKey);
}
