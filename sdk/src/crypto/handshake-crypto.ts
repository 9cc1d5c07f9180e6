import type { Session } from "../app-router.js";
import { openHandshake } from "./handshake.js";

export { generateHandshakeKeyPair, type HandshakeKeyPair, handshakeInfo } from "./handshake.js";

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
    plaintext = await openHandshake({ keyPair: params.keyPair, handshakeId: params.handshakeId, sealed: params.sealedSession });
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
