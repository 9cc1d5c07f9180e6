import { and, eq, inArray, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { Database, Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { devices } from "../schema/devices.js";
import { type StoredForward, type StoredManifest, shareForwards, shareRecipients, shares } from "../schema/shares.js";
import { teamMembers, teams } from "../schema/teams.js";
import { users } from "../schema/users.js";
import { sharesATeam } from "./device-log.js";
import { shareVisibleTo } from "./share-access.js";
import { teamScope } from "./team-access.js";

export type ShareTarget = { teamId: string } | { userId: string };

export interface DeviceKey {
  userId: string;
  deviceId: string;
  kemKeyId: string;
}

export interface NewWrap extends DeviceKey {
  enc: string;
  wrappedKey: string;
}

/** Active devices (never the recovery key, which receives nothing) of the given users, or of every member of a team. */
async function activeDevicesWhere(db: Executor, where: SQL, teamId?: string): Promise<DeviceKey[]> {
  const base = db.select({ userId: devices.userId, deviceId: devices.id, kemKeyId: devices.kemKeyId }).from(devices).$dynamic();
  const rows = teamId
    ? await base.innerJoin(teamMembers, and(eq(teamMembers.userId, devices.userId), eq(teamMembers.teamId, teamId))).where(where)
    : await base.where(where);
  return rows.flatMap((r) => (r.kemKeyId ? [{ userId: r.userId, deviceId: r.deviceId, kemKeyId: r.kemKeyId }] : []));
}

const isActiveDevice = and(eq(devices.status, "active"), eq(devices.kind, "device")) as SQL;

/**
 * Holds the recipient set of a share to `target` still until the transaction ends: FOR SHARE on
 * the team's row (membership changes take `lockTeam`) and on each recipient user's row (device-log
 * appends take `lockDeviceLog`), users in id order. Without it a device or member committed while
 * the share is being stored could be missed by `expectedRecipientDevices`, leaving that device
 * without a key although its add came first. Plain row locks, so PGlite and PostgreSQL agree.
 *
 * Both statements are sent at once (a transaction runs them one after the other, in this order):
 * the members are read by the second statement, whose snapshot is taken once the team's lock is
 * held, so no membership change can slip in between. Statements the caller sends right after
 * (the expected devices, the sender's log) run under both locks.
 */
export async function lockRecipientSet(tx: Transaction, params: { target: ShareTarget; authorId: string }): Promise<void> {
  if ("teamId" in params.target) {
    const { teamId } = params.target;
    const members = tx.select({ userId: teamMembers.userId }).from(teamMembers).where(eq(teamMembers.teamId, teamId));
    await Promise.all([
      tx.select({ id: teams.id }).from(teams).where(eq(teams.id, teamId)).for("share"),
      tx.select({ id: users.id }).from(users).where(inArray(users.id, members)).orderBy(users.id).for("share"),
    ]);
    return;
  }
  const userIds = [params.authorId, params.target.userId];
  await tx.select({ id: users.id }).from(users).where(inArray(users.id, userIds)).orderBy(users.id).for("share");
}

/**
 * Every device a share to `target` must be encrypted to right now: each active device of each
 * member of the live team (the caller must be one), or of both users of a direct share.
 */
export function expectedRecipientDevices(db: Executor, params: { target: ShareTarget; authorId: string }): Promise<DeviceKey[]> {
  if ("teamId" in params.target) {
    const { teamId } = params.target;
    return activeDevicesWhere(db, and(isActiveDevice, teamScope({ teamId, userId: params.authorId, permission: "view" })) as SQL, teamId);
  }
  return activeDevicesWhere(db, and(isActiveDevice, inArray(devices.userId, [params.authorId, params.target.userId])) as SQL);
}

/** The active devices of the given users (to check who a backfill may add). */
export function activeDevicesOf(db: Executor, params: { userIds: string[] }): Promise<DeviceKey[]> {
  if (params.userIds.length === 0) return Promise.resolve([]);
  return activeDevicesWhere(db, and(isActiveDevice, inArray(devices.userId, params.userIds)) as SQL);
}

/** Whether `deviceId` is an active device (not the recovery key) of `userId`. */
export async function isActiveDeviceOf(db: Executor, params: { userId: string; deviceId: string }): Promise<boolean> {
  const rows = await db
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.userId, params.userId), eq(devices.id, params.deviceId), isActiveDevice));
  return rows.length > 0;
}

export interface NewShare {
  id: string;
  target: ShareTarget;
  authorId: string;
  authorDeviceId: string;
  suite: string;
  nonce: string;
  ciphertext: string;
  ciphertextBytes: number;
  manifest: StoredManifest;
  signature: string;
  expiresAt: Date | null;
}

