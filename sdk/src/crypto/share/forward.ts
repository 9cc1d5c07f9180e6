import type { DeviceLogState } from "../device-log/state.js";
import { ShareError } from "../errors.js";
import { sign } from "../signatures.js";
import { SUITE } from "../suite.js";
import { encodeForward, FORWARD_SIGNATURE_LABEL, manifestHash } from "./encoding.js";
import { type OpenShareParams, openShareAndKey } from "./open.js";
import type { RecipientWrap, ShareForward } from "./types.js";
import { checkSigner, destinationsOf, wrapKey } from "./wrap.js";

/**
 * Backfill (crypto.md §5 step 8, §6): a device that can open a share re-wraps its key for devices
 * the sender did not encrypt to — a recipient's new device, a member who joined later — and signs
 * a forward record. The share is opened (and so fully verified) first; readers check the key
 * against the sender's key commitment, so a forward cannot change what the share says.
 * `to` are verified logs; only their active devices that are not already recipients get a wrap.
 */
export async function forwardShare(
  params: Omit<OpenShareParams, "forward"> & { to: readonly DeviceLogState[]; createdAt?: number },
): Promise<{ forward: ShareForward; wraps: RecipientWrap[] }> {
  const { me } = params;
  checkSigner(me, "forwarder");
  const opened = await openShareAndKey(params);
  const m = opened.manifest;
  const already = new Set(m.recipients.map((r) => `${r.userId}\n${r.deviceId}`));
  const destinations = destinationsOf(params.to).filter((d) => !already.has(`${d.userId}\n${d.deviceId}`));
  if (destinations.length === 0) throw new ShareError("no_recipients", "every device given is already a recipient");
  const context = {
    suite: m.suite,
    target: m.target,
    shareId: m.shareId,
    version: m.version,
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
  };
  const forwarder = { userId: me.userId, deviceId: me.keys.deviceId };
  const { entries, wraps } = await wrapKey(context, opened.key, opened.ctHash, destinations, forwarder);
  const unsigned: Omit<ShareForward, "signature"> = {
    v: 1,
    suite: SUITE,
    shareId: m.shareId,
    version: m.version,
    manifestHash: await manifestHash(m),
    forwarderUserId: me.userId,
    forwarderDeviceId: me.keys.deviceId,
    forwarderLogHead: me.log.head,
    createdAt: params.createdAt ?? Date.now(),
    recipients: entries,
  };
  const signature = await sign(me.keys.signing.privateKey, FORWARD_SIGNATURE_LABEL, encodeForward(unsigned));
  return { forward: { ...unsigned, signature }, wraps };
}
