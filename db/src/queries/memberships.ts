import { and, count, eq, isNull } from "drizzle-orm";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { teamMembers, teams } from "../schema/teams.js";
import { users } from "../schema/users.js";

/** Ids of the (live) teams the user belongs to: the audience of their event stream. */
export async function listTeamIdsForUser(db: Executor, params: { userId: string }): Promise<string[]> {
  const rows = await db
    .select({ teamId: teamMembers.teamId })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.id, teamMembers.teamId), isNull(teams.deletedAt)))
    .where(eq(teamMembers.userId, params.userId));
  return rows.map((r) => r.teamId);
}

/**
 * Refuses a new team for `userId` once they belong to `limit` live teams (their personal team
 * included). It takes the user's row lock first, so concurrent creations and joins of one user run
 * one after another and the count each sees is final: a batch of creations cannot overshoot.
 */
export async function assertRoomForTeam(tx: Transaction, params: { userId: string; limit: number }): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, params.userId)).for("update");
  const [row] = await tx
    .select({ n: count() })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.id, teamMembers.teamId), isNull(teams.deletedAt)))
    .where(eq(teamMembers.userId, params.userId));
  if ((row?.n ?? 0) >= params.limit)
    throw new AppError(
      "FORBIDDEN",
      `You already belong to ${row?.n} teams; a user may belong to at most ${params.limit} teams (MAX_TEAMS_PER_USER). Leave or delete a team first`,
      { limit: params.limit },
    );
}