/** Stores a share's row (its wrapped keys go with `insertShareWraps`); an id already taken is a CONFLICT (ids are chosen and signed by the author). */
export async function insertShare(tx: Transaction, params: NewShare): Promise<{ id: string; seq: number; createdAt: Date }> {
  const [row] = await tx
    .insert(shares)
    .values({
      id: params.id,
      teamId: "teamId" in params.target ? params.target.teamId : null,
      targetUserId: "userId" in params.target ? params.target.userId : null,
      authorId: params.authorId,
      authorDeviceId: params.authorDeviceId,
      suite: params.suite,
      nonce: params.nonce,
      ciphertext: params.ciphertext,
      ciphertextBytes: params.ciphertextBytes,
      manifest: params.manifest,
      signature: params.signature,
      expiresAt: params.expiresAt,
    })
    .onConflictDoNothing({ target: shares.id })
    .returning({ id: shares.id, seq: shares.seq, createdAt: shares.createdAt });
  if (!row)
    throw new AppError("CONFLICT", `Share id ${params.id} is already taken; seal the share again under a new id`, { id: params.id });
  return row;
}

/** Stores the wrapped keys of a share just inserted by `insertShare` in the same transaction. */
export async function insertShareWraps(tx: Transaction, params: { shareId: string; wraps: NewWrap[] }): Promise<void> {
  if (params.wraps.length === 0) return;
  await tx.insert(shareRecipients).values(params.wraps.map((w) => ({ shareId: params.shareId, ...w })));
}

export interface ShareRouting {
  id: string;
  teamId: string | null;
  targetUserId: string | null;
  authorId: string;
  authorDeviceId: string;
  createdAt: Date;
  expiresAt: Date | null;
  ciphertextBytes: number;
}

const routingColumns = {
  id: shares.id,
  teamId: shares.teamId,
  targetUserId: shares.targetUserId,
  authorId: shares.authorId,
  authorDeviceId: shares.authorDeviceId,
  createdAt: shares.createdAt,
  expiresAt: shares.expiresAt,
  ciphertextBytes: shares.ciphertextBytes,
} as const;

/** The routing data of a share `userId` may see; NOT_FOUND otherwise (missing, expired, not theirs: one answer). */
export async function getVisibleShare(db: Executor, params: { id: string; userId: string }): Promise<ShareRouting> {
  const [row] = await db
    .select(routingColumns)
    .from(shares)
    .where(and(eq(shares.id, params.id), shareVisibleTo(params.userId)));
  if (!row) throw new AppError("NOT_FOUND", `Share ${params.id} not found`, { id: params.id });
  return row;
}

/** The signed manifest of a share `userId` may see (to check a forward against it); NOT_FOUND otherwise. */
export async function getVisibleManifest(db: Executor, params: { id: string; userId: string }): Promise<StoredManifest> {
  const [row] = await db
    .select({ manifest: shares.manifest })
    .from(shares)
    .where(and(eq(shares.id, params.id), shareVisibleTo(params.userId)));
  if (!row) throw new AppError("NOT_FOUND", `Share ${params.id} not found`, { id: params.id });
  return row.manifest;
}

export interface ShareForDevice extends ShareRouting {
  envelope: { suite: string; nonce: string; ciphertext: string; manifest: StoredManifest; signature: string };
  wrap: (DeviceKey & { enc: string; wrappedKey: string }) | null;
  forward: StoredForward | null;
}

/**
 * The envelope and only `deviceId`'s wrapped key. Visibility first (NOT_FOUND for everyone who
 * may not see the share); then the device must be an active device of the caller: a revoked
 * device gets FORBIDDEN and never a key. `wrap` is null for a device not yet backfilled.
 */
export async function getShareForDevice(db: Executor, params: { id: string; userId: string; deviceId: string }): Promise<ShareForDevice> {
  const [row] = await db
    .select({
      ...routingColumns,
      suite: shares.suite,
      nonce: shares.nonce,
      ciphertext: shares.ciphertext,
      manifest: shares.manifest,
      signature: shares.signature,
    })
    .from(shares)
    .where(and(eq(shares.id, params.id), shareVisibleTo(params.userId)));
  if (!row) throw new AppError("NOT_FOUND", `Share ${params.id} not found`, { id: params.id });
  if (!(await isActiveDeviceOf(db, params)))
    throw new AppError("FORBIDDEN", `Device ${params.deviceId} is not an active device of yours; revoked devices get no keys`, {
      deviceId: params.deviceId,
    });
  const [wrap] = await db
    .select({
      userId: shareRecipients.userId,
      deviceId: shareRecipients.deviceId,
      kemKeyId: shareRecipients.kemKeyId,
      enc: shareRecipients.enc,
      wrappedKey: shareRecipients.wrappedKey,
      forward: shareForwards.record,
    })
    .from(shareRecipients)
    .leftJoin(shareForwards, eq(shareForwards.id, shareRecipients.forwardId))
    .where(
      and(eq(shareRecipients.shareId, row.id), eq(shareRecipients.userId, params.userId), eq(shareRecipients.deviceId, params.deviceId)),
    );
  const { suite, nonce, ciphertext, manifest, signature, ...routing } = row;
  return {
    ...routing,
    envelope: { suite, nonce, ciphertext, manifest, signature },
    wrap: wrap
      ? { userId: wrap.userId, deviceId: wrap.deviceId, kemKeyId: wrap.kemKeyId, enc: wrap.enc, wrappedKey: wrap.wrappedKey }
      : null,
    forward: wrap?.forward ?? null,
  };
}

