import type { RouterProcedures } from "../app-router.js";
import type { Context } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";

export type Team = RouterProcedures["teams.mine"]["output"][number];
export type Member = Team["members"][number];

/** One of my teams by id (`tm_…`) or by name (case-insensitive; an ambiguous name asks for the id). */
export async function resolveTeam(ctx: Context, ref: string): Promise<Team> {
  const teams = await ctx.client.teams.mine.query();
  const byId = teams.find((t) => t.id === ref);
  if (byId) return byId;
  const named = teams.filter((t) => t.name.toLowerCase() === ref.toLowerCase());
  if (named.length === 1) return named[0] as Team;
  if (named.length > 1)
    throw new CliError(ExitCode.usage, `more than one of your teams is named "${ref}": use its id (${named.map((t) => t.id).join(", ")})`);
  throw new CliError(ExitCode.notFound, `no team of yours is "${ref}" (see: osmynt teams list)`);
}

/** A user by id (`usr_…`) or login, among the members of `team` or else of all my teams. */
export async function resolveUser(ctx: Context, ref: string, team?: Team): Promise<Member> {
  const pool = team ? team.members : (await ctx.client.teams.mine.query()).flatMap((t) => t.members);
  const found = pool.find((m) => m.id === ref) ?? pool.find((m) => m.login.toLowerCase() === ref.toLowerCase());
  if (found) return found;
  throw new CliError(ExitCode.notFound, `no ${team ? `member of ${team.name}` : "teammate of yours"} is "${ref}"`);
}

/** The team a command means when none was named: the only team that is not the personal one. */
export async function defaultTeam(ctx: Context): Promise<Team> {
  const shared = (await ctx.client.teams.mine.query()).filter((t) => !t.personal);
  if (shared.length === 1) return shared[0] as Team;
  throw new CliError(
    ExitCode.usage,
    shared.length === 0
      ? "you are in no team yet: create one (osmynt teams create NAME) or join one"
      : "name a team with --team (or a user with --user)",
  );
}

/** A display name for a user id, from my teams' members. */
export async function loginsById(ctx: Context): Promise<Map<string, string>> {
  return new Map((await ctx.client.teams.mine.query()).flatMap((t) => t.members.map((m) => [m.id, m.login] as const)));
}
