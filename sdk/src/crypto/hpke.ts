import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";
import { type Bytes, bytesOf } from "./bytes.js";

/**
 * HPKE (RFC 9180) base mode, single-shot, behind one small interface so the library
 * (@hpke/core, Web Crypto only) can be swapped (panva's `hpke` is the drop-in alternative) and
 * so the SDK and the server run the same code. Two suites, both DHKEM(P-256, HKDF-SHA256) /
 * HKDF-SHA256:
 *   - `shareHpke`, AES-256-GCM (0x0010/0x0001/0x0002): wraps share keys (SNIP1-P256, crypto.md §8);
 *   - `handshakeHpke`, AES-128-GCM (0x0010/0x0001/0x0001): seals a browser sign-in's session to
 *     the editor. It predates SNIP1 and matches RFC 9180 A.3.1 exactly; a session token is short
 *     lived, and both sides would have to change together, so it keeps its documented suite.
 * All context goes into `info` (RFC 9180 §8.1 for single-shot use).
 */
export interface HpkeSuite {
  readonly name: string;
  readonly ids: { kem: number; kdf: number; aead: number };
  seal(params: {
    recipientPublicKey: CryptoKey;
    info: Uint8Array;
    plaintext: Uint8Array;
    aad?: Uint8Array;
    /**
     * Known-answer tests only: the ephemeral key material (RFC 9180 `ikmE`) that makes
     * encapsulation deterministic. Never set it in the product: HPKE's secrecy rests on a fresh
     * random ephemeral key per seal.
     */
    testOnlyIkmE?: Uint8Array;
  }): Promise<{ enc: Bytes; ciphertext: Bytes }>;
  /** Throws when the key, `enc`, `info`, `aad` or ciphertext are not what was sealed. */
  open(params: {
    recipientKey: CryptoKeyPair;
    enc: Uint8Array;
    ciphertext: Uint8Array;
    info: Uint8Array;
    aad?: Uint8Array;
  }): Promise<Bytes>;
  /** RFC 9180 DeriveKeyPair (deterministic, from ≥32 bytes of key material). */
  deriveKeyPair(ikm: Uint8Array): Promise<CryptoKeyPair>;
}

function hpkeSuite(name: string, aead: Aes128Gcm | Aes256Gcm): HpkeSuite {
  const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead });
  return {
    name,
    ids: { kem: suite.kem.id, kdf: suite.kdf.id, aead: suite.aead.id },
    async seal({ recipientPublicKey, info, plaintext, aad, testOnlyIkmE }) {
      const sender = await suite.createSenderContext({
        recipientPublicKey,
        info: bytesOf(info),
        ...(testOnlyIkmE ? { ekm: bytesOf(testOnlyIkmE) } : {}),
      });
      const ciphertext = await sender.seal(bytesOf(plaintext), aad ? bytesOf(aad) : new Uint8Array(0));
      return { enc: bytesOf(sender.enc), ciphertext: bytesOf(ciphertext) };
    },
    async open({ recipientKey, enc, ciphertext, info, aad }) {
      const plaintext = await suite.open(
        { recipientKey, enc: bytesOf(enc), info: bytesOf(info) },
        bytesOf(ciphertext),
        aad ? bytesOf(aad) : new Uint8Array(0),
      );
      return bytesOf(plaintext);
    },
    deriveKeyPair: (ikm) => suite.kem.deriveKeyPair(bytesOf(ikm)),
  };
}

export const shareHpke: HpkeSuite = hpkeSuite("DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM", new Aes256Gcm());
export const handshakeHpke: HpkeSuite = hpkeSuite("DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM", new Aes128Gcm());
