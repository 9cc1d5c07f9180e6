import type { DeviceLogHead } from "../device-log/link.js";
import type { Suite } from "../suite.js";

/**
 * A share on the wire (crypto.md §8, api.md `shares.*`): JSON values, bytes as base64url. What
 * the sender signs is the canonical encoding of the manifest (share/encoding.ts), never this JSON.
 */

/** Where a share goes: a team, or one user (a direct share). */
export type ShareTarget = { teamId: string } | { userId: string };

/**
 * One recipient device. The manifest carries a hash of the device's wrap (`enc`, wrapped key)
 * rather than the wrap itself, so the server can hand each device only its own wrap while the
 * signature still covers every one of them.
 */
export interface ManifestRecipient {
  userId: string;
  deviceId: string;
  /** The KEM key the share key was wrapped to (`kemKeyId`). */
  kemKeyId: string;
  /** The head of that user's device log the sender verified and encrypted from. */
  logHead: DeviceLogHead;
  /** base64url `SHA-256(LP("snip/v1/wrap-entry") ‖ LP(enc) ‖ LP(wrappedKey))`. */
  wrapHash: string;
}

export interface ShareManifest {
  v: 1;
  suite: Suite;
  target: ShareTarget;
  shareId: string;
  /** 1 for a new share; a new version re-encrypts under a fresh key. */
  version: number;
  /** base64url manifest hash of the previous version; null for version 1. */
  prevVersionHash: string | null;
  senderUserId: string;
  senderDeviceId: string;
  /** The head of the sender's own device log when it signed. */
  senderLogHead: DeviceLogHead;
  /** base64url 12-byte AES-GCM nonce. */
  nonce: string;
  ciphertextLength: number;
  /** base64url `SHA-256(LP("snip/v1/ct") ‖ nonce ‖ ciphertext)`. */
  ciphertextHash: string;
  /** base64url `HMAC-SHA256(K, LP("snip/v1/key-commit") ‖ LP(shareId) ‖ u64(version))`. */
  keyCommitment: string;
  /** Milliseconds since the epoch, as the sender claims. */
  createdAt: number;
  expiresAt: number | null;
  /** Sorted by (userId, deviceId), no duplicates. */
  recipients: ManifestRecipient[];
}

/** What `shares.create` stores and `shares.get` returns (api.md). */
export interface ShareEnvelope {
  suite: Suite;
  nonce: string;
  ciphertext: string;
  manifest: ShareManifest;
  /** base64url ECDSA P1363 by the sender device over `LP("snip/v1/manifest-sig") ‖ manifest bytes`. */
  signature: string;
}

/** One device's wrapped share key: stored per device, handed only to that device. */
export interface RecipientWrap {
  userId: string;
  deviceId: string;
  kemKeyId: string;
  /** base64url HPKE encapsulated key (65 bytes). */
  enc: string;
  /** base64url HPKE ciphertext of the 32-byte share key (48 bytes). */
  wrappedKey: string;
}

/**
 * A re-wrap of a share's key for devices the sender did not encrypt to (a recipient's new device,
 * a member who joined later), signed by the device that forwards it. The key it forwards is
 * checked against the sender's signed key commitment, so a forwarder cannot change the content.
 */
export interface ShareForward {
  v: 1;
  suite: Suite;
  shareId: string;
  version: number;
  /** base64url hash of the manifest bytes the forward refers to. */
  manifestHash: string;
  forwarderUserId: string;
  forwarderDeviceId: string;
  forwarderLogHead: DeviceLogHead;
  createdAt: number;
  recipients: ManifestRecipient[];
  /** base64url ECDSA P1363 by the forwarder over `LP("snip/v1/forward-sig") ‖ forward bytes`. */
  signature: string;
}
