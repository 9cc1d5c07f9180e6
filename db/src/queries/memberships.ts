import { and, count, eq, inArray, isNull } from "drizzle-orm";
import type { Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { teamMembers, teams } from "../schema/teams.js";
import { users } from "../schema/users.js";

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

/**
 * Everyone who shares a live team with `userId`, themself included (also when in no team), each
 * once however many teams they share: the people a change to the user's device log concerns.
 * Takes FOR SHARE on those teams' rows first, which waits for (and then holds off) membership
 * changes, all made under `lockTeam`: someone joining concurrently is either listed here or joins
 * after this transaction commits, and then reads the changed device log anyway. Run under the
 * user's own row lock (`lockDeviceLog`), which already serializes the user's own joins.
 */
export async function lockTeammates(tx: Transaction, params: { userId: string }): Promise<string[]> {
  const mine = tx.select({ teamId: teamMembers.teamId }).from(teamMembers).where(eq(teamMembers.userId, params.userId));
  const locked = await tx
    .select({ id: teams.id })
    .from(teams)
    .where(and(inArray(teams.id, mine), isNull(teams.deletedAt)))
    .orderBy(teams.id)
    .for("share");
  if (locked.length === 0) return [params.userId];
  const rows = await tx
    .selectDistinct({ userId: teamMembers.userId })
    .from(teamMembers)
    .where(
      inArray(
        teamMembers.teamId,
        locked.map((t) => t.id),
      ),
    );
  const ids = new Set(rows.map((r) => r.userId));
  ids.add(params.userId);
  return [...ids].sort();
}
