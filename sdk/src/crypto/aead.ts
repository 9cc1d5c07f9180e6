import { type Bytes, bytesOf } from "./bytes.js";
import { CryptoError } from "./errors.js";

/**
 * AES-GCM with a 96-bit nonce and a 128-bit tag (ciphertext ‖ tag), the only form used here:
 * Web Crypto in Node rejects other nonce lengths (crypto.md §7), and 12 random bytes per fresh
 * key is what SNIP1 specifies. Share content uses 32-byte keys (AES-256-GCM).
 */
export const AES_GCM_NONCE_LENGTH = 12;
export const AES_GCM_TAG_LENGTH = 16;

async function aesKey(key: Uint8Array | CryptoKey, usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  if (key instanceof Uint8Array) {
    if (![16, 24, 32].includes(key.length)) throw new CryptoError("bad_key_length", `an AES key is 16, 24 or 32 bytes, not ${key.length}`);
    return globalThis.crypto.subtle.importKey("raw", bytesOf(key), "AES-GCM", false, [usage]);
  }
  return key;
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== AES_GCM_NONCE_LENGTH) throw new CryptoError("bad_nonce", `an AES-GCM nonce is 12 bytes, not ${nonce.length}`);
}

export async function aesGcmEncrypt(
  key: Uint8Array | CryptoKey,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  checkNonce(nonce);
  const params = { name: "AES-GCM", iv: bytesOf(nonce), additionalData: bytesOf(aad), tagLength: 128 };
  return new Uint8Array(await globalThis.crypto.subtle.encrypt(params, await aesKey(key, "encrypt"), bytesOf(plaintext)));
}

/** Throws CryptoError `decrypt_failed` for any change to the key, nonce, AAD, ciphertext or tag. */
export async function aesGcmDecrypt(
  key: Uint8Array | CryptoKey,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  checkNonce(nonce);
  const params = { name: "AES-GCM", iv: bytesOf(nonce), additionalData: bytesOf(aad), tagLength: 128 };
  const cryptoKey = await aesKey(key, "decrypt");
  try {
    return new Uint8Array(await globalThis.crypto.subtle.decrypt(params, cryptoKey, bytesOf(ciphertext)));
  } catch (error) {
    throw new CryptoError("decrypt_failed", "the ciphertext does not decrypt: it, its nonce, its key or its context was changed", {
      cause: error,
    });
  }
}
