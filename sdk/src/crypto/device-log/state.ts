import { lp, sha256 } from "../bytes.js";
import { fromBase64url, toBase64url } from "../encoding.js";
import type { DeviceLogHead } from "./link.js";

/** One device (or the recovery key) as a verified log describes it. */
export interface DeviceRecord {
  deviceId: string;
  kind: "device" | "recovery";
  name: string;
  status: "active" | "revoked";
  /** base64url raw P-256 ECDSA key. */
  signingKey: string;
  /** base64url raw P-256 HPKE key; null for the recovery key. The only key to encrypt to. */
  kemKey: string | null;
  /** `kemKeyId(kemKey)`; null for the recovery key. */
  kemKeyId: string | null;
  /** KEM key ids this device rotated away from: never encrypt to them again. */
  retiredKemKeyIds: string[];
  /** The seq of the link that added it, and the device that signed that link. */
  addedAt: number;
  addedBy: string;
  /** The seq of the link that revoked it. */
  revokedAt: number | null;
  revokedBy: string | null;
}

/**
 * What a verified device log says: plain JSON, so it can be cached and compared. Only
 * `verifyLink` / `verifyDeviceLog` make one; treat it as read-only.
 */
export interface DeviceLogState {
  userId: string;
  /** base64url hash of the root link. */
  rootHash: string;
  /** The user fingerprint (UFP), base64url: survives device changes, changes only with a new root. */
  fingerprint: string;
  head: DeviceLogHead;
  /** The link hash at each seq (hashes[seq]): to check that a later log extends this one. */
  hashes: string[];
  /** Every device the log ever added, in order. */
  devices: DeviceRecord[];
}

export const UFP_LABEL = "snip/v1/ufp";

/** `UFP = SHA-256(LP("snip/v1/ufp") ‖ LP(userId) ‖ rootHash)`, base64url (crypto.md §4, §8). */
export async function userFingerprint(userId: string, rootHash: string): Promise<string> {
  return toBase64url(await sha256(lp(UFP_LABEL), lp(userId), fromBase64url(rootHash)));
}

export function findDevice(state: DeviceLogState, deviceId: string): DeviceRecord | undefined {
  return state.devices.find((d) => d.deviceId === deviceId);
}

/** Active devices of kind `device`: the ones to encrypt to (the recovery key never receives shares). */
export function activeDevices(state: DeviceLogState): DeviceRecord[] {
  return state.devices.filter((d) => d.status === "active" && d.kind === "device");
}

/** Active keys that may sign links: devices and the recovery key. */
export function activeSigners(state: DeviceLogState): DeviceRecord[] {
  return state.devices.filter((d) => d.status === "active");
}

export function revokedDeviceIds(state: DeviceLogState): string[] {
  return state.devices.filter((d) => d.status === "revoked").map((d) => d.deviceId);
}

export function activeRecoveryKey(state: DeviceLogState): DeviceRecord | null {
  return state.devices.find((d) => d.status === "active" && d.kind === "recovery") ?? null;
}
