import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import type { RouterProcedures } from "../app-router.js";
import type { ShareContent } from "../shares/shares.js";
import { type Context, signedIn } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { gitContextOf, repoRoot } from "./git.js";
import { defaultTeam, loginsById, resolveTeam, resolveUser } from "./resolve.js";
import { shareHeading, shareJson } from "./share-json.js";

async function readInput(file: string): Promise<string> {
  if (file !== "-") return readFile(file, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `a-b` or `a`, 1-based and inclusive, within the text's lines. */
export function parseLines(spec: string, lineCount: number): { start: number; end: number } {
  const match = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2] ?? match?.[1]);
  if (!match || start < 1 || end < start) throw new CliError(ExitCode.usage, `--lines must be a-b with 1 ≤ a ≤ b (got ${spec})`);
  if (end > lineCount) throw new CliError(ExitCode.usage, `--lines ${spec} is past the end (${lineCount} line(s))`);
  return { start, end };
}

/** The text's lines; a final newline ends the last line rather than starting another. */
export function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 1 && lines.at(-1) === "") lines.pop();
  return lines;
}

/** Where the code comes from: repository, commit and path from git, or what the options say. */
async function provenance(file: string, pathOption: string | undefined) {
  if (file !== "-") {
    const git = await gitContextOf(file);
    if (git) return { path: git.path, repo: git.repo, commit: git.commit ?? undefined, dirty: git.dirty };
    return { path: pathOption ?? path.basename(file), dirty: false };
  }
  if (!pathOption) return { dirty: false };
  const root = await repoRoot(process.cwd());
  const git = root ? await gitContextOf(path.join(root, pathOption)).catch(() => null) : null;
  if (git) return { path: git.path, repo: git.repo, commit: git.commit ?? undefined, dirty: git.dirty };
  return { path: pathOption, dirty: false };
}

async function target(ctx: Context, options: { team?: string; user?: string }) {
  if (options.team && options.user) throw new CliError(ExitCode.usage, "share with --team or --user, not both");
  if (options.user) {
    const user = await resolveUser(ctx, options.user);
    return { target: { userId: user.id }, label: user.login };
  }
  const team = options.team ? await resolveTeam(ctx, options.team) : await defaultTeam(ctx);
  return { target: { teamId: team.id }, label: team.name };
}

interface ShareOptions {
  lines?: string;
  team?: string;
  user?: string;
  title?: string;
  path?: string;
  language?: string;
}

