import {
  AppError,
  activeDevicesOf,
  getVisibleManifest,
  getVisibleShare,
  insertForward,
  isActiveDeviceOf,
  listShareWrapHolders,
  listTeamMemberIds,
  readDeviceLogState,
  recordAudit,
  type Transaction,
} from "@osmynt/db";
import {
  type DeviceLogState,
  parseManifest,
  type RecipientWrap,
  ShareError,
  type ShareForward,
  verifyForwardSignature,
} from "@osmynt/sdk/crypto";
import type { AppDeps } from "../deps.js";
import { withEvents } from "../trpc/with-events.js";
import { recipientDiff } from "./check-envelope.js";
import { shareEvents } from "./share-events.js";

/**
 * The forwarder's signature and that the record is for this share's manifest, against the
 * forwarder's log as the server verified it (defence in depth, like the sender's signature at
 * create; readers check again): a forward nobody signed is never stored.
 */
async function checkForwardSignature(tx: Transaction, params: { shareId: string; userId: string; forward: ShareForward }) {
  const manifest = parseManifest(await getVisibleManifest(tx, { id: params.shareId, userId: params.userId }));
  const state = await readDeviceLogState(tx, { userId: params.userId });
  if (!state) throw new AppError("PRECONDITION_FAILED", "You have no registered device: register one before forwarding");
  try {
    await verifyForwardSignature(params.forward, manifest, state as unknown as DeviceLogState);
  } catch (error) {
    if (error instanceof ShareError) throw new AppError("BAD_REQUEST", `forward: ${error.message}`, { reason: error.reason });
    throw error;
  }
}

/**
 * Backfill: stores a signed forward of a share's key to devices that lack one. The forwarding
 * device must be an active device of the caller that holds a key of the share. Any recipient may
 * forward to their own new devices; only the author may bring in other users (a member who joined
 * later), and only current members of the share's team, or the two users of a direct share.
 * Devices that already hold a key are skipped; anything else not an active device is refused.
 */
export async function addRecipients(
  deps: Pick<AppDeps, "db" | "bus">,
  params: { userId: string; shareId: string; forward: ShareForward; wraps: RecipientWrap[] },
) {
  const { userId, forward } = params;
  return withEvents(deps, async (tx, emit) => {
    const share = await getVisibleShare(tx, { id: params.shareId, userId });
    if (!(await isActiveDeviceOf(tx, { userId, deviceId: forward.forwarderDeviceId })))
      throw new AppError("FORBIDDEN", `Device ${forward.forwarderDeviceId} is not an active device of yours`, {
        deviceId: forward.forwarderDeviceId,
      });
    await checkForwardSignature(tx, { shareId: share.id, userId, forward });
    const holders = await listShareWrapHolders(tx, { shareId: share.id });
    const held = new Set(holders.map((h) => `${h.userId}\n${h.deviceId}`));
    if (!held.has(`${userId}\n${forward.forwarderDeviceId}`))
      throw new AppError("FORBIDDEN", `Device ${forward.forwarderDeviceId} holds no key of this share, so it cannot forward one`);

    const newUsers = [...new Set(params.wraps.map((w) => w.userId))].filter((u) => u !== userId);
    if (newUsers.length > 0 && share.authorId !== userId)
      throw new AppError("FORBIDDEN", "Only the share's author may add other users; you may add your own devices");
    const allowed = share.teamId ? await listTeamMemberIds(tx, { teamId: share.teamId }) : [share.authorId, share.targetUserId as string];
    const outsiders = newUsers.filter((u) => !allowed.includes(u));
    if (outsiders.length > 0)
      throw new AppError("FORBIDDEN", `Users ${outsiders.join(", ")} are not members of the share's team or thread`, {
        userIds: outsiders,
      });

    const fresh = params.wraps.filter((w) => !held.has(`${w.userId}\n${w.deviceId}`));
    const active = await activeDevicesOf(tx, { userIds: [...new Set(fresh.map((w) => w.userId))] });
    const diff = recipientDiff(active, fresh);
    if (diff.extra.length + diff.stale.length > 0)
      throw new AppError("PRECONDITION_FAILED", "recipients must be active devices with their current keys", {
        missing: [],
        extra: diff.extra,
        stale: diff.stale,
      });
    const added = await insertForward(tx, {
      shareId: share.id,
      forwarderUserId: userId,
      forwarderDeviceId: forward.forwarderDeviceId,
      record: forward as unknown as Record<string, unknown>,
      wraps: fresh,
    });
    if (added.length > 0) {
      await recordAudit(tx, {
        teamId: share.teamId,
        actorId: userId,
        action: "share.recipientsAdded",
        targetType: "share",
        targetId: share.id,
        metadata: { devices: added.length },
      });
      await emit(shareEvents.recipientsAdded(share, added, userId));
    }
    return { added: added.map((a) => ({ userId: a.userId, deviceId: a.deviceId })) };
  });
}
