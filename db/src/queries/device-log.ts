import { and, asc, count, eq, exists, isNull, or, type SQL, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/pg-core";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import {
  type DeviceKind,
  type DeviceLinkType,
  type DeviceStatus,
  deviceLinks,
  deviceLogs,
  devices,
  type StoredDeviceLink,
} from "../schema/devices.js";
import { teamMembers, teams } from "../schema/teams.js";
import { users } from "../schema/users.js";
import { teamScope } from "./team-access.js";

export type DeviceRow = typeof devices.$inferSelect;
export type { DeviceKind, DeviceLinkType, DeviceStatus, StoredDeviceLink };

/**
 * Serializes appends to one user's log: every append takes this row lock on the user first, so
 * the state it checks the new link against is still current when it inserts. `no key update`
 * leaves foreign-key checks of rows that merely reference the user unblocked.
 * Returns false when the user does not exist.
 */
export async function lockDeviceLog(tx: Transaction, params: { userId: string }): Promise<boolean> {
  const rows = await tx.select({ id: users.id }).from(users).where(eq(users.id, params.userId)).for("no key update");
  return rows.length > 0;
}

/** The user's whole log, oldest first: the signed links exactly as stored. */
export async function readDeviceLog(db: Executor, params: { userId: string }): Promise<StoredDeviceLink[]> {
  const rows = await db
    .select({ link: deviceLinks.link })
    .from(deviceLinks)
    .where(eq(deviceLinks.userId, params.userId))
    .orderBy(asc(deviceLinks.seq));
  return rows.map((r) => r.link);
}

/** What the server's verification concluded about the user's log so far; undefined before the root. */
export async function readDeviceLogState(db: Executor, params: { userId: string }): Promise<Record<string, unknown> | undefined> {
  const [row] = await db.select({ state: deviceLogs.state }).from(deviceLogs).where(eq(deviceLogs.userId, params.userId));
  return row?.state;
}

/** The user's devices as the log currently says (active and revoked), oldest first. */
export function listDevices(db: Executor, params: { userId: string }): Promise<DeviceRow[]> {
  return db.select().from(devices).where(eq(devices.userId, params.userId)).orderBy(asc(devices.addedSeq));
}

export async function countActiveDevices(db: Executor, params: { userId: string; kind: DeviceKind }): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(devices)
    .where(and(eq(devices.userId, params.userId), eq(devices.kind, params.kind), eq(devices.status, "active")));
  return row?.n ?? 0;
}

export interface DeviceState {
  deviceId: string;
  kind: DeviceKind;
  name: string;
  status: DeviceStatus;
  signingKey: string;
  kemKey: string | null;
  kemKeyId: string | null;
  addedAt: number;
  revokedAt: number | null;
}

export interface VerifiedAppend {
  userId: string;
  /** The signed link, stored as given (plain JSON). */
  link: { seq: number; type: DeviceLinkType; deviceId: string; signerDeviceId: string };
  hash: string;
  /** The state after this link, as the crypto core computed it. */
  state: Record<string, unknown>;
  /** The devices of that state, to copy into `devices`. */
  devices: readonly DeviceState[];
}

/**
 * Stores a link the caller verified against the state read under `lockDeviceLog`, with the state
 * it leads to and the devices that state describes. The primary key (user, seq) is the last word
 * on forks: should two appends ever reach this point for one seq, the second is refused here.
 */
