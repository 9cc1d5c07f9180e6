import { and, eq, isNull } from "drizzle-orm";
import type { Executor } from "../client.js";
import { type InviteRole, teamInvites } from "../schema/invites.js";
import { teams } from "../schema/teams.js";
import { users } from "../schema/users.js";
import { hashToken } from "../tokens.js";
import { inviteStatus } from "./invites.js";

export interface InvitePreview {
  teamName: string;
  role: InviteRole;
  expiresAt: Date;
  inviter: { login: string; name: string | null } | null;
}

/**
 * What the invite page may show to whoever holds the token: only an invite that can still be
 * accepted (active, of a live shared team). Anything else is `undefined`, whatever the reason, so
 * the page reveals nothing about tokens that do not work.
 */
export async function findInvitePreview(db: Executor, params: { token: string }): Promise<InvitePreview | undefined> {
  const [row] = await db
    .select({
      teamName: teams.name,
      role: teamInvites.role,
      expiresAt: teamInvites.expiresAt,
      status: inviteStatus,
      inviterLogin: users.login,
      inviterName: users.name,
    })
    .from(teamInvites)
    .innerJoin(teams, eq(teams.id, teamInvites.teamId))
    .leftJoin(users, eq(users.id, teamInvites.createdBy))
    .where(and(eq(teamInvites.tokenHash, hashToken(params.token)), isNull(teams.deletedAt), eq(teams.personal, false)));
  if (row?.status !== "active") return undefined;
  return {
    teamName: row.teamName,
    role: row.role,
    expiresAt: row.expiresAt,
    inviter: row.inviterLogin ? { login: row.inviterLogin, name: row.inviterName } : null,
  };
}
