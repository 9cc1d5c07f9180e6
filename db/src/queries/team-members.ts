import { and, eq, exists, ne, not, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/pg-core";
import type { Transaction } from "../client.js";
import { AppError } from "../errors.js";
import type { InviteRole } from "../schema/invites.js";
import { type TeamRole, teamMembers, teamRemovals, teams } from "../schema/teams.js";
import { explainTeamAccess, type TeamPermission, teamScope } from "./team-access.js";

// Membership changes run under `lockTeam` (see team-access.ts); each write carries the team scope.

const before = alias(teamMembers, "before");
const target = alias(teamMembers, "target");
const qb = new QueryBuilder();

/** Why an action on `userId` matched nothing once the caller's own access is known to be fine. */
async function explainTarget(
  tx: Transaction,
  params: { teamId: string; actorId: string; userId: string; permission: TeamPermission },
): Promise<TeamRole> {
  const [row] = await tx
    .select({ role: teamMembers.role })
    .from(teamMembers)
    .where(
      and(
        eq(teamMembers.teamId, params.teamId),
        eq(teamMembers.userId, params.userId),
        teamScope({ teamId: params.teamId, userId: params.actorId, permission: params.permission }),
      ),
    );
  if (!row) throw new AppError("NOT_FOUND", `User ${params.userId} is not a member of team ${params.teamId}`, { userId: params.userId });
  return row.role;
}

/** Removes a member or admin (owner or admin acting); nobody removes the owner. */
export async function removeMember(
  tx: Transaction,
  params: { teamId: string; actorId: string; userId: string },
): Promise<{ role: TeamRole }> {
  if (params.userId === params.actorId) throw new AppError("BAD_REQUEST", "To leave a team yourself, call teams.leave");
  const [row] = await tx
    .delete(teamMembers)
    .where(
      and(
        eq(teamMembers.teamId, params.teamId),
        eq(teamMembers.userId, params.userId),
        ne(teamMembers.role, "owner"),
        teamScope({ teamId: params.teamId, userId: params.actorId, permission: "manageMembers" }),
      ),
    )
    .returning({ role: teamMembers.role });
  if (row) {
    // Remembered so that no invite created before this moment lets them back in (invite-accept.ts).
    await tx
      .insert(teamRemovals)
      .values({ teamId: params.teamId, userId: params.userId })
      .onConflictDoUpdate({ target: [teamRemovals.teamId, teamRemovals.userId], set: { removedAt: sql`now()` } });
    return row;
  }
  await explainTeamAccess(tx, { teamId: params.teamId, userId: params.actorId, permission: "manageMembers" });
  await explainTarget(tx, { ...params, permission: "manageMembers" });
  throw new AppError("FORBIDDEN", "Nobody removes the team's owner; the owner may transfer ownership and then leave");
}

/**
 * Sets a non-owner's role to admin or member. Setting the role someone already has changes
 * nothing and reports `changed: false`, so a retried call is harmless.
 */
export async function setMemberRole(
  tx: Transaction,
  params: { teamId: string; actorId: string; userId: string; role: InviteRole },
): Promise<{ changed: boolean; previousRole: TeamRole }> {
  const [row] = await tx
    .update(teamMembers)
    .set({ role: params.role })
    .from(before)
    .where(
      and(
        eq(before.teamId, teamMembers.teamId),
        eq(before.userId, teamMembers.userId),
        eq(teamMembers.teamId, params.teamId),
        eq(teamMembers.userId, params.userId),
        ne(teamMembers.role, "owner"),
        ne(teamMembers.role, params.role),
        teamScope({ teamId: params.teamId, userId: params.actorId, permission: "manageMembers" }),
      ),
    )
    .returning({ previousRole: before.role });
  if (row) return { changed: true, previousRole: row.previousRole };
  await explainTeamAccess(tx, { teamId: params.teamId, userId: params.actorId, permission: "manageMembers" });
  const current = await explainTarget(tx, { ...params, permission: "manageMembers" });
  if (current === "owner") throw new AppError("PRECONDITION_FAILED", "The owner's role changes only through teams.transferOwnership");
  return { changed: false, previousRole: current };
}

/** The caller leaves a team; the owner must transfer ownership first. */
export async function leaveTeam(tx: Transaction, params: { teamId: string; userId: string }): Promise<{ role: TeamRole }> {
  const [row] = await tx
    .delete(teamMembers)
    .where(
      and(
        eq(teamMembers.teamId, params.teamId),
        eq(teamMembers.userId, params.userId),
        ne(teamMembers.role, "owner"),
        teamScope({ teamId: params.teamId, userId: params.userId, permission: "view" }),
      ),
    )
    .returning({ role: teamMembers.role });
  if (row) return row;
  const access = await explainTeamAccess(tx, { teamId: params.teamId, userId: params.userId, permission: "view" });
  if (access.personal) throw new AppError("PRECONDITION_FAILED", "You cannot leave your personal team");
  throw new AppError("PRECONDITION_FAILED", "The owner cannot leave the team; transfer ownership first (teams.transferOwnership)");
}

/**
 * Makes `userId` (already a member) the owner; the previous owner stays on as an admin. The
 * demotion comes first because the database allows one owner per team at every moment.
 */
export async function transferOwnership(
  tx: Transaction,
  params: { teamId: string; ownerId: string; userId: string },
): Promise<{ previousRole: TeamRole }> {
  if (params.userId === params.ownerId) throw new AppError("BAD_REQUEST", "You already own this team");
  const targetIsMember = exists(
    qb
      .select({ userId: target.userId })
      .from(target)
      .where(and(eq(target.teamId, params.teamId), eq(target.userId, params.userId))),
  );
  const notPersonal = exists(
    qb
      .select({ id: teams.id })
      .from(teams)
      .where(and(eq(teams.id, params.teamId), not(teams.personal))),
  );
  const demoted = await tx
    .update(teamMembers)
    .set({ role: "admin" })
    .where(
      and(
        eq(teamMembers.teamId, params.teamId),
        eq(teamMembers.userId, params.ownerId),
        teamScope({ teamId: params.teamId, userId: params.ownerId, permission: "transferOwnership" }),
        targetIsMember,
        notPersonal,
      ),
    )
    .returning({ userId: teamMembers.userId });
  if (demoted.length === 0) {
    const access = await explainTeamAccess(tx, { teamId: params.teamId, userId: params.ownerId, permission: "transferOwnership" });
    if (access.personal) throw new AppError("PRECONDITION_FAILED", "A personal team cannot change owner");
    await explainTarget(tx, { teamId: params.teamId, actorId: params.ownerId, userId: params.userId, permission: "view" });
    throw new AppError("NOT_FOUND", `User ${params.userId} is not a member of team ${params.teamId}`);
  }
  const [promoted] = await tx
    .update(teamMembers)
    .set({ role: "owner" })
    .from(before)
    .where(
      and(
        eq(before.teamId, teamMembers.teamId),
        eq(before.userId, teamMembers.userId),
        eq(teamMembers.teamId, params.teamId),
        eq(teamMembers.userId, params.userId),
        // the caller is an admin by now: the scope that still holds for them
        teamScope({ teamId: params.teamId, userId: params.ownerId, permission: "manageMembers" }),
      ),
    )
    .returning({ previousRole: before.role });
  if (!promoted) throw new Error("ownership transfer lost its target inside the transaction");
  return promoted;
}
