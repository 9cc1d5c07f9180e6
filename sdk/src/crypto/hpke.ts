import { Aes128Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";

/**
 * The HPKE (RFC 9180) suite the server seals sign-in sessions with: base mode,
 * DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM (0x0010 / 0x0001 / 0x0001). Everything
 * runs on Web Crypto, so the same code works in Node, browsers and VS Code's extension host.
 * It is pinned by the RFC 9180 A.3.1 test vector in the test suite.
 */
export const handshakeSuite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

export type Bytes = Uint8Array<ArrayBuffer> | ArrayBuffer;

/** Single-shot HPKE open (seq 0). Throws when the key, `info` or `aad` do not match what was sealed. */
export async function hpkeOpen(params: {
  recipientKey: CryptoKey | CryptoKeyPair;
  enc: Bytes;
  ciphertext: Bytes;
  info: Bytes;
  aad?: Bytes;
}): Promise<Uint8Array> {
  const plaintext = await handshakeSuite.open(
    { recipientKey: params.recipientKey, enc: params.enc, info: params.info },
    params.ciphertext,
    params.aad ?? new Uint8Array(0),
  );
  return new Uint8Array(plaintext);
}
