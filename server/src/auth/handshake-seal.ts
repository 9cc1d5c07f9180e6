import { Aes128Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";
import { AppError, type SealedSession } from "@osmynt/db";

/**
 * HPKE (RFC 9180) base mode, DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM: the editor's
 * ephemeral P-256 key receives the session, and only the editor's private key opens it. The SDK
 * builds the same suite and the same `info`, so a change here is a change there.
 */
const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

type HandshakeKey = Awaited<ReturnType<typeof suite.kem.deserializePublicKey>>;

const INFO_LABEL = "osmynt/v1/handshake-session";

/** `LP(x) = u16be(len(x)) ‖ x` for each part: an unambiguous encoding of the context. */
function lengthPrefixed(...parts: string[]): Uint8Array {
  const bytes = parts.map((p) => new TextEncoder().encode(p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + 2 + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out[at] = b.length >> 8;
    out[at + 1] = b.length & 0xff;
    out.set(b, at + 2);
    at += 2 + b.length;
  }
  return out;
}

/** The HPKE `info`: binds the sealed session to this handshake, so it cannot be replayed into another. */
export function handshakeInfo(handshakeId: string): Uint8Array {
  return lengthPrefixed(INFO_LABEL, handshakeId);
}

/**
 * Imports the editor's public key (an uncompressed P-256 point, base64url). Web Crypto rejects
 * points off the curve, so an invalid key is refused here, at init, not at the end of the flow.
 */
export async function importHandshakeKey(publicKey: string): Promise<HandshakeKey> {
  const raw = Buffer.from(publicKey, "base64url");
  if (raw.length !== 65 || raw[0] !== 0x04 || raw.toString("base64url") !== publicKey)
    throw new AppError("BAD_REQUEST", "publicKey must be an uncompressed P-256 point (65 bytes starting with 0x04), base64url");
  try {
    return await suite.kem.deserializePublicKey(raw);
  } catch {
    throw new AppError("BAD_REQUEST", "publicKey is not a point on the P-256 curve");
  }
}

/** Seals a session to the editor's key for one handshake. */
export async function sealSession(params: { publicKey: string; handshakeId: string; session: unknown }): Promise<SealedSession> {
  const recipientPublicKey = await importHandshakeKey(params.publicKey);
  const plaintext = new TextEncoder().encode(JSON.stringify(params.session));
  const { enc, ct } = await suite.seal({ recipientPublicKey, info: handshakeInfo(params.handshakeId) }, plaintext);
  return { enc: Buffer.from(enc).toString("base64url"), ciphertext: Buffer.from(ct).toString("base64url") };
}
