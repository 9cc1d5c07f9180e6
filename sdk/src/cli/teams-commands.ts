import type { Command } from "commander";
import { signedIn } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { type Member, resolveTeam, resolveUser, type Team } from "./resolve.js";

type TeamSummary = Pick<Team, "id" | "name" | "personal" | "myRole"> & ({ members: unknown[] } | { memberCount: number });
/** One shape for a team whether the server answered its members (teams.mine) or only their count (create, join). */
const teamJson = (t: TeamSummary) => ({
  id: t.id,
  name: t.name,
  personal: t.personal,
  myRole: t.myRole,
  members: "memberCount" in t ? t.memberCount : t.members.length,
});
const memberJson = (m: Member) => ({ id: m.id, login: m.login, name: m.name, role: m.role, joinedAt: m.joinedAt });

function positiveInt(label: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new CliError(ExitCode.usage, `${label} must be a positive whole number (got ${value})`);
    return n;
  };
}

export function registerTeamsCommands(program: Command): void {
  const teams = program.command("teams").description("your teams: list, create, invite, join, members, remove, role, leave");

  teams
    .command("list")
    .description("the teams you are in, with your role")
    .action((_o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const mine = await ctx.client.teams.mine.query();
        ctx.out.result({ teams: mine.map(teamJson) }, () =>
          mine.map((t) => `${t.id}  ${t.name}${t.personal ? " (personal)" : ""}  ${t.myRole}, ${t.members.length} member(s)`).join("\n"),
        );
      }),
    );

  teams
    .command("create <name>")
    .description("create a team; you own it")
    .action((name: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const team = await ctx.client.teams.create.mutate({ name });
        ctx.out.result({ team: teamJson(team) }, `Created team ${team.name} (${team.id})`);
      }),
    );

  teams
    .command("invite <team>")
    .description("create an invite link (owner or admin); the token is shown once")
    .option("--role <role>", "admin or member", "member")
    .option("--max-uses <n>", "how many people may join with it", positiveInt("--max-uses"), 1)
    .option("--expires-in-hours <h>", "how long it works", positiveInt("--expires-in-hours"), 24)
    .action((ref: string, options: { role: string; maxUses: number; expiresInHours: number }, command: Command) =>
      signedIn(command, async (ctx) => {
        if (options.role !== "admin" && options.role !== "member") throw new CliError(ExitCode.usage, "--role must be admin or member");
        const team = await resolveTeam(ctx, ref);
        const invite = await ctx.client.teams.invites.create.mutate({
          teamId: team.id,
          role: options.role,
          maxUses: options.maxUses,
          expiresInHours: options.expiresInHours,
        });
        ctx.out.result({ teamId: team.id, ...invite }, () =>
          [
            `Invite to ${team.name} as ${invite.role} (${invite.maxUses} use(s), until ${invite.expiresAt}):`,
            `  ${invite.url}`,
            `They join with: osmynt teams join '${invite.url}'`,
          ].join("\n"),
        );
      }),
    );

  teams
    .command("join <invite>")
    .description("join a team with an invite token or its full URL (…/invite/<token>)")
    .action((invite: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const team = await ctx.client.teams.invites.accept.mutate({ token: invite.trim() });
        ctx.out.result({ team: teamJson(team), joined: team.joined }, () =>
          team.joined ? `Joined ${team.name} (${team.id}) as ${team.myRole}` : `Already a member of ${team.name} (${team.id})`,
        );
      }),
    );

  teams
    .command("members <team>")
    .description("the members of a team and their roles")
    .action((ref: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const team = await resolveTeam(ctx, ref);
        ctx.out.result({ teamId: team.id, members: team.members.map(memberJson) }, () =>
          team.members.map((m) => `${m.id}  ${m.login}${m.name && m.name !== m.login ? ` (${m.name})` : ""}  ${m.role}`).join("\n"),
        );
      }),
    );

  teams
    .command("remove <team> <user>")
    .description("remove a member (owner or admin); <user> is a login or an id")
    .action((ref: string, userRef: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const team = await resolveTeam(ctx, ref);
        const user = await resolveUser(ctx, userRef, team);
        await ctx.client.teams.members.remove.mutate({ teamId: team.id, userId: user.id });
        ctx.out.result({ teamId: team.id, userId: user.id, removed: true }, `Removed ${user.login} from ${team.name}`);
      }),
    );

  teams
    .command("role <team> <user> <role>")
    .description("make a member an admin or a member (owner or admin)")
    .action((ref: string, userRef: string, role: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        if (role !== "admin" && role !== "member") throw new CliError(ExitCode.usage, "<role> must be admin or member");
        const team = await resolveTeam(ctx, ref);
        const user = await resolveUser(ctx, userRef, team);
        const changed = await ctx.client.teams.members.setRole.mutate({ teamId: team.id, userId: user.id, role });
        ctx.out.result({ teamId: team.id, ...changed }, () =>
          changed.changed
            ? `${user.login} is now ${role} of ${team.name} (was ${changed.previousRole})`
            : `${user.login} already is ${role}`,
        );
      }),
    );

  teams
    .command("leave <team>")
    .description("leave a team (an owner transfers ownership first)")
    .action((ref: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const team = await resolveTeam(ctx, ref);
        await ctx.client.teams.leave.mutate({ teamId: team.id });
        ctx.out.result({ teamId: team.id, left: true }, `Left ${team.name}`);
      }),
    );
}
