import { type Bytes, bytesEqual } from "../bytes.js";
import type { DeviceKeys } from "../device-keys.js";
import type { DeviceLogHead } from "../device-log/link.js";
import { activeDevices, type DeviceLogState, findDevice } from "../device-log/state.js";
import { fromBase64url, toBase64url } from "../encoding.js";
import { ShareError } from "../errors.js";
import { shareHpke } from "../hpke.js";
import { importPublicKey } from "../public-keys.js";
import { wrapHash, wrapInfo } from "./encoding.js";
import { compareRecipients } from "./shape.js";
import type { ManifestRecipient, RecipientWrap, ShareTarget } from "./types.js";

/** A device signing a share or a forward, with the verified log of its own user. */
export interface ShareSigner {
  userId: string;
  keys: DeviceKeys;
  log: DeviceLogState;
}

export interface WrapContext {
  suite: string;
  target: ShareTarget;
  shareId: string;
  version: number;
  senderUserId: string;
  senderDeviceId: string;
}

interface Destination {
  userId: string;
  deviceId: string;
  kemKey: string;
  kemKeyId: string;
  logHead: DeviceLogHead;
}

/** Every active device (never a revoked one, never a rotated-away key) of each verified log, sorted. */
export function destinationsOf(logs: readonly DeviceLogState[]): Destination[] {
  const byUser = new Map(logs.map((log) => [log.userId, log]));
  const out: Destination[] = [];
  for (const log of byUser.values())
    for (const d of activeDevices(log))
      out.push({ userId: log.userId, deviceId: d.deviceId, kemKey: d.kemKey as string, kemKeyId: d.kemKeyId as string, logHead: log.head });
  return out.sort(compareRecipients);
}

/** HPKE-wraps the share key to each destination; returns the signed entries and the wraps to upload. */
export async function wrapKey(
  context: WrapContext,
  key: Bytes,
  ctHash: Bytes,
  destinations: Destination[],
  forwarder?: { userId: string; deviceId: string },
): Promise<{ entries: ManifestRecipient[]; wraps: RecipientWrap[] }> {
  const done = await Promise.all(
    destinations.map(async (d) => {
      const kemPublicKey = fromBase64url(d.kemKey);
      const info = await wrapInfo(context, { userId: d.userId, deviceId: d.deviceId, kemPublicKey }, ctHash, forwarder);
      const { enc, ciphertext } = await shareHpke.seal({
        recipientPublicKey: await importPublicKey(kemPublicKey, "kem"),
        info,
        plaintext: key,
      });
      const entry: ManifestRecipient = {
        userId: d.userId,
        deviceId: d.deviceId,
        kemKeyId: d.kemKeyId,
        logHead: d.logHead,
        wrapHash: await wrapHash(enc, ciphertext),
      };
      const wrap: RecipientWrap = {
        userId: d.userId,
        deviceId: d.deviceId,
        kemKeyId: d.kemKeyId,
        enc: toBase64url(enc),
        wrappedKey: toBase64url(ciphertext),
      };
      return { entry, wrap };
    }),
  );
  return { entries: done.map((d) => d.entry), wraps: done.map((d) => d.wrap) };
}

/** The signer must be an active device of its own verified log, with the key the log records. */
export function checkSigner(signer: ShareSigner, role: string): void {
  if (signer.log.userId !== signer.userId)
    throw new ShareError("wrong_sender", `the ${role}'s device log belongs to ${signer.log.userId}, not ${signer.userId}`);
  const device = findDevice(signer.log, signer.keys.deviceId);
  if (device?.kind !== "device")
    throw new ShareError("unknown_sender_device", `the ${role} device ${signer.keys.deviceId} is not in its own device log`);
  if (device.status !== "active") throw new ShareError("sender_revoked", `the ${role} device ${signer.keys.deviceId} was revoked`);
  if (device.signingKey !== signer.keys.signingPublicKey)
    throw new ShareError("sender_key_mismatch", `the ${role} device's signing key is not the one its log records`);
}

/**
 * Unwraps this device's share key: the wrap must be the one the signed entry hashes, to this
 * device's current KEM key, and open under the bound `info`.
 */
export async function unwrapKey(
  context: WrapContext,
  me: { userId: string; keys: DeviceKeys },
  entry: ManifestRecipient,
  wrap: RecipientWrap,
  ctHash: Bytes,
  forwarder?: { userId: string; deviceId: string },
): Promise<Bytes> {
  if (!me.keys.kem || !me.keys.kemPublicKey)
    throw new ShareError("wrong_kem_key", "this key has no KEM key (a recovery key receives no shares)");
  if (wrap.userId !== entry.userId || wrap.deviceId !== entry.deviceId || wrap.kemKeyId !== entry.kemKeyId)
    throw new ShareError("wrap_mismatch", "the wrapped key is labelled for another device or key than the signed entry");
  const enc = fromBase64url(wrap.enc);
  const wrapped = fromBase64url(wrap.wrappedKey);
  if (!bytesEqual(fromBase64url(await wrapHash(enc, wrapped)), fromBase64url(entry.wrapHash)))
    throw new ShareError("wrap_mismatch", `the wrapped key for device ${me.keys.deviceId} is not the one the share's signature covers`);
  const kemPublicKey = fromBase64url(me.keys.kemPublicKey);
  const info = await wrapInfo(context, { userId: me.userId, deviceId: me.keys.deviceId, kemPublicKey }, ctHash, forwarder);
  try {
    return await shareHpke.open({ recipientKey: me.keys.kem, enc, ciphertext: wrapped, info });
  } catch (error) {
    throw new ShareError("unwrap_failed", "the wrapped share key does not open with this device's key in this share's context", {
      cause: error,
    });
  }
}
