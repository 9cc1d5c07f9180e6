import { schema } from "@osmynt/db";
import { createInsertSchema, createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { idInput } from "../../trpc/id-input.js";
import { displayName } from "../../trpc/text-input.js";

const iso = z.string().describe("ISO 8601 timestamp");

export const teamRoleSchema = z.enum(schema.teamRoles);
/** Roles that can be granted by an invite or setRole: ownership moves only by transfer. */
export const grantableRoleSchema = z.enum(schema.inviteRoles);

/** Team names: see `displayName`. Derived from the teams table. */
const teamInput = createInsertSchema(schema.teams, { name: () => displayName("name", 80) }).pick({ name: true });

export const createTeamInput = teamInput;
export const renameTeamInput = teamInput;
export const memberTargetInput = z.object({ userId: idInput("user", "userId") });
export const setRoleInput = z.object({ userId: idInput("user", "userId"), role: grantableRoleSchema });

export const memberSchema = createSelectSchema(schema.users)
  .pick({ id: true, login: true, name: true, avatarUrl: true })
  .extend({ role: teamRoleSchema, joinedAt: iso });

export const teamSchema = createSelectSchema(schema.teams)
  .pick({ id: true, name: true, personal: true })
  .extend({ createdAt: iso, myRole: teamRoleSchema, members: memberSchema.array() });

/** What team mutations answer: the team without its member list (teams.mine has that), and how many members it has. */
export const teamSummarySchema = createSelectSchema(schema.teams)
  .pick({ id: true, name: true, personal: true })
  .extend({ createdAt: iso, myRole: teamRoleSchema, memberCount: z.number().int() });

export const setRoleOutput = z.object({
  userId: z.string(),
  role: grantableRoleSchema,
  previousRole: teamRoleSchema,
  changed: z.boolean(),
});
export const okSchema = z.object({ ok: z.literal(true) });

type TeamView = {
  id: string;
  name: string;
  personal: boolean;
  createdAt: Date;
  myRole: schema.TeamRole;
  members: { id: string; login: string; name: string | null; avatarUrl: string | null; role: schema.TeamRole; joinedAt: Date }[];
};

/** No data transformer on the wire: timestamps travel as ISO strings. */
export function toTeamOutput(team: TeamView) {
  return {
    ...team,
    createdAt: team.createdAt.toISOString(),
    members: team.members.map((m) => ({ ...m, joinedAt: m.joinedAt.toISOString() })),
  };
}

export function toTeamSummaryOutput(team: {
  id: string;
  name: string;
  personal: boolean;
  createdAt: Date;
  myRole: schema.TeamRole;
  memberCount: number;
}) {
  return { ...team, createdAt: team.createdAt.toISOString() };
}