export async function appendDeviceLink(tx: Transaction, params: VerifiedAppend): Promise<void> {
  const { link } = params;
  const inserted = await tx
    .insert(deviceLinks)
    .values({
      userId: params.userId,
      seq: link.seq,
      type: link.type,
      deviceId: link.deviceId,
      signerDeviceId: link.signerDeviceId,
      hash: params.hash,
      link: link as StoredDeviceLink,
    })
    .onConflictDoNothing()
    .returning({ seq: deviceLinks.seq });
  if (inserted.length === 0)
    throw new AppError("CONFLICT", `The device log already has a link at seq ${link.seq}; fetch the log and build on its head`, {
      seq: link.seq,
      reason: "wrong_seq",
    });
  await tx
    .insert(deviceLogs)
    .values({ userId: params.userId, headSeq: link.seq, state: params.state })
    .onConflictDoUpdate({ target: deviceLogs.userId, set: { headSeq: link.seq, state: params.state, updatedAt: sql`now()` } });
  for (const d of params.devices) {
    const values = {
      kind: d.kind,
      name: d.name,
      status: d.status,
      signingKey: d.signingKey,
      kemKey: d.kemKey,
      kemKeyId: d.kemKeyId,
      addedSeq: d.addedAt,
      revokedSeq: d.revokedAt,
    };
    await tx
      .insert(devices)
      .values({ userId: params.userId, id: d.deviceId, ...values })
      .onConflictDoUpdate({ target: [devices.userId, devices.id], set: { ...values, updatedAt: sql`now()` } });
  }
}

const mine = alias(teamMembers, "mine");
const theirs = alias(teamMembers, "theirs");
const sharedTeam = alias(teams, "shared_team");
const qb = new QueryBuilder();

/**
 * `viewerId` may see `userId`'s keys: it is themselves, or they share a live team. Used inside the
 * `where` of the read, so "not visible" and "no such user" are one answer.
 */
export function sharesATeam(params: { viewerId: string; userId: string }): SQL {
  return exists(
    qb
      .select({ one: sql`1` })
      .from(mine)
      .innerJoin(theirs, eq(theirs.teamId, mine.teamId))
      .innerJoin(sharedTeam, eq(sharedTeam.id, mine.teamId))
      .where(and(eq(mine.userId, params.viewerId), eq(theirs.userId, params.userId), isNull(sharedTeam.deletedAt))),
  );
}

function visibleTo(viewerId: string, userId: string): SQL {
  return or(eq(users.id, viewerId), sharesATeam({ viewerId, userId })) as SQL;
}

/**
 * Another user's log, if `viewerId` may see it (the same user, or a teammate in a live team);
 * NOT_FOUND otherwise, the same answer as for a user who does not exist.
 */
export async function readDeviceLogFor(db: Executor, params: { viewerId: string; userId: string }): Promise<StoredDeviceLink[]> {
  const rows = await db
    .select({ userId: users.id, link: deviceLinks.link })
    .from(users)
    .leftJoin(deviceLinks, eq(deviceLinks.userId, users.id))
    .where(and(eq(users.id, params.userId), visibleTo(params.viewerId, params.userId)))
    .orderBy(asc(deviceLinks.seq));
  if (rows.length === 0) throw new AppError("NOT_FOUND", `User ${params.userId} not found among your teammates`, { userId: params.userId });
  return rows.flatMap((r) => (r.link ? [r.link] : []));
}

/**
 * Every member's log in a team the viewer belongs to, keyed by member (members without devices
 * get an empty log). The team scope is in the `where`: a team the viewer is not in reads as empty,
 * which the caller reports as NOT_FOUND.
 */
export async function readDeviceLogsForTeam(
  db: Executor,
  params: { teamId: string; viewerId: string },
): Promise<{ userId: string; links: StoredDeviceLink[] }[]> {
  const rows = await db
    .select({ userId: teamMembers.userId, link: deviceLinks.link })
    .from(teamMembers)
    .leftJoin(deviceLinks, eq(deviceLinks.userId, teamMembers.userId))
    .where(and(eq(teamMembers.teamId, params.teamId), teamScope({ teamId: params.teamId, userId: params.viewerId, permission: "view" })))
    .orderBy(asc(teamMembers.joinedAt), asc(teamMembers.userId), asc(deviceLinks.seq));
  const byUser = new Map<string, StoredDeviceLink[]>();
  for (const row of rows) {
    const links = byUser.get(row.userId) ?? [];
    if (row.link) links.push(row.link);
    byUser.set(row.userId, links);
  }
  return [...byUser].map(([userId, links]) => ({ userId, links }));
}
