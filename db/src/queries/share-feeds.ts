import { and, count, desc, eq, exists, inArray, isNotNull, isNull, lt, ne, notExists, or, type SQL, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/pg-core";
import type { Executor } from "../client.js";
import { devices } from "../schema/devices.js";
import { shareReads, shareRecipients, shares } from "../schema/shares.js";
import { teamMembers, teams } from "../schema/teams.js";
import { shareVisibleTo } from "./share-access.js";
import { teamScope } from "./team-access.js";

const myRead = alias(shareReads, "my_read");
const qb = new QueryBuilder();

/** `userId` has marked the share read. */
function readBy(userId: string): SQL {
  return exists(
    qb
      .select({ one: sql`1` })
      .from(myRead)
      .where(and(eq(myRead.shareId, shares.id), eq(myRead.userId, userId))),
  );
}

export interface ShareHeader {
  id: string;
  teamId: string | null;
  targetUserId: string | null;
  authorId: string;
  authorDeviceId: string;
  createdAt: Date;
  expiresAt: Date | null;
  ciphertextBytes: number;
  unread: boolean;
}

export interface SharePage {
  items: ShareHeader[];
  /** Pass back to get the next (older) page; null at the end. */
  nextCursor: string | null;
}

/**
 * One page of headers, newest first. The cursor is the feed position (`seq`) of the last item
 * handed out and the next page starts strictly below it, so paging never repeats an item, and
 * an item that existed when paging began is never skipped whatever is inserted or deleted
 * meanwhile (new shares land above the cursor; deletions only remove).
 */
async function page(db: Executor, userId: string, where: SQL, cursor: number | null, limit: number): Promise<SharePage> {
  const rows = await db
    .select({
      seq: shares.seq,
      id: shares.id,
      teamId: shares.teamId,
      targetUserId: shares.targetUserId,
      authorId: shares.authorId,
      authorDeviceId: shares.authorDeviceId,
      createdAt: shares.createdAt,
      expiresAt: shares.expiresAt,
      ciphertextBytes: shares.ciphertextBytes,
      read: readBy(userId),
    })
    .from(shares)
    .where(and(where, shareVisibleTo(userId), cursor === null ? undefined : lt(shares.seq, cursor)))
    .orderBy(desc(shares.seq))
    .limit(limit + 1);
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return {
    items: kept.map(({ seq: _seq, read, ...h }) => ({ ...h, unread: h.authorId !== userId && !read })),
    nextCursor: more ? String(kept[kept.length - 1]?.seq) : null,
  };
}

/** A team's feed as its member `userId` sees it (the team scope is in the `where`); optionally one author's shares. */
export function listTeamShares(
  db: Executor,
  params: { teamId: string; userId: string; authorId?: string | undefined; cursor: number | null; limit: number },
): Promise<SharePage> {
  const where = and(
    eq(shares.teamId, params.teamId),
    teamScope({ teamId: params.teamId, userId: params.userId, permission: "view" }),
    params.authorId ? eq(shares.authorId, params.authorId) : undefined,
  ) as SQL;
  return page(db, params.userId, where, params.cursor, params.limit);
}

/** The direct shares between `userId` and `peerId`, both ways. */
export function listDirectShares(
  db: Executor,
  params: { userId: string; peerId: string; cursor: number | null; limit: number },
): Promise<SharePage> {
  const where = or(
    and(eq(shares.authorId, params.userId), eq(shares.targetUserId, params.peerId)),
    and(eq(shares.authorId, params.peerId), eq(shares.targetUserId, params.userId)),
  ) as SQL;
  return page(db, params.userId, where, params.cursor, params.limit);
}

/** Unread counts: per live team the user is in, and per user who sent them direct shares. Shares by the user never count. */
export async function countUnread(
  db: Executor,
  params: { userId: string },
): Promise<{ teams: { teamId: string; unread: number }[]; direct: { userId: string; unread: number }[] }> {
  const unread = and(shareVisibleTo(params.userId), ne(shares.authorId, params.userId), sql`not ${readBy(params.userId)}`) as SQL;
  const myTeams = qb
    .select({ id: teamMembers.teamId })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(and(eq(teamMembers.userId, params.userId), isNull(teams.deletedAt)));
  const teamRows = await db
    .select({ teamId: shares.teamId, unread: count() })
    .from(shares)
    .where(and(inArray(shares.teamId, myTeams), unread))
    .groupBy(shares.teamId);
  const directRows = await db
    .select({ userId: shares.authorId, unread: count() })
    .from(shares)
    .where(and(isNotNull(shares.targetUserId), eq(shares.targetUserId, params.userId), unread))
    .groupBy(shares.authorId);
  return {
    teams: teamRows.flatMap((r) => (r.teamId ? [{ teamId: r.teamId, unread: r.unread }] : [])),
    direct: directRows.map((r) => ({ userId: r.userId, unread: r.unread })),
  };
}

/**
 * Marks shares read for `userId`: the given ids, or every share of a team feed or direct thread.
 * Only shares they may see are marked (the visibility rule is in the insert's select); returns
 * how many were newly marked.
 */
export async function markSharesRead(
  db: Executor,
  params: { userId: string } & ({ shareIds: string[] } | { teamId: string } | { peerId: string }),
): Promise<number> {
  const { userId } = params;
  let scope: SQL;
  if ("shareIds" in params) scope = inArray(shares.id, params.shareIds);
  else if ("teamId" in params)
    scope = and(eq(shares.teamId, params.teamId), teamScope({ teamId: params.teamId, userId, permission: "view" })) as SQL;
  else
    scope = or(
      and(eq(shares.authorId, userId), eq(shares.targetUserId, params.peerId)),
      and(eq(shares.authorId, params.peerId), eq(shares.targetUserId, userId)),
    ) as SQL;
  const visible = await db
    .select({ id: shares.id })
    .from(shares)
    .where(and(scope, shareVisibleTo(userId)));
  if (visible.length === 0) return 0;
  const marked = await db
    .insert(shareReads)
    .values(visible.map((s) => ({ userId, shareId: s.id })))
    .onConflictDoNothing()
    .returning({ shareId: shareReads.shareId });
  return marked.length;
}

const heldBy = alias(shareRecipients, "held_by");
const ownDevice = alias(devices, "own_device");
const ownWrap = alias(shareRecipients, "own_wrap");

/**
 * Backfill work for one of `userId`'s devices: shares it holds a key of while another active
 * device of the same user holds none (a device added since). Newest first, keyset-paged like the feeds.
 */
export async function listSharesNeedingForward(
  db: Executor,
  params: { userId: string; deviceId: string; cursor: number | null; limit: number },
): Promise<{ ids: string[]; nextCursor: string | null }> {
  const lacking = qb
    .select({ one: sql`1` })
    .from(ownDevice)
    .where(
      and(
        eq(ownDevice.userId, params.userId),
        eq(ownDevice.status, "active"),
        eq(ownDevice.kind, "device"),
        notExists(
          qb
            .select({ one: sql`1` })
            .from(ownWrap)
            .where(and(eq(ownWrap.shareId, shares.id), eq(ownWrap.userId, params.userId), eq(ownWrap.deviceId, ownDevice.id))),
        ),
      ),
    );
  const held = qb
    .select({ one: sql`1` })
    .from(heldBy)
    .where(and(eq(heldBy.shareId, shares.id), eq(heldBy.userId, params.userId), eq(heldBy.deviceId, params.deviceId)));
  const rows = await db
    .select({ seq: shares.seq, id: shares.id })
    .from(shares)
    .where(
      and(shareVisibleTo(params.userId), exists(held), exists(lacking), params.cursor === null ? undefined : lt(shares.seq, params.cursor)),
    )
    .orderBy(desc(shares.seq))
    .limit(params.limit + 1);
  const more = rows.length > params.limit;
  const kept = more ? rows.slice(0, params.limit) : rows;
  return { ids: kept.map((r) => r.id), nextCursor: more ? String(kept[kept.length - 1]?.seq) : null };
}
