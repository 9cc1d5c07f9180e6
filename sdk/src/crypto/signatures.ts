import { type Bytes, concatBytes, lp } from "./bytes.js";
import { fromBase64url, toBase64url } from "./encoding.js";

/**
 * ECDSA P-256 / SHA-256 signatures in Web Crypto's IEEE-P1363 form (64 bytes r ‖ s) over
 * `LP(label) ‖ message`: the label separates domains, so a signature made for one purpose
 * (a device-log link, a manifest, a reverse signature) never verifies for another.
 * ECDSA signatures are malleable (s ↔ n−s): never use signature bytes as identifiers.
 */
const ECDSA = { name: "ECDSA", hash: "SHA-256" } as const;
export const SIGNATURE_LENGTH = 64;

export async function sign(privateKey: CryptoKey, label: string, message: Uint8Array): Promise<string> {
  const signature = await globalThis.crypto.subtle.sign(ECDSA, privateKey, concatBytes(lp(label), message));
  return toBase64url(new Uint8Array(signature));
}

/** False for a wrong signature, a malformed one, or a signature made under another label. */
export async function verify(publicKey: CryptoKey, label: string, message: Uint8Array, signature: string | Uint8Array): Promise<boolean> {
  let raw: Bytes;
  try {
    raw = typeof signature === "string" ? fromBase64url(signature) : (new Uint8Array(signature) as Bytes);
  } catch {
    return false;
  }
  if (raw.length !== SIGNATURE_LENGTH) return false;
  return verifyRaw(publicKey, concatBytes(lp(label), message), raw);
}

/** Plain ECDSA P-256/SHA-256 P1363 verification of exact bytes (what the Wycheproof vectors test). */
export async function verifyRaw(publicKey: CryptoKey, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  try {
    return await globalThis.crypto.subtle.verify(ECDSA, publicKey, new Uint8Array(signature) as Bytes, new Uint8Array(message) as Bytes);
  } catch {
    return false;
  }
}
