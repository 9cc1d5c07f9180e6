import {
  AppError,
  expectedRecipientDevices,
  explainTeamAccess,
  insertShare,
  isActiveDeviceOf,
  lockRecipientSet,
  readDeviceLogState,
  recordAudit,
  type ShareRouting,
  usersShareATeam,
} from "@osmynt/db";
import { type DeviceLogState, ShareError, verifyShareSignature } from "@osmynt/sdk/crypto";
import type { AppDeps } from "../deps.js";
import { withEvents } from "../trpc/with-events.js";
import { type CheckedShare, recipientDiff } from "./check-envelope.js";
import { shareEvents } from "./share-events.js";

type Target = { teamId: string } | { userId: string };

/** The sender's signature, checked against the author's log as the server verified it (defence in depth; readers check again). */
async function checkSignature(deps: Pick<AppDeps, "db">, userId: string, checked: CheckedShare): Promise<void> {
  const state = await readDeviceLogState(deps.db, { userId });
  if (!state) throw new AppError("PRECONDITION_FAILED", "You have no registered device: register one before sharing");
  try {
    await verifyShareSignature(checked.envelope, state as unknown as DeviceLogState);
  } catch (error) {
    if (error instanceof ShareError) throw new AppError("BAD_REQUEST", `envelope: ${error.message}`, { reason: error.reason });
    throw error;
  }
}

/**
 * Stores a checked share when its target allows it and its recipients are exactly the target's
 * active devices now; records `share.created` and an audit row in the same transaction.
 */
export async function createShare(
  deps: Pick<AppDeps, "db" | "bus">,
  params: { userId: string; target: Target; checked: CheckedShare; expiresAt: string | undefined },
): Promise<ShareRouting> {
  const { userId, target, checked } = params;
  const m = checked.envelope.manifest;
  const expiresAt = m.expiresAt === null ? null : new Date(m.expiresAt);
  if (params.expiresAt !== undefined && (expiresAt === null || new Date(params.expiresAt).getTime() !== expiresAt.getTime()))
    throw new AppError("BAD_REQUEST", "expiresAt must be the expiry the manifest signs");
  if (expiresAt !== null && expiresAt.getTime() <= Date.now()) throw new AppError("BAD_REQUEST", "expiresAt is in the past");

  if ("teamId" in target) await explainTeamAccess(deps.db, { teamId: target.teamId, userId, permission: "view" });
  else {
    if (target.userId === userId)
      throw new AppError("BAD_REQUEST", "A direct share goes to another user; share with a team to reach only your own devices");
    if (!(await usersShareATeam(deps.db, { userId, otherId: target.userId })))
      throw new AppError("NOT_FOUND", `User ${target.userId} not found among your teammates`, { userId: target.userId });
  }
  if (!(await isActiveDeviceOf(deps.db, { userId, deviceId: m.senderDeviceId })))
    throw new AppError("FORBIDDEN", `Device ${m.senderDeviceId} is not an active device of yours; it cannot share`, {
      deviceId: m.senderDeviceId,
    });
  await checkSignature(deps, userId, checked);

  return withEvents(deps, async (tx, emit) => {
    await lockRecipientSet(tx, { target, authorId: userId });
    const expected = await expectedRecipientDevices(tx, { target, authorId: userId });
    const diff = recipientDiff(expected, checked.wraps);
    if (!diff.ok)
      throw new AppError(
        "PRECONDITION_FAILED",
        `recipients must be exactly the target's active devices: ${diff.missing.length} missing, ${diff.extra.length} extra, ${diff.stale.length} stale; refetch the device logs and seal again`,
        { missing: diff.missing, extra: diff.extra, stale: diff.stale },
      );
    const row = await insertShare(tx, {
      id: m.shareId,
      target,
      authorId: userId,
      authorDeviceId: m.senderDeviceId,
      suite: checked.envelope.suite,
      nonce: checked.envelope.nonce,
      ciphertext: checked.envelope.ciphertext,
      ciphertextBytes: checked.ciphertextBytes,
      manifest: m as unknown as Record<string, unknown>,
      signature: checked.envelope.signature,
      expiresAt,
      wraps: checked.wraps,
    });
    const share: ShareRouting = {
      id: row.id,
      teamId: "teamId" in target ? target.teamId : null,
      targetUserId: "userId" in target ? target.userId : null,
      authorId: userId,
      authorDeviceId: m.senderDeviceId,
      createdAt: row.createdAt,
      expiresAt,
      ciphertextBytes: checked.ciphertextBytes,
    };
    await recordAudit(tx, {
      teamId: share.teamId,
      actorId: userId,
      action: "share.created",
      targetType: "share",
      targetId: share.id,
      metadata: { targetUserId: share.targetUserId, recipients: checked.wraps.length, ciphertextBytes: share.ciphertextBytes },
    });
    await emit(shareEvents.created(share));
    return share;
  });
}
