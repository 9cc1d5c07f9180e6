import { and, eq, exists, gte, inArray, isNull, not, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/pg-core";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { teamInvites } from "../schema/invites.js";
import { type TeamRole, teamMembers, teamRemovals, teams } from "../schema/teams.js";
import { hashToken } from "../tokens.js";
import { type InviteStatus, inviteStatus } from "./invites.js";
import { assertRoomForTeam } from "./memberships.js";
import { teamPermissions } from "./team-access.js";

/** The invite a token names, if any: the token itself is the capability, so it is looked up by hash. */
export async function findInviteByToken(db: Executor, params: { token: string }): Promise<{ id: string; teamId: string } | undefined> {
  const [row] = await db
    .select({ id: teamInvites.id, teamId: teamInvites.teamId })
    .from(teamInvites)
    .where(eq(teamInvites.tokenHash, hashToken(params.token)));
  return row;
}

const refusals: Record<Exclude<InviteStatus, "active">, string> = {
  revoked: "This invite has been revoked; ask the team for a new one",
  usedUp: "This invite has already been used as many times as it allows; ask the team for a new one",
  expired: "This invite has expired; ask the team for a new one",
};

const creator = alias(teamMembers, "creator");
const qb = new QueryBuilder();

/**
 * Defense in depth behind `revokeInvitesOfCreator`: the invite's creator must still be in the team
 * in a role that may invite, whatever happened to the invite row.
 */
const creatorMayInvite = exists(
  qb
    .select({ one: sql`1` })
    .from(creator)
    .where(
      and(
        eq(creator.teamId, teamInvites.teamId),
        eq(creator.userId, teamInvites.createdBy),
        inArray(creator.role, [...teamPermissions.manageInvites.roles]),
      ),
    ),
);

/** `userId` was removed from the team at or after the invite was created. */
const removedSince = (teamId: string, userId: string) =>
  exists(
    qb
      .select({ one: sql`1` })
      .from(teamRemovals)
      .where(and(eq(teamRemovals.teamId, teamId), eq(teamRemovals.userId, userId), gte(teamRemovals.removedAt, teamInvites.createdAt))),
  );

/** Says why a claim matched nothing, most fundamental reason first. */
async function refuse(tx: Transaction, params: { inviteId: string; teamId: string; userId: string }): Promise<never> {
  const [invite] = await tx
    .select({
      status: inviteStatus,
      teamDeletedAt: teams.deletedAt,
      personal: teams.personal,
      removed: removedSince(params.teamId, params.userId),
      creatorMayInvite,
    })
    .from(teamInvites)
    .innerJoin(teams, eq(teams.id, teamInvites.teamId))
    .where(and(eq(teamInvites.id, params.inviteId), eq(teamInvites.teamId, params.teamId)));
  if (!invite || invite.teamDeletedAt) throw new AppError("NOT_FOUND", "This invite's team no longer exists");
  if (invite.personal)
    throw new AppError("PRECONDITION_FAILED", "A personal team takes no members; ask for an invite to a shared team", {
      reason: "personalTeam",
    });
  if (invite.status !== "active") throw new AppError("PRECONDITION_FAILED", refusals[invite.status], { reason: invite.status });
  if (invite.removed)
    throw new AppError(
      "FORBIDDEN",
      "You were removed from this team after this invite was created; only an invite created after your removal lets you rejoin",
      { reason: "removedAfterInvite" },
    );
  if (!invite.creatorMayInvite)
    throw new AppError(
      "PRECONDITION_FAILED",
      "The member who created this invite is no longer allowed to invite to this team; ask the team for a new one",
      { reason: "creatorLostAccess" },
    );
  // Everything held when re-read: a concurrent accept took the last use in between.
  throw new AppError("PRECONDITION_FAILED", refusals.usedUp, { reason: "usedUp" });
}

/**
 * Joins the invite's team (run under `lockTeam`). A current member gets their membership back and
 * spends nothing. Otherwise one use is claimed by a single conditional update, so of N concurrent
 * accepts of a one-use invite exactly one gets a row back; the rest are told it is used up. The
 * same update refuses personal teams, a user removed since the invite was created, and an invite
 * whose creator may no longer invite.
 */
export async function acceptInvite(
  tx: Transaction,
  params: { inviteId: string; teamId: string; userId: string; maxTeamsPerUser: number },
): Promise<{ joined: boolean; role: TeamRole }> {
  const [member] = await tx
    .select({ role: teamMembers.role })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(and(eq(teamMembers.teamId, params.teamId), eq(teamMembers.userId, params.userId), isNull(teams.deletedAt)));
  if (member) return { joined: false, role: member.role };
  await assertRoomForTeam(tx, { userId: params.userId, limit: params.maxTeamsPerUser });
  const liveSharedTeam = sql`exists (select 1 from ${teams} where ${teams.id} = ${params.teamId} and ${teams.deletedAt} is null and not ${teams.personal})`;
  const [claimed] = await tx
    .update(teamInvites)
    .set({ uses: sql`${teamInvites.uses} + 1` })
    .where(
      and(
        eq(teamInvites.id, params.inviteId),
        eq(teamInvites.teamId, params.teamId),
        isNull(teamInvites.revokedAt),
        sql`${teamInvites.expiresAt} > now()`,
        sql`${teamInvites.uses} < ${teamInvites.maxUses}`,
        liveSharedTeam,
        creatorMayInvite,
        not(removedSince(params.teamId, params.userId)),
      ),
    )
    .returning({ role: teamInvites.role });
  if (!claimed) return refuse(tx, { inviteId: params.inviteId, teamId: params.teamId, userId: params.userId });
  const joined = await tx
    .insert(teamMembers)
    .values({ teamId: params.teamId, userId: params.userId, role: claimed.role })
    .onConflictDoNothing()
    .returning({ role: teamMembers.role });
  if (joined.length === 0) throw new Error("membership appeared under the team lock");
  return { joined: true, role: claimed.role };
}
