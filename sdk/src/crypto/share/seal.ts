import { aesGcmEncrypt } from "../aead.js";
import { randomBytes } from "../bytes.js";
import type { DeviceLogState } from "../device-log/state.js";
import { toBase64url } from "../encoding.js";
import { ShareError } from "../errors.js";
import { sign } from "../signatures.js";
import { SUITE } from "../suite.js";
import { ciphertextHash, contentAad, encodeManifest, keyCommitment, MANIFEST_SIGNATURE_LABEL } from "./encoding.js";
import { pad } from "./padding.js";
import type { RecipientWrap, ShareEnvelope, ShareManifest, ShareTarget } from "./types.js";
import { checkSigner, destinationsOf, type ShareSigner, wrapKey } from "./wrap.js";

export interface SealShareParams {
  sender: ShareSigner;
  target: ShareTarget;
  /** Chosen by the sender (it is signed): e.g. `shr_` + 120 random bits. */
  shareId: string;
  /** The verified device logs of every recipient user. The sender's own log is always added, so its other devices can read the share. */
  recipients: readonly DeviceLogState[];
  plaintext: Uint8Array;
  version?: number;
  prevVersionHash?: string | null;
  createdAt?: number;
  expiresAt?: number | null;
}

/**
 * Encrypts a share (crypto.md §8): a fresh 32-byte key K and 12-byte nonce; the padded payload
 * under AES-256-GCM with the content AAD; K HPKE-wrapped to every active device of every
 * recipient log (and of the sender's own log); a manifest with the ciphertext hash, the key
 * commitment and every recipient entry, signed by the sender device. Returns the envelope and
 * the per-device wraps to upload.
 */
export async function sealShare(params: SealShareParams): Promise<{ envelope: ShareEnvelope; wraps: RecipientWrap[] }> {
  const { sender } = params;
  checkSigner(sender, "sender");
  const version = params.version ?? 1;
  const context = {
    suite: SUITE,
    target: params.target,
    shareId: params.shareId,
    version,
    senderUserId: sender.userId,
    senderDeviceId: sender.keys.deviceId,
  };
  const destinations = destinationsOf([sender.log, ...params.recipients.filter((log) => log.userId !== sender.userId)]);
  if (destinations.length === 0) throw new ShareError("no_recipients", "the recipients have no active device to encrypt to");

  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const ciphertext = await aesGcmEncrypt(key, nonce, pad(params.plaintext), contentAad(context));
  const ctHash = await ciphertextHash(nonce, ciphertext);
  const { entries, wraps } = await wrapKey(context, key, ctHash, destinations);
  const manifest: ShareManifest = {
    v: 1,
    suite: SUITE,
    target: params.target,
    shareId: params.shareId,
    version,
    prevVersionHash: params.prevVersionHash ?? null,
    senderUserId: sender.userId,
    senderDeviceId: sender.keys.deviceId,
    senderLogHead: sender.log.head,
    nonce: toBase64url(nonce),
    ciphertextLength: ciphertext.length,
    ciphertextHash: toBase64url(ctHash),
    keyCommitment: toBase64url(await keyCommitment(key, params.shareId, version)),
    createdAt: params.createdAt ?? Date.now(),
    expiresAt: params.expiresAt ?? null,
    recipients: entries,
  };
  const signature = await sign(sender.keys.signing.privateKey, MANIFEST_SIGNATURE_LABEL, encodeManifest(manifest));
  return { envelope: { suite: SUITE, nonce: manifest.nonce, ciphertext: toBase64url(ciphertext), manifest, signature }, wraps };
}
