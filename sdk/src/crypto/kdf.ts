import { type Bytes, bytesOf } from "./bytes.js";

/** HKDF-SHA256 (RFC 5869), extract and expand, `length` bytes (at most 255 × 32). */
export async function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Bytes> {
  if (!Number.isInteger(length) || length < 0 || length > 255 * 32)
    throw new RangeError(`HKDF-SHA256 gives 0 to 8160 bytes, not ${length}`);
  if (length === 0) return new Uint8Array(0);
  const key = await globalThis.crypto.subtle.importKey("raw", bytesOf(ikm), "HKDF", false, ["deriveBits"]);
  const bits = await globalThis.crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: bytesOf(salt), info: bytesOf(info) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

export async function hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Bytes> {
  const hmacKey = await globalThis.crypto.subtle.importKey("raw", bytesOf(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", hmacKey, bytesOf(message)));
}
