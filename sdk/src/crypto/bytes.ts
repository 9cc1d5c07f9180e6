/**
 * Byte helpers and the canonical encoding of everything signed or bound (crypto.md §3):
 * `LP(x) = u16be(len(x)) ‖ x`, integers as u64be, fields in a fixed order. Signing exact bytes,
 * never `JSON.stringify`, is what makes a signature mean the same thing on every platform.
 */

/** The byte arrays Web Crypto takes: backed by a plain ArrayBuffer. */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();

export function utf8(text: string): Bytes {
  return encoder.encode(text) as Bytes;
}

export function concatBytes(...parts: Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A copy backed by its own ArrayBuffer (what Web Crypto's types ask for). */
export function bytesOf(data: Uint8Array | ArrayBuffer): Bytes {
  return new Uint8Array(data instanceof ArrayBuffer ? data.slice(0) : data) as Bytes;
}

/** `u16be(len(x)) ‖ x`; a string is encoded as UTF-8. Longer than 65535 bytes is a programming error. */
export function lp(part: string | Uint8Array): Bytes {
  const bytes = typeof part === "string" ? utf8(part) : part;
  if (bytes.length > 0xffff) throw new RangeError(`a length-prefixed field holds at most 65535 bytes, not ${bytes.length}`);
  const out = new Uint8Array(2 + bytes.length);
  out[0] = bytes.length >> 8;
  out[1] = bytes.length & 0xff;
  out.set(bytes, 2);
  return out;
}

/** `u64be(n)` for a non-negative safe integer. */
export function u64(n: number): Bytes {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64 takes a non-negative safe integer, not ${n}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** Each part length-prefixed, then concatenated: `LP(a) ‖ LP(b) ‖ …`. */
export function lengthPrefixed(...parts: (string | Uint8Array)[]): Bytes {
  return concatBytes(...parts.map(lp));
}

/** Constant-time in the length of the inputs: for comparing MACs, hashes and commitments. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function randomBytes(length: number): Bytes {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

export async function sha256(...parts: Uint8Array[]): Promise<Bytes> {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", concatBytes(...parts)));
}
