import { lengthPrefixed } from "./bytes.js";
import { hkdfSha256, hmacSha256 } from "./kdf.js";

/**
 * The browser sign-in's user code (like RFC 8628's device-flow code): what the editor shows and
 * the person types on the confirmation page before the server sends them on to GitHub. Twenty
 * consonants (RFC 8628 §6.1): no vowels, so no words; no 0/O or 1/I to confuse. Eight of them
 * are 20^8 ≈ 2^34.6 codes, against a handful of allowed attempts.
 */
export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH = 8;
const USER_CODE_LABEL = "osmynt/v1/user-code";

/** The server's key for user codes, derived from its own secret (so every instance derives the same). */
export function userCodeKey(serverSecret: Uint8Array): Promise<Uint8Array> {
  return hkdfSha256(serverSecret, new Uint8Array(0), new TextEncoder().encode(USER_CODE_LABEL), 32);
}

/**
 * The code of one handshake: HMAC-SHA256 under the server's key over `LP(label) ‖ LP(handshakeId)
 * ‖ LP(publicKey)`, so it is bound to the handshake and to the editor's key, and nobody who holds
 * only the link can compute it. Shown as `WDJB-MJHT`.
 */
export async function handshakeUserCode(key: Uint8Array, handshakeId: string, publicKey: string): Promise<string> {
  const mac = await hmacSha256(key, lengthPrefixed(USER_CODE_LABEL, handshakeId, publicKey));
  // 8 × 13 bits, each reduced mod 20: the bias of 8192 mod 20 is under 0.3 % per character.
  let bits = 0n;
  for (const byte of mac.slice(0, 13)) bits = (bits << 8n) | BigInt(byte);
  let code = "";
  for (let i = 0; i < USER_CODE_LENGTH; i++) {
    code += USER_CODE_ALPHABET[Number(bits & 0x1fffn) % USER_CODE_ALPHABET.length];
    bits >>= 13n;
  }
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What a person typed, as a code: case, spaces and dashes do not matter. */
export function normalizeUserCode(typed: string): string {
  const letters = typed.toUpperCase().replace(/[^A-Z]/g, "");
  return letters.length === USER_CODE_LENGTH ? `${letters.slice(0, 4)}-${letters.slice(4)}` : letters;
}
