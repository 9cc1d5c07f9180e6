import { concatBytes, lp, randomBytes, sha256 } from "./bytes.js";
import { type DeviceKeys, importPrivateKey } from "./device-keys.js";
import { type DeviceLogState, findDevice } from "./device-log/state.js";
import { toBase64url } from "./encoding.js";
import { RecoveryError } from "./errors.js";
import { shareHpke } from "./hpke.js";
import { hkdfSha256 } from "./kdf.js";
import { exportPublicKey } from "./public-keys.js";

/**
 * The recovery key (crypto.md §4.2, §8): a special device (kind `recovery`, a signing key and no
 * KEM key) derived deterministically from a code shown once, so a user who lost every device can
 * recreate it offline and add a new device to the same identity (same fingerprint).
 *
 * The code: 144 random bits + a 16-bit checksum, in Crockford base32 (no I, L, O, U; case and
 * separators ignored), shown as 8 groups of 4 characters. 144 bits leave an offline guess of the
 * code (whose public key is in the device log) hopeless. The key: RFC 9180 DeriveKeyPair (the
 * HPKE library's, rejection-sampled) from `HKDF-SHA256(code bits, "snip/v1/recovery-key")`, used
 * as an ECDSA P-256 key; the device id is derived from its public key.
 */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const SECRET_BYTES = 18;
const CHECK_LABEL = "snip/v1/recovery-check";
const KEY_LABEL = "snip/v1/recovery-key";
const ID_LABEL = "snip/v1/recovery-id";

function encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(value >> bits) & 31];
    }
  }
  return out;
}

function decode(text: string): Uint8Array {
  const normalized = text.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  if (!/^[0-9A-HJKMNP-TV-Z]{32}$/.test(normalized))
    throw new RecoveryError("malformed_code", "a recovery code is 32 characters (digits and letters except I, L, O, U), in groups of 4");
  const out = new Uint8Array(20);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const c of normalized) {
    value = ((value << 5) | CROCKFORD.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

async function checksum(secret: Uint8Array): Promise<Uint8Array> {
  return (await sha256(lp(CHECK_LABEL), secret)).slice(0, 2);
}

/** The recovery keys a code stands for. Throws RecoveryError for a malformed or mistyped code. */
export async function deriveRecoveryKeys(code: string): Promise<DeviceKeys> {
  const bytes = decode(code);
  const secret = bytes.slice(0, SECRET_BYTES);
  const check = await checksum(secret);
  if (check[0] !== bytes[SECRET_BYTES] || check[1] !== bytes[SECRET_BYTES + 1])
    throw new RecoveryError("code_typo", "the recovery code does not check out: a character is mistyped");
  const ikm = await hkdfSha256(secret, new Uint8Array(0), concatBytes(lp(KEY_LABEL)), 32);
  const derived = await shareHpke.deriveKeyPair(ikm);
  const jwk = await globalThis.crypto.subtle.exportKey("jwk", derived.privateKey);
  const signing = await importPrivateKey({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }, "signing");
  const signingPublicKey = await exportPublicKey(signing.publicKey);
  const id = (await sha256(lp(ID_LABEL), lp(signingPublicKey))).slice(0, 15);
  return { deviceId: `rec_${toBase64url(id)}`, kind: "recovery", signing, kem: null, signingPublicKey, kemPublicKey: null };
}

/** A new recovery code (show it once, never store or send it) and its keys (for the add_recovery link). */
export async function generateRecoveryCode(): Promise<{ code: string; keys: DeviceKeys }> {
  const secret = randomBytes(SECRET_BYTES);
  const text = encode(concatBytes(secret, await checksum(secret)));
  const code = text.match(/.{4}/g)?.join("-") ?? text;
  return { code, keys: await deriveRecoveryKeys(code) };
}

/** Refuses recovery keys that are not this account's active recovery key. */
export function assertRecoveryKeyOf(state: DeviceLogState, keys: DeviceKeys): void {
  const record = findDevice(state, keys.deviceId);
  if (record?.kind !== "recovery" || record.status !== "active" || record.signingKey !== keys.signingPublicKey)
    throw new RecoveryError("not_this_account", `this recovery code is not the active recovery key of ${state.userId}`);
}
