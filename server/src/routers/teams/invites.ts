import { AppError, acceptInvite, createInvite, findInviteByToken, listInvites, lockTeam, recordAudit, revokeInvite } from "@osmynt/db";
import { authedProcedure, router, teamProcedure } from "../../trpc/init.js";
import { withEvents } from "../../trpc/with-events.js";
import {
  acceptInviteInput,
  acceptInviteOutput,
  createInviteInput,
  createInviteOutput,
  DEFAULT_INVITE_HOURS,
  inviteUrl,
  listInvitesInput,
  listInvitesOutput,
  revokeInviteInput,
  revokeInviteOutput,
} from "./invites.types.js";
import { teamView } from "./manage-team.js";
import { teamEvents } from "./team-events.js";

export const invitesRouter = router({
  /** Owner or admin. The token comes back once, here, and is never stored or logged. */
  create: teamProcedure
    .input(createInviteInput)
    .output(createInviteOutput)
    .mutation(async ({ ctx, input }) => {
      const role = input.role ?? "member";
      const maxUses = input.maxUses ?? 1;
      const invite = await ctx.db.transaction(async (tx) => {
        await lockTeam(tx, { teamId: input.teamId });
        const created = await createInvite(tx, {
          teamId: input.teamId,
          actorId: ctx.user.id,
          role,
          maxUses,
          expiresInHours: input.expiresInHours ?? DEFAULT_INVITE_HOURS,
        });
        await recordAudit(tx, {
          teamId: input.teamId,
          actorId: ctx.user.id,
          action: "team.inviteCreated",
          targetType: "invite",
          targetId: created.id,
          metadata: { role, maxUses, expiresAt: created.expiresAt.toISOString() },
        });
        return created;
      });
      return {
        inviteId: invite.id,
        token: invite.token,
        url: inviteUrl(ctx.config, ctx.meta.origin, invite.token),
        role,
        maxUses,
        expiresAt: invite.expiresAt.toISOString(),
      };
    }),

  /** Owner or admin: the team's invites with uses and status, newest first. */
  list: teamProcedure
    .input(listInvitesInput)
    .output(listInvitesOutput)
    .query(async ({ ctx, input }) => {
      const page = await listInvites(ctx.db, { teamId: input.teamId, userId: ctx.user.id, cursor: input.cursor, limit: input.limit });
      return {
        nextCursor: page.nextCursor,
        invites: page.invites.map((i) => ({
          ...i,
          expiresAt: i.expiresAt.toISOString(),
          createdAt: i.createdAt.toISOString(),
          revokedAt: i.revokedAt?.toISOString() ?? null,
        })),
      };
    }),

  /** Owner or admin. Revoking a revoked invite succeeds with `changed: false`. */
  revoke: teamProcedure
    .input(revokeInviteInput)
    .output(revokeInviteOutput)
    .mutation(({ ctx, input }) =>
      ctx.db.transaction(async (tx) => {
        await lockTeam(tx, { teamId: input.teamId });
        const { changed } = await revokeInvite(tx, { teamId: input.teamId, actorId: ctx.user.id, inviteId: input.inviteId });
        if (changed) {
          await recordAudit(tx, {
            teamId: input.teamId,
            actorId: ctx.user.id,
            action: "team.inviteRevoked",
            targetType: "invite",
            targetId: input.inviteId,
          });
        }
        return { inviteId: input.inviteId, changed };
      }),
    ),

  /**
   * Any signed-in user holding the token (or the invite URL) joins the team in the invite's role.
   * Accepting again while a member changes nothing and answers `joined: false`.
   */
  accept: authedProcedure
    .input(acceptInviteInput)
    .output(acceptInviteOutput)
    .mutation(async ({ ctx, input }) => {
      const invite = await findInviteByToken(ctx.db, { token: input.token });
      if (!invite) throw new AppError("NOT_FOUND", "No invite matches this token; check that it was copied whole");
      return withEvents(ctx.deps, async (tx, emit) => {
        await lockTeam(tx, { teamId: invite.teamId });
        const { joined, role } = await acceptInvite(tx, {
          inviteId: invite.id,
          teamId: invite.teamId,
          userId: ctx.user.id,
          maxTeamsPerUser: ctx.config.maxTeamsPerUser,
        });
        const view = await teamView(tx, { teamId: invite.teamId, userId: ctx.user.id });
        if (joined) {
          await recordAudit(tx, {
            teamId: invite.teamId,
            actorId: ctx.user.id,
            action: "team.inviteAccepted",
            targetType: "invite",
            targetId: invite.id,
            metadata: { userId: ctx.user.id, role },
          });
          await emit([
            ...teamEvents.memberJoined(invite.teamId, ctx.user.id, role, "invite"),
            ...teamEvents.inviteAccepted(invite.teamId, invite.id, ctx.user.id),
          ]);
        }
        return { ...view, joined };
      });
    }),
});
