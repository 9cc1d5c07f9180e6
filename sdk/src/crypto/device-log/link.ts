import type { Suite } from "../suite.js";

/**
 * A user's device log is a hash chain of signed links (crypto.md §4): `root` (the first device,
 * self-signed), `add_device` (signed by an active device and reverse-signed by the new one),
 * `revoke_device`, `rotate_kem` (a device's new HPKE key, signed by that device) and
 * `add_recovery` (the recovery key, reverse-signed by itself). Every field is a JSON value
 * (keys and hashes base64url), so links travel through tRPC and into the database as they are.
 */
export type DeviceLinkType = "root" | "add_device" | "revoke_device" | "rotate_kem" | "add_recovery";
export const DEVICE_LINK_TYPES: readonly DeviceLinkType[] = ["root", "add_device", "revoke_device", "rotate_kem", "add_recovery"];

/** The signed part of a link. */
export interface DeviceLinkBody {
  v: 1;
  suite: Suite;
  userId: string;
  /** 0 for the root, then one more per link. */
  seq: number;
  /** base64url link hash of the link at `seq - 1`; null for the root. */
  prev: string | null;
  type: DeviceLinkType;
  /** The device the link is about (added, revoked, rotated). */
  deviceId: string;
  /** The active device whose signing key signs the link (the new device itself for the root). */
  signerDeviceId: string;
  /** base64url raw P-256 point: for root, add_device and add_recovery; null otherwise. */
  signingKey: string | null;
  /** base64url raw P-256 point, the HPKE recipient key: for root, add_device and rotate_kem; null otherwise. */
  kemKey: string | null;
  /** A label people recognise ("work laptop"); "" when the link adds no device. */
  name: string;
  /** Milliseconds since the epoch, as the signer claims it. */
  createdAt: number;
}

export interface DeviceLink extends DeviceLinkBody {
  /** base64url ECDSA P1363 by `signerDeviceId` over the body. */
  signature: string;
  /** base64url ECDSA P1363 by the added device's own key: add_device and add_recovery; null otherwise. */
  reverseSignature: string | null;
}

/** The end of a log: the last link's seq and hash. What a reader pins to detect rollbacks and forks. */
export interface DeviceLogHead {
  seq: number;
  hash: string;
}

export const MAX_ID_LENGTH = 128;
export const MAX_NAME_LENGTH = 128;
