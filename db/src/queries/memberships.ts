import { and, eq, isNull } from "drizzle-orm";
import type { Executor } from "../client.js";
import { teamMembers, teams } from "../schema/teams.js";

/** Ids of the (live) teams the user belongs to: the audience of their event stream. */
export async function listTeamIdsForUser(db: Executor, params: { userId: string }): Promise<string[]> {
  const rows = await db
    .select({ teamId: teamMembers.teamId })
    .from(teamMembers)
    .innerJoin(teams, and(eq(teams.id, teamMembers.teamId), isNull(teams.deletedAt)))
    .where(eq(teamMembers.userId, params.userId));
  return rows.map((r) => r.teamId);
}
