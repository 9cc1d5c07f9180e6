import type { Session } from "../app-router.js";
import { fromBase64url, toBase64url } from "./encoding.js";
import { hpkeOpen } from "./hpke.js";

/** An editor's ephemeral key for one browser sign-in. The private half never leaves this object. */
export interface HandshakeKeyPair {
  /** The uncompressed P-256 point, base64url: what `auth.handshake.init` takes. */
  publicKey: string;
  /** Both halves: HPKE's decapsulation needs the public one too, and cannot derive it from a non-extractable key. */
  keyPair: CryptoKeyPair;
}

/**
 * Makes the key a browser sign-in is sealed to. The private key is non-extractable: nothing,
 * not even this SDK, can export it, so the sealed session opens only in this process.
 */
export async function generateHandshakeKeyPair(): Promise<HandshakeKeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { publicKey: toBase64url(raw), keyPair: pair };
}

const INFO_LABEL = "osmynt/v1/handshake-session";

/** `LP(label) ‖ LP(handshakeId)`, each part prefixed by its u16be length: the server builds the same. */
export function handshakeInfo(handshakeId: string): Uint8Array<ArrayBuffer> {
  const parts = [INFO_LABEL, handshakeId].map((p) => new TextEncoder().encode(p));
  const out = new Uint8Array(parts.reduce((n, p) => n + 2 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

export class SealedSessionError extends Error {
  override readonly name = "SealedSessionError";
}

/**
 * Opens the session the server sealed to `keyPair` for `handshakeId`. A blob sealed to another
 * key, or for another handshake, does not open: that is a SealedSessionError, never a session.
 */
export async function openSealedSession(params: {
  keyPair: CryptoKeyPair;
  handshakeId: string;
  sealedSession: { enc: string; ciphertext: string };
}): Promise<Session> {
  let plaintext: Uint8Array;
  try {
    plaintext = await hpkeOpen({
      recipientKey: params.keyPair,
      enc: fromBase64url(params.sealedSession.enc) as Uint8Array<ArrayBuffer>,
      ciphertext: fromBase64url(params.sealedSession.ciphertext) as Uint8Array<ArrayBuffer>,
      info: handshakeInfo(params.handshakeId),
    });
  } catch (error) {
    throw new SealedSessionError("the sealed session does not open with this key for this handshake", { cause: error });
  }
  let session: Session | undefined;
  try {
    session = JSON.parse(new TextDecoder().decode(plaintext)) as Session;
  } catch {}
  if (typeof session?.accessToken !== "string" || typeof session.refreshToken !== "string")
    throw new SealedSessionError("the sealed session opened but holds no session");
  return session;
}