export function registerShareCommands(program: Command): void {
  program
    .command("share <file>")
    .description("encrypt code and share it with a team or a teammate (<file> `-` reads stdin); repo, commit and path come from git")
    .option("--lines <a-b>", "only these lines (1-based, inclusive)")
    .option("--team <team>", "a team's id or name (default: your only team)")
    .option("--user <user>", "a teammate's login or id, instead of a team")
    .option("--title <title>", "a title (default: the path and lines)")
    .option("--path <path>", "the path to record (for stdin; inside a repository, from its top)")
    .option("--language <language>", "the language (default: from the file's extension)")
    .action((file: string, options: ShareOptions, command: Command) =>
      signedIn(command, async (ctx) => {
        await ctx.ensureDevice();
        const text = await readInput(file);
        const lines = linesOf(text);
        const lineRange = options.lines ? parseLines(options.lines, lines.length) : undefined;
        const code = lineRange ? lines.slice(lineRange.start - 1, lineRange.end).join("\n") : text;
        const where = await provenance(file, options.path);
        if (where.dirty && lineRange)
          ctx.out.note(`Note: ${where.path} has changes not committed; its lines may differ at ${where.commit?.slice(0, 12) ?? "HEAD"}`);
        const { target: to, label } = await target(ctx, options);
        const extension = where.path ? path.extname(where.path).slice(1) : "";
        const content: ShareContent = {
          code,
          title: options.title ?? (where.path ? `${where.path}${lineRange ? `:${lineRange.start}-${lineRange.end}` : ""}` : "snippet"),
          ...(options.language || extension ? { language: options.language ?? extension } : {}),
          ...(where.path ? { path: where.path } : {}),
          ...("repo" in where && where.repo ? { repo: where.repo } : {}),
          ...("commit" in where && where.commit ? { commit: where.commit } : {}),
          ...(lineRange ? { lineRange } : { fullFile: true }),
        };
        const created = await ctx.out.spin(`Encrypting for ${label}`, () => ctx.shares.shareCode({ ...content, ...to }));
        ctx.out.result(
          {
            ...created,
            target: to,
            title: content.title,
            path: content.path ?? null,
            repo: content.repo ?? null,
            commit: content.commit ?? null,
            lineRange: content.lineRange ?? null,
            fullFile: content.fullFile ?? false,
          },
          `Shared ${created.id} with ${label}: ${content.title}`,
        );
      }),
    );

  program
    .command("list")
    .description("shares you can read, newest first (headers only; `show` decrypts one)")
    .option("--team <team>", "one team's feed")
    .option("--user <user>", "your direct shares with one teammate")
    .option("--limit <n>", "at most this many per feed", "20")
    .action((options: { team?: string; user?: string; limit: string }, command: Command) =>
      signedIn(command, async (ctx) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError(ExitCode.usage, "--limit must be 1–100");
        const logins = await loginsById(ctx);
        let items: RouterProcedures["shares.listTeam"]["output"]["items"];
        if (options.user) {
          const user = await resolveUser(ctx, options.user);
          items = (await ctx.client.shares.listDirect.query({ userId: user.id, limit })).items;
        } else {
          const teams = options.team ? [await resolveTeam(ctx, options.team)] : await ctx.client.teams.mine.query();
          const pages = await Promise.all(teams.map((t) => ctx.client.shares.listTeam.query({ teamId: t.id, limit })));
          items = pages.flatMap((p) => p.items).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        }
        const teamNames = new Map((await ctx.client.teams.mine.query()).map((t) => [t.id, t.name]));
        const shares = items.map((s) => ({ ...s, author: logins.get(s.authorId) ?? null }));
        ctx.out.result({ shares }, () =>
          shares.length === 0
            ? "No shares"
            : shares
                .map(
                  (s) =>
                    `${s.unread ? "*" : " "} ${s.id}  ${s.createdAt}  ${s.author ?? s.authorId} → ${
                      s.teamId ? (teamNames.get(s.teamId) ?? s.teamId) : (logins.get(s.targetUserId ?? "") ?? s.targetUserId)
                    }  ${s.ciphertextBytes} B`,
                )
                .join("\n"),
        );
      }),
    );

  program
    .command("show <id>")
    .description("decrypt a share on this device: its code to stdout, or to a file with --out")
    .option("--out <file>", "write the code to this file instead")
    .option("--force", "overwrite --out if it exists")
    .action((id: string, options: { out?: string; force?: boolean }, command: Command) =>
      signedIn(command, async (ctx) => {
        await ctx.ensureDevice();
        const share = await ctx.out.spin("Decrypting", () => ctx.shares.openShare(id));
        const author = (await loginsById(ctx)).get(share.authorId) ?? null;
        for (const warning of share.warnings) ctx.out.note(`Warning: ${warning}`);
        if (options.out) {
          try {
            await writeFile(options.out, share.code, { flag: options.force ? "w" : "wx" });
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "EEXIST")
              throw new CliError(ExitCode.conflict, `${options.out} exists; --force overwrites it`);
            throw error;
          }
        }
        if (ctx.out.json) ctx.out.result({ ...shareJson(share, author), out: options.out ?? null });
        else {
          ctx.out.note(shareHeading(share, author));
          if (options.out) ctx.out.note(`Wrote ${options.out}`);
          else process.stdout.write(share.code.endsWith("\n") || share.code === "" ? share.code : `${share.code}\n`);
        }
        await ctx.client.shares.markRead.mutate({ shareIds: [share.id] }).catch(() => undefined);
      }),
    );
}
