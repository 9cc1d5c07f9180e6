import {
  AppError,
  expectedRecipientDevices,
  explainTeamAccess,
  insertShare,
  insertShareWraps,
  isActiveDeviceOf,
  lockRecipientSet,
  readDeviceLogState,
  recordAudit,
  type ShareRouting,
  type Transaction,
  usersShareATeam,
} from "@osmynt/db";
import { type DeviceLogState, ShareError, verifyShareSignature } from "@osmynt/sdk/crypto";
import type { AppDeps } from "../deps.js";
import { withEvents } from "../trpc/with-events.js";
import { type CheckedShare, recipientDiff } from "./check-envelope.js";
import { shareEvents } from "./share-events.js";

type Target = { teamId: string } | { userId: string };

/**
 * The sender's signature, checked against the author's log as the server verified it (defence in
 * depth; readers check again). `state` is read under `lockRecipientSet`, which holds the author's
 * log too: a revocation cannot commit between this check and the share's commit.
 */
async function checkSignature(state: Record<string, unknown> | undefined, checked: CheckedShare): Promise<void> {
  if (!state) throw new AppError("PRECONDITION_FAILED", "You have no registered device: register one before sharing");
  try {
    await verifyShareSignature(checked.envelope, state as unknown as DeviceLogState);
  } catch (error) {
    if (error instanceof ShareError) throw new AppError("BAD_REQUEST", `envelope: ${error.message}`, { reason: error.reason });
    throw error;
  }
}

/** The author may share to `target`: a team they may view, or a user they share a live team with. */
async function checkTarget(tx: Transaction, target: Target, userId: string): Promise<void> {
  if ("teamId" in target) {
    await explainTeamAccess(tx, { teamId: target.teamId, userId, permission: "view" });
    return;
  }
  if (!(await usersShareATeam(tx, { userId, otherId: target.userId })))
    throw new AppError("NOT_FOUND", `User ${target.userId} not found among your teammates`, { userId: target.userId });
}

/**
 * Stores a checked share when its target allows it and its recipients are exactly the target's
 * active devices now; records `share.created` and an audit row in the same transaction.
 *
 * Round trips are what a create costs (the checks are cheap queries; each answer waited for costs
 * a write and a read on both ends), so the statements that do not need an earlier answer are sent
 * together: a transaction still runs them one after the other, in the order sent, and the first
 * failure fails the rest and is the one reported. Three batches: the locks and every read the
 * checks need; the share's row (its id may be taken) with the audit row; its wrapped keys with the
 * event (last, as recordEvents asks).
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
  if ("userId" in target && target.userId === userId)
    throw new AppError("BAD_REQUEST", "A direct share goes to another user; share with a team to reach only your own devices");

  return withEvents(deps, async (tx, emit) => {
    // The locks first, so that every read after them (the sender's device and log, the expected
    // devices) sees the recipient set as it stays until commit.
    const [, , senderActive, state, expected] = await Promise.all([
      lockRecipientSet(tx, { target, authorId: userId }),
      checkTarget(tx, target, userId),
      isActiveDeviceOf(tx, { userId, deviceId: m.senderDeviceId }),
      readDeviceLogState(tx, { userId }),
      expectedRecipientDevices(tx, { target, authorId: userId }),
    ]);
    if (!senderActive)
      throw new AppError("FORBIDDEN", `Device ${m.senderDeviceId} is not an active device of yours; it cannot share`, {
        deviceId: m.senderDeviceId,
      });
    await checkSignature(state, checked);
    const diff = recipientDiff(expected, checked.wraps);
    if (!diff.ok)
      throw new AppError(
        "PRECONDITION_FAILED",
        `recipients must be exactly the target's active devices: ${diff.missing.length} missing, ${diff.extra.length} extra, ${diff.stale.length} stale; refetch the device logs and seal again`,
        { missing: diff.missing, extra: diff.extra, stale: diff.stale },
      );
    const teamId = "teamId" in target ? target.teamId : null;
    const targetUserId = "userId" in target ? target.userId : null;
    const [row] = await Promise.all([
      insertShare(tx, {
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
      }),
      recordAudit(tx, {
        teamId,
        actorId: userId,
        action: "share.created",
        targetType: "share",
        targetId: m.shareId,
        metadata: { targetUserId, recipients: checked.wraps.length, ciphertextBytes: checked.ciphertextBytes },
      }),
    ]);
    const share: ShareRouting = {
      id: row.id,
      teamId,
      targetUserId,
      authorId: userId,
      authorDeviceId: m.senderDeviceId,
      createdAt: row.createdAt,
      expiresAt,
      ciphertextBytes: checked.ciphertextBytes,
    };
    await Promise.all([insertShareWraps(tx, { shareId: share.id, wraps: checked.wraps }), emit(shareEvents.created(share))]);
    return share;
  });
}
