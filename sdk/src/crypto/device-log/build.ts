import type { DeviceKeys } from "../device-keys.js";
import { sign } from "../signatures.js";
import { SUITE } from "../suite.js";
import type { DeviceLink, DeviceLinkBody, DeviceLinkType, DeviceLogHead } from "./link.js";
import { encodeLinkBody, LINK_REVERSE_SIGNATURE_LABEL, LINK_SIGNATURE_LABEL, linkBody } from "./link-encoding.js";
import type { DeviceLogState } from "./state.js";

/** Where a link goes: the user's log and its current head (null for the root). */
export interface LinkPosition {
  userId: string;
  head: DeviceLogHead | null;
}

export interface LinkFields {
  type: DeviceLinkType;
  deviceId: string;
  signerDeviceId: string;
  signingKey?: string | null;
  kemKey?: string | null;
  name?: string;
  createdAt?: number;
}

/**
 * The unsigned body of the next link at `position`. Both sides of a pairing build the same body
 * from the same fields (the new device from the head the existing device confirmed), so each can
 * sign it without sending the body around.
 */
export function unsignedLink(position: LinkPosition | DeviceLogState, fields: LinkFields): DeviceLinkBody {
  return {
    v: 1,
    suite: SUITE,
    userId: position.userId,
    seq: position.head === null ? 0 : position.head.seq + 1,
    prev: position.head === null ? null : position.head.hash,
    type: fields.type,
    deviceId: fields.deviceId,
    signerDeviceId: fields.signerDeviceId,
    signingKey: fields.signingKey ?? null,
    kemKey: fields.kemKey ?? null,
    name: fields.name ?? "",
    createdAt: fields.createdAt ?? Date.now(),
  };
}

type Signer = Pick<DeviceKeys, "signing">;

/** The added device's proof of possession over the body (add_device, add_recovery). */
export function reverseSignLink(body: DeviceLinkBody, newDevice: Signer): Promise<string> {
  return sign(newDevice.signing.privateKey, LINK_REVERSE_SIGNATURE_LABEL, encodeLinkBody(linkBody(body)));
}

/** Signs a body with the signer device's key and returns the link to append. */
export async function signLink(body: DeviceLinkBody, signer: Signer, reverseSignature: string | null = null): Promise<DeviceLink> {
  const clean = linkBody(body);
  return { ...clean, signature: await sign(signer.signing.privateKey, LINK_SIGNATURE_LABEL, encodeLinkBody(clean)), reverseSignature };
}

/** The first link of a user's log, self-signed by its first device. */
export function createRootLink(
  userId: string,
  device: DeviceKeys,
  options: { name?: string; createdAt?: number } = {},
): Promise<DeviceLink> {
  const body = unsignedLink(
    { userId, head: null },
    {
      type: "root",
      deviceId: device.deviceId,
      signerDeviceId: device.deviceId,
      signingKey: device.signingPublicKey,
      kemKey: device.kemPublicKey,
      ...options,
    },
  );
  return signLink(body, device);
}

/**
 * Adds `newDevice` (a device, or a recovery key for `add_recovery`), signed by `signer` and
 * reverse-signed by the new keys: for when both are in this process (recovery, tests). Pairing
 * signs the two halves on two devices with `unsignedLink` + `reverseSignLink` + `signLink`.
 */
export async function createAddDeviceLink(
  state: LinkPosition | DeviceLogState,
  signer: DeviceKeys,
  newDevice: DeviceKeys,
  options: { name?: string; createdAt?: number } = {},
): Promise<DeviceLink> {
  const recovery = newDevice.kind === "recovery";
  const body = unsignedLink(state, {
    type: recovery ? "add_recovery" : "add_device",
    deviceId: newDevice.deviceId,
    signerDeviceId: signer.deviceId,
    signingKey: newDevice.signingPublicKey,
    kemKey: recovery ? null : newDevice.kemPublicKey,
    ...options,
  });
  return signLink(body, signer, await reverseSignLink(body, newDevice));
}

/** Revokes `deviceId`, signed by another active device, the recovery key, or the device itself. */
export function createRevokeLink(
  state: LinkPosition | DeviceLogState,
  signer: DeviceKeys,
  deviceId: string,
  options: { createdAt?: number } = {},
): Promise<DeviceLink> {
  return signLink(unsignedLink(state, { type: "revoke_device", deviceId, signerDeviceId: signer.deviceId, ...options }), signer);
}

/** Replaces the device's own KEM key with `kemPublicKey` (see `generateKemKey`). */
export function createRotateKemLink(
  state: LinkPosition | DeviceLogState,
  device: DeviceKeys,
  kemPublicKey: string,
  options: { createdAt?: number } = {},
): Promise<DeviceLink> {
  return signLink(
    unsignedLink(state, {
      type: "rotate_kem",
      deviceId: device.deviceId,
      signerDeviceId: device.deviceId,
      kemKey: kemPublicKey,
      ...options,
    }),
    device,
  );
}
