import { randomBytes } from "./bytes.js";
import { fromBase64url, toBase64url } from "./encoding.js";
import { CryptoError, KeyError } from "./errors.js";
import type { KeyStore } from "./key-store.js";
import { exportPublicKey } from "./public-keys.js";

/**
 * A device's key pairs (crypto.md §8): DSK, an ECDSA P-256 key that signs device-log links,
 * manifests and forward records; DEK, a P-256 key that only receives HPKE-wrapped share keys.
 * A recovery key is a device of kind `recovery` with a DSK and no DEK (it never receives shares).
 * Private keys are non-extractable: once made, not even this SDK can read them back.
 */
export interface DeviceKeys {
  deviceId: string;
  kind: "device" | "recovery";
  signing: CryptoKeyPair;
  /** null for a recovery key. */
  kem: CryptoKeyPair | null;
  /** base64url raw P-256 points: what goes into device-log links. */
  signingPublicKey: string;
  kemPublicKey: string | null;
}

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const ECDH_P256 = { name: "ECDH", namedCurve: "P-256" } as const;

/** `dev_` + 120 random bits: the same shape as the server's ids, chosen on the device because it is signed. */
export function newDeviceId(): string {
  return `dev_${toBase64url(randomBytes(15))}`;
}

/**
 * New device keys that exist only in this process (nothing can export them). Use
 * `createDeviceKeys` to keep them across restarts.
 */
export async function generateDeviceKeys(options: { deviceId?: string } = {}): Promise<DeviceKeys> {
  const signing = (await globalThis.crypto.subtle.generateKey(ECDSA_P256, false, ["sign", "verify"])) as CryptoKeyPair;
  const kem = (await globalThis.crypto.subtle.generateKey(ECDH_P256, false, ["deriveBits"])) as CryptoKeyPair;
  return {
    deviceId: options.deviceId ?? newDeviceId(),
    kind: "device",
    signing,
    kem,
    signingPublicKey: await exportPublicKey(signing.publicKey),
    kemPublicKey: await exportPublicKey(kem.publicKey),
  };
}

/** What a key store holds for a device: PKCS#8 private keys, base64url. Never sent anywhere. */
interface StoredDeviceKeys {
  v: 1;
  deviceId: string;
  kind: "device" | "recovery";
  signing: string;
  kem: string | null;
}

export const DEFAULT_DEVICE_KEY_NAME = "osmynt.device";

async function exportable(algorithm: typeof ECDSA_P256 | typeof ECDH_P256): Promise<CryptoKeyPair> {
  const usages: KeyUsage[] = algorithm.name === "ECDSA" ? ["sign", "verify"] : ["deriveBits"];
  return (await globalThis.crypto.subtle.generateKey(algorithm, true, usages)) as CryptoKeyPair;
}

async function pkcs8(key: CryptoKey): Promise<string> {
  return toBase64url(new Uint8Array(await globalThis.crypto.subtle.exportKey("pkcs8", key)));
}

/**
 * Imports a PKCS#8 P-256 private key as non-extractable, with its public half (Web Crypto gives
 * no way to derive a public key from a non-extractable private one, and HPKE needs both).
 */
export async function importPrivateKey(pkcs8Key: string | Uint8Array | JsonWebKey, use: "signing" | "kem"): Promise<CryptoKeyPair> {
  const algorithm = use === "signing" ? ECDSA_P256 : ECDH_P256;
  if (typeof pkcs8Key === "object" && !(pkcs8Key instanceof Uint8Array)) return importPrivateJwk(pkcs8Key, use);
  let der: Uint8Array<ArrayBuffer>;
  try {
    der = typeof pkcs8Key === "string" ? fromBase64url(pkcs8Key) : (new Uint8Array(pkcs8Key) as Uint8Array<ArrayBuffer>);
  } catch {
    throw new KeyError("malformed_key", `the ${use} private key is not base64url`);
  }
  let extractable: CryptoKey;
  try {
    extractable = await globalThis.crypto.subtle.importKey("pkcs8", der, algorithm, true, use === "signing" ? ["sign"] : ["deriveBits"]);
  } catch (error) {
    throw new KeyError("malformed_key", `the ${use} private key is not a PKCS#8 P-256 key`, { cause: error });
  }
  // The public half, from the private key's JWK (x, y) without keeping `d` anywhere else.
  const { kty, crv, x, y } = await globalThis.crypto.subtle.exportKey("jwk", extractable);
  const publicKey = await globalThis.crypto.subtle.importKey(
    "jwk",
    { kty, crv, x, y, ext: true },
    algorithm,
    true,
    use === "signing" ? ["verify"] : [],
  );
  const privateKey = await globalThis.crypto.subtle.importKey(
    "pkcs8",
    der,
    algorithm,
    false,
    use === "signing" ? ["sign"] : ["deriveBits"],
  );
  return { publicKey, privateKey };
}

