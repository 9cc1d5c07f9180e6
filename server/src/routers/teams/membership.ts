import { leaveTeam, lockTeam, recordAudit, removeMember, setMemberRole, transferOwnership } from "@osmynt/db";
import { withdrawInvitesBeyondRole } from "../../teams/withdraw-invites.js";
import { router, teamProcedure } from "../../trpc/init.js";
import { withEvents } from "../../trpc/with-events.js";
import { teamView } from "./manage-team.js";
import { teamEvents } from "./team-events.js";
import { memberTargetInput, okSchema, setRoleInput, setRoleOutput, teamSummarySchema } from "./teams.types.js";

// Every procedure here takes the team lock first (see lockTeam): concurrent changes to one team's
// membership apply one after the other, and each sees what the previous one committed.

export const membershipProcedures = {
  /** Any member but the owner, who must transfer ownership first. */
  leave: teamProcedure.output(okSchema).mutation(({ ctx, input }) =>
    withEvents(ctx.deps, async (tx, emit) => {
      await lockTeam(tx, { teamId: input.teamId });
      const { role } = await leaveTeam(tx, { teamId: input.teamId, userId: ctx.user.id });
      await recordAudit(tx, {
        teamId: input.teamId,
        actorId: ctx.user.id,
        action: "team.memberLeft",
        targetType: "user",
        targetId: ctx.user.id,
        metadata: { role },
      });
      await withdrawInvitesBeyondRole(tx, {
        teamId: input.teamId,
        creatorId: ctx.user.id,
        role: null,
        actorId: ctx.user.id,
        reason: "creatorLeft",
      });
      await emit(teamEvents.memberLeft(input.teamId, ctx.user.id, "left"));
      return { ok: true as const };
    }),
  ),

  /** Owner only; the new owner must already be a member, and the previous owner becomes an admin. */
  transferOwnership: teamProcedure
    .input(memberTargetInput)
    .output(teamSummarySchema)
    .mutation(({ ctx, input }) =>
      withEvents(ctx.deps, async (tx, emit) => {
        await lockTeam(tx, { teamId: input.teamId });
        const { previousRole } = await transferOwnership(tx, { teamId: input.teamId, ownerId: ctx.user.id, userId: input.userId });
        await recordAudit(tx, {
          teamId: input.teamId,
          actorId: ctx.user.id,
          action: "team.ownershipTransferred",
          targetType: "user",
          targetId: input.userId,
          metadata: { from: ctx.user.id, to: input.userId },
        });
        const view = await teamView(tx, { teamId: input.teamId, userId: ctx.user.id });
        await emit([
          ...teamEvents.roleChanged(input.teamId, ctx.user.id, "admin", "owner"),
          ...teamEvents.roleChanged(input.teamId, input.userId, "owner", previousRole),
        ]);
        return view;
      }),
    ),

  members: router({
    /** Owner or admin; removes a member or an admin, never the owner. */
    remove: teamProcedure
      .input(memberTargetInput)
      .output(okSchema)
      .mutation(({ ctx, input }) =>
        withEvents(ctx.deps, async (tx, emit) => {
          await lockTeam(tx, { teamId: input.teamId });
          const { role } = await removeMember(tx, { teamId: input.teamId, actorId: ctx.user.id, userId: input.userId });
          await recordAudit(tx, {
            teamId: input.teamId,
            actorId: ctx.user.id,
            action: "team.memberRemoved",
            targetType: "user",
            targetId: input.userId,
            metadata: { role },
          });
          await withdrawInvitesBeyondRole(tx, {
            teamId: input.teamId,
            creatorId: input.userId,
            role: null,
            actorId: ctx.user.id,
            reason: "creatorRemoved",
          });
          await emit(teamEvents.memberLeft(input.teamId, input.userId, "removed"));
          return { ok: true as const };
        }),
      ),

    /** Owner or admin; sets a non-owner to admin or member. Setting the current role is a no-op. */
    setRole: teamProcedure
      .input(setRoleInput)
      .output(setRoleOutput)
      .mutation(({ ctx, input }) =>
        withEvents(ctx.deps, async (tx, emit) => {
          await lockTeam(tx, { teamId: input.teamId });
          const result = await setMemberRole(tx, { teamId: input.teamId, actorId: ctx.user.id, userId: input.userId, role: input.role });
          if (result.changed) {
            await recordAudit(tx, {
              teamId: input.teamId,
              actorId: ctx.user.id,
              action: "team.memberRoleChanged",
              targetType: "user",
              targetId: input.userId,
              metadata: { from: result.previousRole, to: input.role },
            });
            await withdrawInvitesBeyondRole(tx, {
              teamId: input.teamId,
              creatorId: input.userId,
              role: input.role,
              actorId: ctx.user.id,
              reason: "creatorDemoted",
            });
            await emit(teamEvents.roleChanged(input.teamId, input.userId, input.role, result.previousRole));
          }
          return { userId: input.userId, role: input.role, ...result };
        }),
      ),
  }),
};
