import type { Bytes } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { importPublicKey } from "./public-keys.js";

/**
 * ECDH P-256: the 32-byte x-coordinate of the shared point. The peer's key goes through
 * `importPublicKey` (a KeyError names a wrong curve or an off-curve point); never use the result
 * as a key directly, derive one with HKDF.
 */
export async function ecdhP256(privateKey: CryptoKey, peerPublicKey: string | Uint8Array | CryptoKey): Promise<Bytes> {
  const publicKey = peerPublicKey instanceof CryptoKey ? peerPublicKey : await importPublicKey(peerPublicKey, "kem", "the peer's key");
  try {
    return new Uint8Array(await globalThis.crypto.subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256));
  } catch (error) {
    throw new CryptoError("ecdh_failed", "ECDH P-256 failed: the keys are not both P-256 ECDH keys", { cause: error });
  }
}
