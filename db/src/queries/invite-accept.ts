import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { teamInvites } from "../schema/invites.js";
import { type TeamRole, teamMembers, teams } from "../schema/teams.js";
import { hashToken } from "../tokens.js";
import { type InviteStatus, inviteStatus } from "./invites.js";

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

/**
 * Joins the invite's team (run under `lockTeam`). A current member gets their membership back and
 * spends nothing. Otherwise one use is claimed by a single conditional update, so of N concurrent
 * accepts of a one-use invite exactly one gets a row back; the rest are told it is used up.
 */
export async function acceptInvite(
  tx: Transaction,
  params: { inviteId: string; teamId: string; userId: string },
): Promise<{ joined: boolean; role: TeamRole }> {
  const [member] = await tx
    .select({ role: teamMembers.role })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(and(eq(teamMembers.teamId, params.teamId), eq(teamMembers.userId, params.userId), isNull(teams.deletedAt)));
  if (member) return { joined: false, role: member.role };
  const liveTeam = sql`exists (select 1 from ${teams} where ${teams.id} = ${params.teamId} and ${teams.deletedAt} is null)`;
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
        liveTeam,
      ),
    )
    .returning({ role: teamInvites.role });
  if (!claimed) {
    const [invite] = await tx
      .select({ status: inviteStatus, teamDeletedAt: teams.deletedAt })
      .from(teamInvites)
      .innerJoin(teams, eq(teams.id, teamInvites.teamId))
      .where(and(eq(teamInvites.id, params.inviteId), eq(teamInvites.teamId, params.teamId)));
    if (!invite || invite.teamDeletedAt) throw new AppError("NOT_FOUND", "This invite's team no longer exists");
    const reason = invite.status === "active" ? "usedUp" : invite.status;
    throw new AppError("PRECONDITION_FAILED", refusals[reason], { reason });
  }
  const joined = await tx
    .insert(teamMembers)
    .values({ teamId: params.teamId, userId: params.userId, role: claimed.role })
    .onConflictDoNothing()
    .returning({ role: teamMembers.role });
  if (joined.length === 0) throw new Error("membership appeared under the team lock");
  return { joined: true, role: claimed.role };
}
