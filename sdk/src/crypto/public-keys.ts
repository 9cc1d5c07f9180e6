import { type Bytes, bytesOf, concatBytes, lp, sha256 } from "./bytes.js";
import { fromBase64url, toBase64url } from "./encoding.js";
import { KeyError } from "./errors.js";

/**
 * P-256 public keys travel as uncompressed points (65 bytes, 0x04 ‖ x ‖ y), base64url. Every key
 * from the outside goes through `parsePublicKey` first: it names what is wrong (another curve, a
 * compressed or DER-wrapped point, a point off the curve) instead of failing later inside a
 * signature check or a seal.
 */
export const P256_POINT_LENGTH = 65;

const otherCurves: Record<number, string> = {
  32: "a 32-byte key (X25519 or Ed25519), not P-256",
  57: "a 57-byte key (X448 or Ed448), not P-256",
  97: "an uncompressed P-384 point, not P-256",
  133: "an uncompressed P-521 point, not P-256",
  49: "a compressed P-384 point, not P-256",
  67: "a compressed P-521 point, not P-256",
};

/** A JWK public key (`{ kty: "EC", crv: "P-256", x, y }`) as the raw point, refusing other curves by name. */
function jwkPoint(jwk: JsonWebKey, what: string): Bytes {
  if (jwk.kty !== "EC") throw new KeyError("wrong_key_type", `${what} is a ${String(jwk.kty)} JWK, not an EC key`);
  if (jwk.crv !== "P-256") throw new KeyError("wrong_curve", `${what} is on curve ${String(jwk.crv)}, not P-256`);
  let x: Bytes;
  let y: Bytes;
  try {
    x = fromBase64url(jwk.x ?? "");
    y = fromBase64url(jwk.y ?? "");
  } catch {
    throw new KeyError("malformed_key", `${what}: the JWK's x and y are not base64url`);
  }
  if (x.length !== 32 || y.length !== 32) throw new KeyError("malformed_key", `${what}: a P-256 JWK has 32-byte x and y`);
  return concatBytes(new Uint8Array([4]), x, y);
}

export type PublicKeyInput = string | Uint8Array | JsonWebKey;

function rawPoint(key: PublicKeyInput, what: string): Bytes {
  let raw: Bytes;
  if (typeof key === "object" && !(key instanceof Uint8Array)) raw = jwkPoint(key, what);
  else if (typeof key === "string") {
    try {
      raw = fromBase64url(key);
    } catch {
      throw new KeyError("malformed_key", `${what} is not base64url`);
    }
  } else raw = bytesOf(key);
  const other = otherCurves[raw.length];
  if (other) throw new KeyError("wrong_curve", `${what} is ${other}`);
  if (raw.length === 33 && (raw[0] === 2 || raw[0] === 3))
    throw new KeyError(
      "malformed_key",
      `${what} is a compressed point; it must be an uncompressed P-256 point (65 bytes starting with 0x04)`,
    );
  if (raw.length === 91 && raw[0] === 0x30) throw new KeyError("malformed_key", `${what} is DER (SPKI): send the raw 65-byte point`);
  if (raw.length !== P256_POINT_LENGTH || raw[0] !== 0x04)
    throw new KeyError(
      "malformed_key",
      `${what} must be an uncompressed P-256 point (65 bytes starting with 0x04), not ${raw.length} bytes`,
    );
  return raw;
}

export type PublicKeyUse = "signing" | "kem";

/**
 * Validates and imports a P-256 public key (raw point as base64url or bytes, or a JWK): for
 * `signing` an ECDSA verify key, for `kem` an ECDH key (HPKE's recipient key). Web Crypto refuses
 * points that are not on the curve.
 */
export async function importPublicKey(key: PublicKeyInput, use: PublicKeyUse, what = `the ${use} key`): Promise<CryptoKey> {
  const raw = rawPoint(key, what);
  const algorithm = use === "signing" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "ECDH", namedCurve: "P-256" };
  try {
    return await globalThis.crypto.subtle.importKey("raw", raw, algorithm, true, use === "signing" ? ["verify"] : []);
  } catch (error) {
    throw new KeyError("not_on_curve", `${what} is not a point on the P-256 curve`, { cause: error });
  }
}

/** The validated raw bytes of a public key, without importing it. */
export async function parsePublicKey(key: PublicKeyInput, what = "the key"): Promise<Bytes> {
  const raw = rawPoint(key, what);
  await importPublicKey(raw, "kem", what);
  return raw;
}

export async function exportPublicKey(key: CryptoKey): Promise<string> {
  return toBase64url(new Uint8Array(await globalThis.crypto.subtle.exportKey("raw", key)));
}

/**
 * The id of a KEM (HPKE recipient) key, `base64url(SHA-256(LP("snip/v1/kem-key-id") ‖ raw)[0..16])`:
 * derived, never chosen, so a manifest that names a key id names exactly one key.
 */
export async function kemKeyId(kemPublicKey: string): Promise<string> {
  const raw = rawPoint(kemPublicKey, "the kem key");
  const digest = await sha256(lp("snip/v1/kem-key-id"), raw);
  return toBase64url(digest.slice(0, 16));
}
