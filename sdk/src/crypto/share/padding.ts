import type { Bytes } from "../bytes.js";
import { ShareError } from "../errors.js";

/**
 * AEAD hides content, not length (RFC 9180 §9.7.6): payloads are padded (`‖ 0x80 ‖ 0x00…`,
 * ISO/IEC 7816-4) to a bucket, at least 256 bytes and then steps of 1/8 of the power of two below
 * the size, so the ciphertext length says only roughly how big a share is (≤ 12.5% overhead).
 */
export function paddedLength(length: number): number {
  const needed = length + 1;
  if (needed <= 256) return 256;
  const step = 2 ** (Math.floor(Math.log2(needed)) - 3);
  return Math.ceil(needed / step) * step;
}

export function pad(payload: Uint8Array): Bytes {
  const out = new Uint8Array(paddedLength(payload.length));
  out.set(payload);
  out[payload.length] = 0x80;
  return out;
}

export function unpad(padded: Uint8Array): Bytes {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80) throw new ShareError("bad_padding", "the decrypted payload is not padded as a share");
  return padded.slice(0, end);
}
