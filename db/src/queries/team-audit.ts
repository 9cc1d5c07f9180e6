import { and, desc, eq, exists, isNull, like, lt, lte, or, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/pg-core";
import type { Executor } from "../client.js";
import { auditLog } from "../schema/audit.js";
import { teamMembers } from "../schema/teams.js";
import { users } from "../schema/users.js";
import { explainTeamAccess, teamScope } from "./team-access.js";

const member = alias(teamMembers, "member");
const qb = new QueryBuilder();

/**
 * A team's audit trail, newest first, for its owner and admins; `cursor` is the last id of the
 * previous page. It holds the team's own actions, plus its current members' device changes
 * (added, revoked, rotated) from the time they joined on, because those change who can decrypt
 * the team's shares. Members' sign-ins and sessions are theirs alone: they are in the member's own
 * session list (auth.sessions.list), never in a team's audit.
 */
export async function listTeamAudit(db: Executor, params: { teamId: string; userId: string; cursor?: number | undefined; limit: number }) {
  const subject = auditLog.actorId;
  const memberAccountRow = and(
    isNull(auditLog.teamId),
    like(auditLog.action, "keys.%"),
    exists(
      qb
        .select({ one: sql`1` })
        .from(member)
        .where(and(eq(member.teamId, params.teamId), eq(member.userId, subject), lte(member.joinedAt, auditLog.createdAt))),
    ),
  );
  const rows = await db
    .select({
      id: auditLog.id,
      action: auditLog.action,
      actorId: auditLog.actorId,
      actorLogin: users.login,
      targetType: auditLog.targetType,
      targetId: auditLog.targetId,
      metadata: auditLog.metadata,
      createdAt: auditLog.createdAt,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .where(
      and(
        teamScope({ teamId: params.teamId, userId: params.userId, permission: "readAudit" }),
        or(eq(auditLog.teamId, params.teamId), memberAccountRow),
        params.cursor === undefined ? undefined : lt(auditLog.id, params.cursor),
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(params.limit + 1);
  if (rows.length === 0) await explainTeamAccess(db, { teamId: params.teamId, userId: params.userId, permission: "readAudit" });
  const page = rows.slice(0, params.limit);
  return { entries: page, nextCursor: rows.length > params.limit ? (page.at(-1)?.id ?? null) : null };
}
