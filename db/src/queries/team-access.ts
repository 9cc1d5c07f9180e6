import { and, eq, exists, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/pg-core";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { type TeamRole, teamMembers, teams } from "../schema/teams.js";

/**
 * Who may do what in a team. The owner may do everything; admins manage invites and every member
 * except the owner; members share and read. Nobody acts on the owner: ownership moves only by a
 * transfer, and the owner leaves only after one.
 */
export const teamPermissions = {
  view: { roles: ["owner", "admin", "member"], does: "see this team" },
  rename: { roles: ["owner", "admin"], does: "rename the team" },
  delete: { roles: ["owner"], does: "delete the team" },
  manageInvites: { roles: ["owner", "admin"], does: "create, list or revoke invites" },
  manageMembers: { roles: ["owner", "admin"], does: "remove members or change their roles" },
  transferOwnership: { roles: ["owner"], does: "transfer ownership" },
  readAudit: { roles: ["owner", "admin"], does: "read the audit trail" },
  moderateShares: { roles: ["owner", "admin"], does: "delete other members' shares" },
} as const satisfies Record<string, { roles: readonly TeamRole[]; does: string }>;

export type TeamPermission = keyof typeof teamPermissions;

/** Whether `role` (or no role at all: not a member) carries `permission`. */
export function roleMay(role: TeamRole | null, permission: TeamPermission): boolean {
  return role !== null && (teamPermissions[permission].roles as readonly TeamRole[]).includes(role);
}

// Aliases keep the scope's subquery from capturing the outer statement's own team tables.
const actor = alias(teamMembers, "actor");
const actorTeam = alias(teams, "actor_team");
const qb = new QueryBuilder();

/**
 * The tenant scope as a condition: `userId` belongs to the live team `teamId` in a role that
 * grants `permission`. Every team-owned read and write puts it in its own `where`, so "not yours"
 * and "not there" are decided by the same statement that reads or writes, never afterwards.
 */
export function teamScope(params: { teamId: string; userId: string; permission: TeamPermission }): SQL {
  const roles: readonly TeamRole[] = teamPermissions[params.permission].roles;
  return exists(
    qb
      .select({ one: sql`1` })
      .from(actor)
      .innerJoin(actorTeam, eq(actorTeam.id, actor.teamId))
      .where(
        and(eq(actor.teamId, params.teamId), eq(actor.userId, params.userId), inArray(actor.role, [...roles]), isNull(actorTeam.deletedAt)),
      ),
  );
}

/**
 * Serializes membership changes of one team: every transaction that changes who is in a team, or
 * in which role, takes this row lock first. Under READ COMMITTED each later statement then sees
 * what the previous holder committed, so two admins acting on the same member, or on each other,
 * end in a state some serial order would produce. `no key update` leaves foreign-key checks of
 * rows that merely reference the team (shares, invites) unblocked.
 */
export async function lockTeam(tx: Transaction, params: { teamId: string }): Promise<void> {
  await tx.select({ id: teams.id }).from(teams).where(eq(teams.id, params.teamId)).for("no key update");
}

export interface TeamAccess {
  role: TeamRole;
  personal: boolean;
}

/**
 * Says why a scoped statement matched nothing: NOT_FOUND when the caller cannot see the team (it
 * does not exist, was deleted, or they are not a member: the answer is the same, so existence does
 * not leak), FORBIDDEN when their role lacks the permission. Returns their access when the team
 * scope was not the reason, for the caller to explain the rest. It is a diagnosis only: nothing is
 * ever allowed because of its answer.
 */
export async function explainTeamAccess(
  db: Executor,
  params: { teamId: string; userId: string; permission: TeamPermission },
): Promise<TeamAccess> {
  const [row] = await db
    .select({ role: teamMembers.role, personal: teams.personal })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(and(eq(teamMembers.teamId, params.teamId), eq(teamMembers.userId, params.userId), isNull(teams.deletedAt)));
  if (!row) throw new AppError("NOT_FOUND", `Team ${params.teamId} not found`, { teamId: params.teamId });
  const rule = teamPermissions[params.permission];
  if (!(rule.roles as readonly TeamRole[]).includes(row.role)) {
    throw new AppError("FORBIDDEN", `Your role in this team is ${row.role}; only ${rule.roles.join(" or ")} may ${rule.does}`, {
      teamId: params.teamId,
      role: row.role,
      required: rule.roles,
    });
  }
  return row;
}