/** A JWK private key (`{ kty: "EC", crv: "P-256", d, x, y }`), refusing other curves by name. */
async function importPrivateJwk(jwk: JsonWebKey, use: "signing" | "kem"): Promise<CryptoKeyPair> {
  if (jwk.kty !== "EC") throw new KeyError("wrong_key_type", `the ${use} private key is a ${String(jwk.kty)} JWK, not an EC key`);
  if (jwk.crv !== "P-256") throw new KeyError("wrong_curve", `the ${use} private key is on curve ${String(jwk.crv)}, not P-256`);
  const algorithm = use === "signing" ? ECDSA_P256 : ECDH_P256;
  const { kty, crv, x, y } = jwk;
  try {
    const privateKey = await globalThis.crypto.subtle.importKey(
      "jwk",
      { kty, crv, x, y, d: jwk.d },
      algorithm,
      false,
      use === "signing" ? ["sign"] : ["deriveBits"],
    );
    const publicKey = await globalThis.crypto.subtle.importKey(
      "jwk",
      { kty, crv, x, y },
      algorithm,
      true,
      use === "signing" ? ["verify"] : [],
    );
    return { privateKey, publicKey };
  } catch (error) {
    throw new KeyError("malformed_key", `the ${use} private key is not a valid P-256 JWK`, { cause: error });
  }
}

/** Device keys from what a key store held. */
async function fromStored(stored: StoredDeviceKeys): Promise<DeviceKeys> {
  const signing = await importPrivateKey(stored.signing, "signing");
  const kem = stored.kem === null ? null : await importPrivateKey(stored.kem, "kem");
  return {
    deviceId: stored.deviceId,
    kind: stored.kind,
    signing,
    kem,
    signingPublicKey: await exportPublicKey(signing.publicKey),
    kemPublicKey: kem ? await exportPublicKey(kem.publicKey) : null,
  };
}

/**
 * New device keys kept in `store` under `name`: the private keys are exported once, into the
 * store, and the keys returned are non-extractable.
 */
export async function createDeviceKeys(store: KeyStore, options: { deviceId?: string; name?: string } = {}): Promise<DeviceKeys> {
  const signing = await exportable(ECDSA_P256);
  const kem = await exportable(ECDH_P256);
  const stored: StoredDeviceKeys = {
    v: 1,
    deviceId: options.deviceId ?? newDeviceId(),
    kind: "device",
    signing: await pkcs8(signing.privateKey),
    kem: await pkcs8(kem.privateKey),
  };
  await store.set(options.name ?? DEFAULT_DEVICE_KEY_NAME, JSON.stringify(stored));
  return fromStored(stored);
}

/** Stores already-exported keys (a recovery key, a rotated KEM key) under `name`. */
export async function storeDeviceKeys(
  store: KeyStore,
  keys: { deviceId: string; kind: "device" | "recovery"; signingPkcs8: string; kemPkcs8: string | null },
  name = DEFAULT_DEVICE_KEY_NAME,
): Promise<DeviceKeys> {
  const stored: StoredDeviceKeys = { v: 1, deviceId: keys.deviceId, kind: keys.kind, signing: keys.signingPkcs8, kem: keys.kemPkcs8 };
  const loaded = await fromStored(stored);
  await store.set(name, JSON.stringify(stored));
  return loaded;
}

/** The device keys kept under `name`, or null when there are none. A corrupt entry is an error, not "no keys". */
export async function loadDeviceKeys(store: KeyStore, name = DEFAULT_DEVICE_KEY_NAME): Promise<DeviceKeys | null> {
  const text = await store.get(name);
  if (text === undefined) return null;
  let stored: StoredDeviceKeys;
  try {
    stored = JSON.parse(text) as StoredDeviceKeys;
  } catch (error) {
    throw new CryptoError("corrupt_key_store", `the key store entry ${name} is not JSON`, { cause: error });
  }
  if (
    stored?.v !== 1 ||
    typeof stored.deviceId !== "string" ||
    (stored.kind !== "device" && stored.kind !== "recovery") ||
    typeof stored.signing !== "string" ||
    (stored.kem !== null && typeof stored.kem !== "string")
  )
    throw new CryptoError("corrupt_key_store", `the key store entry ${name} does not hold device keys`);
  return fromStored(stored);
}

/**
 * A new KEM key for `rotate_kem`: returns the non-extractable pair and its PKCS#8 form, to be
 * written to the key store once the rotation link is accepted.
 */
export async function generateKemKey(): Promise<{ kem: CryptoKeyPair; kemPublicKey: string; kemPkcs8: string }> {
  const pair = await exportable(ECDH_P256);
  const kemPkcs8 = await pkcs8(pair.privateKey);
  const kem = await importPrivateKey(kemPkcs8, "kem");
  return { kem, kemPublicKey: await exportPublicKey(kem.publicKey), kemPkcs8 };
}

/** Replaces a stored device's KEM key (after its rotate_kem link is accepted). */
export async function replaceStoredKemKey(store: KeyStore, kemPkcs8: string, name = DEFAULT_DEVICE_KEY_NAME): Promise<DeviceKeys> {
  const text = await store.get(name);
  if (text === undefined) throw new CryptoError("corrupt_key_store", `the key store holds no device keys under ${name}`);
  const stored = JSON.parse(text) as StoredDeviceKeys;
  return storeDeviceKeys(store, { deviceId: stored.deviceId, kind: stored.kind, signingPkcs8: stored.signing, kemPkcs8 }, name);
}
