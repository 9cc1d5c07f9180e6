import {
  AppError,
  assertRoomForTeam,
  createPersonalTeam,
  createTeam,
  deleteTeam,
  listTeamsOfUser,
  lockTeam,
  recordAudit,
  renameTeam,
  type SelfUser,
  type Transaction,
  teamSummaryOfMember,
} from "@osmynt/db";
import { authedProcedure, teamProcedure } from "../../trpc/init.js";
import { withEvents } from "../../trpc/with-events.js";
import { teamEvents } from "./team-events.js";
import {
  createTeamInput,
  okSchema,
  renameTeamInput,
  teamSchema,
  teamSummarySchema,
  toTeamOutput,
  toTeamSummaryOutput,
} from "./teams.types.js";

/** The team as its member `userId` sees it (no member list), read inside the transaction that changed it. */
export async function teamView(tx: Transaction, params: { teamId: string; userId: string }) {
  const team = await teamSummaryOfMember(tx, params);
  if (!team) throw new AppError("NOT_FOUND", `Team ${params.teamId} not found`);
  return toTeamSummaryOutput(team);
}

/** Creates the personal team of a user signing in for the first time, in the sign-in transaction. */
export async function startPersonalTeam(tx: Transaction, user: Pick<SelfUser, "id" | "login">): Promise<void> {
  const team = await createPersonalTeam(tx, { userId: user.id, login: user.login });
  if (!team) return;
  await recordAudit(tx, {
    teamId: team.id,
    actorId: user.id,
    action: "team.created",
    targetType: "team",
    targetId: team.id,
    metadata: { name: team.name, personal: true },
  });
}

export const manageTeamProcedures = {
  /** My live teams, with every member and my role in each. */
  mine: authedProcedure.output(teamSchema.array()).query(async ({ ctx }) => {
    const teams = await listTeamsOfUser(ctx.db, { userId: ctx.user.id });
    return teams.map(toTeamOutput);
  }),

  /** Anyone, up to MAX_TEAMS_PER_USER live teams (the personal one included). */
  create: authedProcedure
    .input(createTeamInput)
    .output(teamSummarySchema)
    .mutation(({ ctx, input }) =>
      withEvents(ctx.deps, async (tx, emit) => {
        await assertRoomForTeam(tx, { userId: ctx.user.id, limit: ctx.config.maxTeamsPerUser });
        const team = await createTeam(tx, { name: input.name, ownerId: ctx.user.id });
        await recordAudit(tx, {
          teamId: team.id,
          actorId: ctx.user.id,
          action: "team.created",
          targetType: "team",
          targetId: team.id,
          metadata: { name: team.name },
        });
        const view = await teamView(tx, { teamId: team.id, userId: ctx.user.id });
        await emit(teamEvents.memberJoined(team.id, ctx.user.id, "owner", "created"));
        return view;
      }),
    ),

  /** Owner or admin. */
  rename: teamProcedure
    .input(renameTeamInput)
    .output(teamSummarySchema)
    .mutation(({ ctx, input }) =>
      withEvents(ctx.deps, async (tx, emit) => {
        await lockTeam(tx, { teamId: input.teamId });
        const { previousName, ...renamed } = await renameTeam(tx, { teamId: input.teamId, userId: ctx.user.id, name: input.name });
        // The audit row and the event (last, as recordEvents asks) need only the rename done: sent
        // together, the second does not wait for the first's answer while the team's lock is held
        // (a transaction's statements still run one after the other, in this order; the first
        // failure fails the rest and is the one reported). The answer came with the update.
        await Promise.all([
          recordAudit(tx, {
            teamId: input.teamId,
            actorId: ctx.user.id,
            action: "team.renamed",
            targetType: "team",
            targetId: input.teamId,
            metadata: { name: renamed.name, previousName },
          }),
          emit(teamEvents.renamed(input.teamId)),
        ]);
        return toTeamSummaryOutput(renamed);
      }),
    ),

  /** Owner only; a personal team cannot be deleted. Its members hear `team.deleted` and stop hearing the team. */
  delete: teamProcedure.output(okSchema).mutation(({ ctx, input }) =>
    withEvents(ctx.deps, async (tx, emit) => {
      await lockTeam(tx, { teamId: input.teamId });
      const { memberIds } = await deleteTeam(tx, { teamId: input.teamId, userId: ctx.user.id });
      await recordAudit(tx, {
        teamId: input.teamId,
        actorId: ctx.user.id,
        action: "team.deleted",
        targetType: "team",
        targetId: input.teamId,
        metadata: { members: memberIds.length },
      });
      await emit(teamEvents.deleted(input.teamId, memberIds));
      return { ok: true as const };
    }),
  ),
};
