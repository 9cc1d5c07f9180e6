import { type Bytes, concatBytes, lp, sha256, u64 } from "../bytes.js";
import { fromBase64url, toBase64url } from "../encoding.js";
import { hmacSha256 } from "../kdf.js";
import type { ManifestRecipient, ShareForward, ShareManifest, ShareTarget } from "./types.js";

/** The byte encodings a share is bound by (crypto.md §3), each with its own label. */
export const CONTENT_LABEL = "snip/v1/content";
export const WRAP_LABEL = "snip/v1/wrap";
export const FORWARD_WRAP_LABEL = "snip/v1/forward-wrap";
export const CT_LABEL = "snip/v1/ct";
export const WRAP_ENTRY_LABEL = "snip/v1/wrap-entry";
export const KEY_COMMIT_LABEL = "snip/v1/key-commit";
export const MANIFEST_LABEL = "snip/v1/manifest";
export const MANIFEST_HASH_LABEL = "snip/v1/manifest-hash";
export const MANIFEST_SIGNATURE_LABEL = "snip/v1/manifest-sig";
export const FORWARD_LABEL = "snip/v1/forward";
export const FORWARD_SIGNATURE_LABEL = "snip/v1/forward-sig";

/** `LP("team") ‖ LP(teamId)` or `LP("user") ‖ LP(userId)`: where the share goes, in every binding. */
export function encodeTarget(target: ShareTarget): Bytes {
  return "teamId" in target ? concatBytes(lp("team"), lp(target.teamId)) : concatBytes(lp("user"), lp(target.userId));
}

interface Context {
  suite: string;
  target: ShareTarget;
  shareId: string;
  version: number;
  senderUserId: string;
  senderDeviceId: string;
}

/** AES-GCM AAD of the content: `LP(label) ‖ LP(suite) ‖ target ‖ LP(shareId) ‖ u64(version) ‖ LP(senderUser) ‖ LP(senderDevice)`. */
export function contentAad(c: Context): Bytes {
  return concatBytes(
    lp(CONTENT_LABEL),
    lp(c.suite),
    encodeTarget(c.target),
    lp(c.shareId),
    u64(c.version),
    lp(c.senderUserId),
    lp(c.senderDeviceId),
  );
}

/**
 * HPKE `info` for one recipient device: the content context, the recipient, a hash of the
 * recipient's KEM key and the ciphertext hash, so a wrap cannot move to another share, version,
 * team, device, key or ciphertext. A forward uses its own label and names the forwarder too.
 */
export async function wrapInfo(
  c: Context,
  recipient: { userId: string; deviceId: string; kemPublicKey: Uint8Array },
  ciphertextHash: Uint8Array,
  forwarder?: { userId: string; deviceId: string },
): Promise<Bytes> {
  return concatBytes(
    lp(forwarder ? FORWARD_WRAP_LABEL : WRAP_LABEL),
    lp(c.suite),
    encodeTarget(c.target),
    lp(c.shareId),
    u64(c.version),
    lp(c.senderUserId),
    lp(c.senderDeviceId),
    ...(forwarder ? [lp(forwarder.userId), lp(forwarder.deviceId)] : []),
    lp(recipient.userId),
    lp(recipient.deviceId),
    lp(await sha256(recipient.kemPublicKey)),
    ciphertextHash,
  );
}

/** `SHA-256(LP("snip/v1/ct") ‖ nonce ‖ ciphertext)`. */
export function ciphertextHash(nonce: Uint8Array, ciphertext: Uint8Array): Promise<Bytes> {
  return sha256(lp(CT_LABEL), nonce, ciphertext);
}

/** `SHA-256(LP("snip/v1/wrap-entry") ‖ LP(enc) ‖ LP(wrappedKey))`, base64url. */
export async function wrapHash(enc: Uint8Array, wrappedKey: Uint8Array): Promise<string> {
  return toBase64url(await sha256(lp(WRAP_ENTRY_LABEL), lp(enc), lp(wrappedKey)));
}

/**
 * Key commitment `HMAC-SHA256(K, LP("snip/v1/key-commit") ‖ LP(shareId) ‖ u64(version))`: AES-GCM
 * alone is not key-committing, so without it a sender could hand two recipients different keys
 * that open the same ciphertext to different plaintexts.
 */
export function keyCommitment(key: Uint8Array, shareId: string, version: number): Promise<Bytes> {
  return hmacSha256(key, concatBytes(lp(KEY_COMMIT_LABEL), lp(shareId), u64(version)));
}

function encodeRecipients(recipients: ManifestRecipient[]): Bytes {
  return concatBytes(
    u64(recipients.length),
    ...recipients.map((r) =>
      concatBytes(
        lp(r.userId),
        lp(r.deviceId),
        lp(r.kemKeyId),
        u64(r.logHead.seq),
        lp(fromBase64url(r.logHead.hash)),
        lp(fromBase64url(r.wrapHash)),
      ),
    ),
  );
}

/** The canonical manifest bytes the sender signs (field order as in ShareManifest). */
export function encodeManifest(m: ShareManifest): Bytes {
  return concatBytes(
    lp(MANIFEST_LABEL),
    lp(m.suite),
    u64(m.v),
    encodeTarget(m.target),
    lp(m.shareId),
    u64(m.version),
    lp(m.prevVersionHash === null ? new Uint8Array(0) : fromBase64url(m.prevVersionHash)),
    lp(m.senderUserId),
    lp(m.senderDeviceId),
    u64(m.senderLogHead.seq),
    lp(fromBase64url(m.senderLogHead.hash)),
    lp(fromBase64url(m.nonce)),
    u64(m.ciphertextLength),
    lp(fromBase64url(m.ciphertextHash)),
    lp(fromBase64url(m.keyCommitment)),
    u64(m.createdAt),
    // expiresAt: 0 = none (an expiry at the epoch means nothing).
    u64(m.expiresAt ?? 0),
    encodeRecipients(m.recipients),
  );
}

/** `SHA-256(LP("snip/v1/manifest-hash") ‖ manifest bytes)`, base64url: names one version (prevVersionHash, forwards). */
export async function manifestHash(m: ShareManifest): Promise<string> {
  return toBase64url(await sha256(lp(MANIFEST_HASH_LABEL), encodeManifest(m)));
}

/** The canonical bytes of a forward record, without its signature. */
export function encodeForward(f: Omit<ShareForward, "signature">): Bytes {
  return concatBytes(
    lp(FORWARD_LABEL),
    lp(f.suite),
    u64(f.v),
    lp(f.shareId),
    u64(f.version),
    lp(fromBase64url(f.manifestHash)),
    lp(f.forwarderUserId),
    lp(f.forwarderDeviceId),
    u64(f.forwarderLogHead.seq),
    lp(fromBase64url(f.forwarderLogHead.hash)),
    u64(f.createdAt),
    encodeRecipients(f.recipients),
  );
}
