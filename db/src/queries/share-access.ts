import { and, eq, exists, gt, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/pg-core";
import { shareRecipients, shares } from "../schema/shares.js";
import { teamMembers, teams } from "../schema/teams.js";

// Aliases keep these subqueries from capturing the outer statement's own tables.
const member = alias(teamMembers, "share_member");
const memberTeam = alias(teams, "share_member_team");
const mineWrap = alias(shareRecipients, "share_mine");
const qb = new QueryBuilder();

/** Not past its expiry: an expired share is gone for everyone, before the purge removes its rows. */
export function notExpired(): SQL {
  return or(isNull(shares.expiresAt), gt(shares.expiresAt, sql`now()`)) as SQL;
}

/** `userId` holds a wrapped key of the share on some device: they were encrypted to (or backfilled). */
export function isRecipient(userId: string): SQL {
  return exists(
    qb
      .select({ one: sql`1` })
      .from(mineWrap)
      .where(and(eq(mineWrap.shareId, shares.id), eq(mineWrap.userId, userId))),
  );
}

/** The share's team is live and `userId` belongs to it now: a removed member or a deleted team sees nothing. */
function inShareTeam(userId: string): SQL {
  return exists(
    qb
      .select({ one: sql`1` })
      .from(member)
      .innerJoin(memberTeam, eq(memberTeam.id, member.teamId))
      .where(and(eq(member.teamId, shares.teamId), eq(member.userId, userId), isNull(memberTeam.deletedAt))),
  );
}

/**
 * The one visibility rule of a share, as a condition on `shares`: not expired; `userId` is a
 * recipient; and for a team share they are a member of the live team now, for a direct share
 * they are its author or its target. Every read puts it in its `where`, so "not yours", "not
 * there" and "expired" are the same answer.
 */
export function shareVisibleTo(userId: string): SQL {
  return and(
    notExpired(),
    isRecipient(userId),
    or(
      and(isNotNull(shares.teamId), inShareTeam(userId)),
      and(isNotNull(shares.targetUserId), or(eq(shares.authorId, userId), eq(shares.targetUserId, userId))),
    ),
  ) as SQL;
}
