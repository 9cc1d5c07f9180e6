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
 * FOR SHARE on the rows of the live teams `userId` belongs to: waits for, then holds off,
 * membership changes of those teams (made under `lockTeam`) until the transaction ends. A
 * device-log append takes it *before* the user's own row (`lockDeviceLog`), so it never waits for
 * a team while holding the user, which a share being stored may be waiting for (lockRecipientSet).
 */
export async function lockTeamsOf(tx: Transaction, params: { userId: string }): Promise<void> {
  const mine = tx.select({ teamId: teamMembers.teamId }).from(teamMembers).where(eq(teamMembers.userId, params.userId));
  await tx
    .select({ id: teams.id })
    .from(teams)
    .where(and(inArray(teams.id, mine), isNull(teams.deletedAt)))
    .orderBy(teams.id)
    .for("share");
}

/**
 * Everyone who shares a live team with `userId`, themself included (also when in no team), each
 * once however many teams they share: the people a change to the user's device log concerns.
 * Read after `lockTeamsOf` and the user's row lock, so nobody joining concurrently is missed: they
 * are listed, or join after the commit and then read the changed log anyway.
 */
export async function listTeammates(tx: Transaction, params: { userId: string }): Promise<string[]> {
  const mine = tx.select({ teamId: teamMembers.teamId }).from(teamMembers).where(eq(teamMembers.userId, params.userId));
  const rows = await tx
    .selectDistinct({ userId: teamMembers.userId })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.id, teamMembers.teamId), isNull(teams.deletedAt)))
    .where(inArray(teamMembers.teamId, mine));
  const ids = new Set(rows.map((r) => r.userId));
  ids.add(params.userId);
  return [...ids].sort();
}
