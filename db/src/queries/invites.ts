import { and, desc, eq, isNull, lt, not, or, type SQL, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { newId } from "../ids.js";
import { type InviteRole, teamInvites } from "../schema/invites.js";
import { teams } from "../schema/teams.js";
import { newSecretToken } from "../tokens.js";
import { explainTeamAccess, teamScope } from "./team-access.js";

export const INVITE_TOKEN_PREFIX = "osi";

export type InviteStatus = "active" | "expired" | "revoked" | "usedUp";

/** Computed by the database clock, the same clock the accept path compares against. */
export const inviteStatus = sql<InviteStatus>`case
  when ${teamInvites.revokedAt} is not null then 'revoked'
  when ${teamInvites.uses} >= ${teamInvites.maxUses} then 'usedUp'
  when ${teamInvites.expiresAt} <= now() then 'expired'
  else 'active' end`;

/**
 * Creates an invite (owner or admin; never to a personal team, which takes no members). An insert
 * has no `where` of its own, so it is an
 * `insert … select … from teams where <scope>`: without the caller's role, nothing is inserted.
 * The plaintext token is returned here once and never stored.
 */
export async function createInvite(
  tx: Transaction,
  params: { teamId: string; actorId: string; role: InviteRole; maxUses: number; expiresInHours: number },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const { token, hash } = newSecretToken(INVITE_TOKEN_PREFIX);
  const id = newId("invite");
  const [row] = await tx
    .insert(teamInvites)
    .select((qb) =>
      // Keys in the table's column order; explicit casts because select-list parameters have no type.
      qb
        .select({
          id: sql`${id}::text`.as("id"),
          teamId: teams.id,
          tokenHash: sql`${hash}::text`.as("token_hash"),
          role: sql`${params.role}::text`.as("role"),
          maxUses: sql`${params.maxUses}::integer`.as("max_uses"),
          uses: sql`0`.as("uses"),
          expiresAt: sql`now() + make_interval(secs => ${params.expiresInHours * 3600}::double precision)`.as("expires_at"),
          createdBy: sql`${params.actorId}::text`.as("created_by"),
          createdAt: sql`now()`.as("created_at"),
          revokedAt: sql`null::timestamptz`.as("revoked_at"),
        })
        .from(teams)
        .where(
          and(
            eq(teams.id, params.teamId),
            not(teams.personal),
            teamScope({ teamId: params.teamId, userId: params.actorId, permission: "manageInvites" }),
          ),
        ),
    )
    .returning({ id: teamInvites.id, expiresAt: teamInvites.expiresAt });
  if (!row) {
    const access = await explainTeamAccess(tx, { teamId: params.teamId, userId: params.actorId, permission: "manageInvites" });
    if (access.personal)
      throw new AppError("PRECONDITION_FAILED", "A personal team takes no members; create a team (teams.create) to invite people", {
        teamId: params.teamId,
      });
    throw new AppError("NOT_FOUND", `Team ${params.teamId} not found`);
  }
  return { id: row.id, token, expiresAt: row.expiresAt };
}

/** A team's invites, newest first, with uses and status (owner or admin); `cursor` is an invite id. */
export async function listInvites(db: Executor, params: { teamId: string; userId: string; cursor?: string | undefined; limit: number }) {
  let after: SQL | undefined;
  if (params.cursor !== undefined) {
    const [mark] = await db
      .select({ createdAt: teamInvites.createdAt, id: teamInvites.id })
      .from(teamInvites)
      .where(
        and(
          eq(teamInvites.id, params.cursor),
          eq(teamInvites.teamId, params.teamId),
          teamScope({ ...params, permission: "manageInvites" }),
        ),
      );
    if (!mark) await explainTeamAccess(db, { ...params, permission: "manageInvites" });
    if (!mark) throw new AppError("BAD_REQUEST", `cursor ${params.cursor} is not an invite of team ${params.teamId}`);
    after = or(lt(teamInvites.createdAt, mark.createdAt), and(eq(teamInvites.createdAt, mark.createdAt), lt(teamInvites.id, mark.id)));
  }
  const rows = await db
    .select({
      id: teamInvites.id,
      role: teamInvites.role,
      maxUses: teamInvites.maxUses,
      uses: teamInvites.uses,
      expiresAt: teamInvites.expiresAt,
      createdAt: teamInvites.createdAt,
      createdBy: teamInvites.createdBy,
      revokedAt: teamInvites.revokedAt,
      status: inviteStatus,
    })
    .from(teamInvites)
    .where(and(eq(teamInvites.teamId, params.teamId), teamScope({ ...params, permission: "manageInvites" }), after))
    .orderBy(desc(teamInvites.createdAt), desc(teamInvites.id))
    .limit(params.limit + 1);
  if (rows.length === 0) await explainTeamAccess(db, { ...params, permission: "manageInvites" });
  const page = rows.slice(0, params.limit);
  return { invites: page, nextCursor: rows.length > params.limit ? (page.at(-1)?.id ?? null) : null };
}

/** Revokes an invite (owner or admin). Revoking a revoked invite changes nothing and says so. */
export async function revokeInvite(
  tx: Transaction,
  params: { teamId: string; actorId: string; inviteId: string },
): Promise<{ changed: boolean }> {
  const scope = teamScope({ teamId: params.teamId, userId: params.actorId, permission: "manageInvites" });
  const revoked = await tx
    .update(teamInvites)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(teamInvites.id, params.inviteId), eq(teamInvites.teamId, params.teamId), isNull(teamInvites.revokedAt), scope))
    .returning({ id: teamInvites.id });
  if (revoked.length > 0) return { changed: true };
  await explainTeamAccess(tx, { teamId: params.teamId, userId: params.actorId, permission: "manageInvites" });
  const [known] = await tx
    .select({ id: teamInvites.id })
    .from(teamInvites)
    .where(and(eq(teamInvites.id, params.inviteId), eq(teamInvites.teamId, params.teamId), scope));
  if (!known)
    throw new AppError("NOT_FOUND", `Invite ${params.inviteId} not found in team ${params.teamId}`, { inviteId: params.inviteId });
  return { changed: false };
}

/**
 * Revokes the still-usable invites `creatorId` made in the team. Called when the creator is
 * removed, leaves or is demoted to a role that could not create them: an invite never carries more
 * authority than its creator has now. Returns the revoked invites' ids, for the audit trail.
 */
export async function revokeInvitesOfCreator(tx: Transaction, params: { teamId: string; creatorId: string }): Promise<string[]> {
  const rows = await tx
    .update(teamInvites)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(teamInvites.teamId, params.teamId), eq(teamInvites.createdBy, params.creatorId), sql`${inviteStatus} = 'active'`))
    .returning({ id: teamInvites.id });
  return rows.map((r) => r.id);
}