/**
 * Drops every wrapped key held for a device (at its revocation): the server hands a revoked device
 * nothing anyway, and keeping keys wrapped to a device that may be lost or stolen serves no one.
 */
export async function deleteDeviceWraps(tx: Transaction, params: { userId: string; deviceId: string }): Promise<number> {
  const gone = await tx
    .delete(shareRecipients)
    .where(and(eq(shareRecipients.userId, params.userId), eq(shareRecipients.deviceId, params.deviceId)))
    .returning({ shareId: shareRecipients.shareId });
  return gone.length;
}

/** Who already holds a wrapped key of the share (user, device). */
export async function listShareWrapHolders(db: Executor, params: { shareId: string }): Promise<{ userId: string; deviceId: string }[]> {
  return db
    .select({ userId: shareRecipients.userId, deviceId: shareRecipients.deviceId })
    .from(shareRecipients)
    .where(eq(shareRecipients.shareId, params.shareId));
}

/** Stores a forward record and the wraps it brings, skipping devices that already hold a key. */
export async function insertForward(
  tx: Transaction,
  params: { shareId: string; forwarderUserId: string; forwarderDeviceId: string; record: StoredForward; wraps: NewWrap[] },
): Promise<DeviceKey[]> {
  const [forward] = await tx
    .insert(shareForwards)
    .values({
      shareId: params.shareId,
      forwarderUserId: params.forwarderUserId,
      forwarderDeviceId: params.forwarderDeviceId,
      record: params.record,
    })
    .returning({ id: shareForwards.id });
  if (!forward) throw new Error("forward insert returned nothing");
  if (params.wraps.length === 0) return [];
  return tx
    .insert(shareRecipients)
    .values(params.wraps.map((w) => ({ shareId: params.shareId, ...w, forwardId: forward.id })))
    .onConflictDoNothing()
    .returning({ userId: shareRecipients.userId, deviceId: shareRecipients.deviceId, kemKeyId: shareRecipients.kemKeyId });
}

/**
 * Deletes a share the caller may delete: its author, or an owner or admin of its live team. The
 * rule is in the `where` of the delete itself. Returns the routing of the deleted share (for its
 * event) and the users who held keys.
 */
export async function deleteShare(
  tx: Transaction,
  params: { id: string; userId: string },
): Promise<{ share: ShareRouting; recipientUserIds: string[] }> {
  const share = await getVisibleShare(tx, params);
  const holders = await listShareWrapHolders(tx, { shareId: share.id });
  const mayModerate = share.teamId ? teamScope({ teamId: share.teamId, userId: params.userId, permission: "moderateShares" }) : sql`false`;
  const deleted = await tx
    .delete(shares)
    .where(and(eq(shares.id, share.id), sql`(${shares.authorId} = ${params.userId} or ${mayModerate})`))
    .returning({ id: shares.id });
  if (deleted.length === 0)
    throw new AppError("FORBIDDEN", "Only the share's author, or an owner or admin of its team, may delete it", { id: share.id });
  return { share, recipientUserIds: [...new Set(holders.map((h) => h.userId))] };
}

/**
 * Removes the rows of shares past their expiry, up to `limit` per call (their wraps, forwards
 * and read marks go with them). They were already invisible; this reclaims the space.
 */
export async function purgeExpiredShares(db: Database, params: { limit: number }): Promise<number> {
  const doomed = db.select({ id: shares.id }).from(shares).where(lte(shares.expiresAt, sql`now()`)).limit(params.limit);
  const gone = await db.delete(shares).where(inArray(shares.id, doomed)).returning({ id: shares.id });
  return gone.length;
}

/** Whether two users share a live team (direct shares are allowed only then). */
export async function usersShareATeam(db: Executor, params: { userId: string; otherId: string }): Promise<boolean> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, params.otherId), sharesATeam({ viewerId: params.userId, userId: params.otherId })));
  return rows.length > 0;
}

/** The current members of a live team (who a team share's author may still bring in by backfill). */
export async function listTeamMemberIds(db: Executor, params: { teamId: string }): Promise<string[]> {
  const rows = await db
    .select({ userId: teamMembers.userId })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(and(eq(teamMembers.teamId, params.teamId), isNull(teams.deletedAt)));
  return rows.map((r) => r.userId);
}
