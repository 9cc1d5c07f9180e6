import { and, asc, eq, inArray, isNull, not, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { newId } from "../ids.js";
import { teamInvites } from "../schema/invites.js";
import { type TeamRole, teamMembers, teams } from "../schema/teams.js";
import { users } from "../schema/users.js";
import { explainTeamAccess, teamScope } from "./team-access.js";

export interface TeamRow {
  id: string;
  name: string;
  personal: boolean;
  createdAt: Date;
}

const teamColumns = { id: teams.id, name: teams.name, personal: teams.personal, createdAt: teams.createdAt } as const;

/** Creates a team with `ownerId` as its owner (any signed-in user may). */
export async function createTeam(tx: Transaction, params: { name: string; ownerId: string }): Promise<TeamRow> {
  const [team] = await tx
    .insert(teams)
    .values({ id: newId("team"), name: params.name, createdBy: params.ownerId })
    .returning(teamColumns);
  if (!team) throw new Error("team insert returned nothing");
  await tx.insert(teamMembers).values({ teamId: team.id, userId: params.ownerId, role: "owner" });
  return team;
}

/**
 * The user's personal team, created at first sign-in. The partial unique index on
 * `(created_by) where personal` makes a concurrent second attempt do nothing; returns the team only
 * when this call created it.
 */
export async function createPersonalTeam(tx: Transaction, params: { userId: string; login: string }): Promise<TeamRow | undefined> {
  const [team] = await tx
    .insert(teams)
    .values({ id: newId("team"), name: `${params.login} (personal)`, personal: true, createdBy: params.userId })
    .onConflictDoNothing()
    .returning(teamColumns);
  if (team) await tx.insert(teamMembers).values({ teamId: team.id, userId: params.userId, role: "owner" });
  return team;
}

export interface TeamMemberView {
  id: string;
  login: string;
  name: string | null;
  avatarUrl: string | null;
  role: TeamRole;
  joinedAt: Date;
}

/**
 * The live teams the user belongs to (or just `teamId`, if they belong to it), with their role and
 * every member: two queries, no N+1.
 */
export async function listTeamsOfUser(db: Executor, params: { userId: string; teamId?: string | undefined }) {
  const mine = await db
    .select({ ...teamColumns, myRole: teamMembers.role })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(
      and(
        eq(teamMembers.userId, params.userId),
        isNull(teams.deletedAt),
        params.teamId === undefined ? undefined : eq(teams.id, params.teamId),
      ),
    )
    .orderBy(asc(teams.createdAt), asc(teams.id));
  if (mine.length === 0) return [];
  const ids = mine.map((t) => t.id);
  // Scoped by the caller's own memberships: the team ids above are exactly the teams they are in.
  const rows = await db
    .select({
      teamId: teamMembers.teamId,
      id: users.id,
      login: users.login,
      name: users.name,
      avatarUrl: users.avatarUrl,
      role: teamMembers.role,
      joinedAt: teamMembers.joinedAt,
    })
    .from(teamMembers)
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .where(inArray(teamMembers.teamId, ids))
    .orderBy(asc(teamMembers.joinedAt), asc(users.login));
  const byTeam = new Map<string, TeamMemberView[]>(ids.map((id) => [id, []]));
  for (const { teamId, ...member } of rows) byTeam.get(teamId)?.push(member);
  return mine.map((team) => ({ ...team, members: byTeam.get(team.id) ?? [] }));
}

/**
 * One live team as its member `userId` sees it, without the member list: its role for them and
 * how many members it has. What mutations answer, so a rename of a team of thousands stays small.
 */
export async function teamSummaryOfMember(db: Executor, params: { teamId: string; userId: string }) {
  const memberCount = db.$count(teamMembers, eq(teamMembers.teamId, params.teamId));
  const [team] = await db
    .select({ ...teamColumns, myRole: teamMembers.role, memberCount })
    .from(teamMembers)
    .innerJoin(teams, eq(teams.id, teamMembers.teamId))
    .where(and(eq(teamMembers.userId, params.userId), eq(teams.id, params.teamId), isNull(teams.deletedAt)));
  return team;
}

const previous = alias(teams, "previous");

/**
 * Renames a team (owner or admin); returns the previous name, and the team as the renamer now sees
 * it (what teamSummaryOfMember reads) from the update itself, one statement less in a transaction
 * that holds the team's lock.
 */
export async function renameTeam(tx: Transaction, params: { teamId: string; userId: string; name: string }) {
  const [row] = await tx
    .update(teams)
    .set({ name: params.name })
    .from(previous)
    .where(
      and(
        eq(previous.id, teams.id),
        eq(teams.id, params.teamId),
        isNull(teams.deletedAt),
        teamScope({ teamId: params.teamId, userId: params.userId, permission: "rename" }),
      ),
    )
    .returning({
      ...teamColumns,
      myRole: sql<TeamRole>`(select ${teamMembers.role} from ${teamMembers} where ${teamMembers.teamId} = ${teams.id} and ${teamMembers.userId} = ${params.userId})`,
      memberCount: sql<number>`(select count(*) from ${teamMembers} where ${teamMembers.teamId} = ${teams.id})`.mapWith(Number),
      previousName: previous.name,
    });
  if (!row) {
    await explainTeamAccess(tx, { teamId: params.teamId, userId: params.userId, permission: "rename" });
    throw new AppError("NOT_FOUND", `Team ${params.teamId} not found`);
  }
  return row;
}

/**
 * Soft-deletes a team (owner only; never a personal team) and revokes its open invites. Returns
 * the ids of the members at deletion, who must hear about it after they stop being members.
 */
export async function deleteTeam(tx: Transaction, params: { teamId: string; userId: string }): Promise<{ memberIds: string[] }> {
  const scope = teamScope({ teamId: params.teamId, userId: params.userId, permission: "delete" });
  const members = await tx
    .select({ userId: teamMembers.userId })
    .from(teamMembers)
    .where(and(eq(teamMembers.teamId, params.teamId), scope));
  await tx
    .update(teamInvites)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(teamInvites.teamId, params.teamId), isNull(teamInvites.revokedAt), scope));
  const [deleted] = await tx
    .update(teams)
    .set({ deletedAt: sql`now()` })
    .where(and(eq(teams.id, params.teamId), isNull(teams.deletedAt), not(teams.personal), scope))
    .returning({ id: teams.id });
  if (!deleted) {
    const access = await explainTeamAccess(tx, { teamId: params.teamId, userId: params.userId, permission: "delete" });
    if (access.personal) throw new AppError("PRECONDITION_FAILED", "A personal team cannot be deleted", { teamId: params.teamId });
    throw new AppError("NOT_FOUND", `Team ${params.teamId} not found`);
  }
  return { memberIds: members.map((m) => m.userId) };
}
