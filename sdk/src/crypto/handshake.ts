import { lengthPrefixed } from "./bytes.js";
import { fromBase64url, toBase64url } from "./encoding.js";
import { handshakeHpke } from "./hpke.js";
import { exportPublicKey, importPublicKey } from "./public-keys.js";

/**
 * A browser sign-in's hand-off (README "Sign in with GitHub"): the server seals the new session
 * to the editor's ephemeral P-256 key with `handshakeHpke`, bound to the handshake id, and only
 * the editor's private key opens it. The server seals and the SDK opens with this same code.
 */
export const HANDSHAKE_INFO_LABEL = "osmynt/v1/handshake-session";

/** `LP(label) ‖ LP(handshakeId)`: binds a sealed session to one handshake, so it cannot be replayed into another. */
export function handshakeInfo(handshakeId: string): Uint8Array<ArrayBuffer> {
  return lengthPrefixed(HANDSHAKE_INFO_LABEL, handshakeId);
}

/** An editor's ephemeral key for one browser sign-in. The private half never leaves this object. */
export interface HandshakeKeyPair {
  /** The uncompressed P-256 point, base64url: what `auth.handshake.init` takes. */
  publicKey: string;
  /** Both halves: HPKE's decapsulation needs the public one too, and cannot derive it from a non-extractable key. */
  keyPair: CryptoKeyPair;
}

/** The key a browser sign-in is sealed to, with a non-extractable private key. */
export async function generateHandshakeKeyPair(): Promise<HandshakeKeyPair> {
  const keyPair = (await globalThis.crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, [
    "deriveBits",
  ])) as CryptoKeyPair;
  return { publicKey: await exportPublicKey(keyPair.publicKey), keyPair };
}

export interface SealedHandshake {
  enc: string;
  ciphertext: string;
}

/** Validates the editor's key (a KeyError names what is wrong with it), then seals `plaintext` to it. */
export async function sealHandshake(params: { publicKey: string; handshakeId: string; plaintext: Uint8Array }): Promise<SealedHandshake> {
  const recipientPublicKey = await importPublicKey(params.publicKey, "kem", "publicKey");
  const { enc, ciphertext } = await handshakeHpke.seal({
    recipientPublicKey,
    info: handshakeInfo(params.handshakeId),
    plaintext: params.plaintext,
  });
  return { enc: toBase64url(enc), ciphertext: toBase64url(ciphertext) };
}

/** Opens what `sealHandshake` sealed; throws for another key, another handshake, or any change. */
export function openHandshake(params: { keyPair: CryptoKeyPair; handshakeId: string; sealed: SealedHandshake }): Promise<Uint8Array> {
  return handshakeHpke.open({
    recipientKey: params.keyPair,
    enc: fromBase64url(params.sealed.enc),
    ciphertext: fromBase64url(params.sealed.ciphertext),
    info: handshakeInfo(params.handshakeId),
  });
}
