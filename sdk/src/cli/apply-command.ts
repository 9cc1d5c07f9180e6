import { chmod, lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { createTwoFilesPatch } from "diff";
import { signedIn } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { fileAtCommit, hasCommit, repoRoot } from "./git.js";
import { loginsById } from "./resolve.js";
import { safeTarget } from "./safe-path.js";
import { shareHeading } from "./share-json.js";

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** The file with lines start..end (1-based, inclusive) replaced by `code`. */
function replaceLines(current: string, range: { start: number; end: number }, code: string, shown: string): string {
  const parts = current.split("\n");
  const count = parts.length > 1 && parts.at(-1) === "" ? parts.length - 1 : parts.length;
  if (range.end > count)
    throw new CliError(ExitCode.conflict, `${shown} has ${count} line(s); the share replaces lines ${range.start}-${range.end}`);
  parts.splice(range.start - 1, range.end - range.start + 1, ...code.split("\n"));
  return parts.join("\n");
}

/** Writes through a temporary file renamed over the target: a crash leaves the old file whole, and a symlink put there meanwhile is replaced, never followed. */
async function writeInPlace(file: string, text: string, mode: number | null): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.osmynt-${process.pid}.tmp`);
  try {
    await writeFile(temporary, text, { flag: "wx" });
    if (mode !== null) await chmod(temporary, mode);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export function registerApplyCommand(program: Command): void {
  program
    .command("apply <id>")
    .description("write a share's code back into its file (recorded path and lines) in the current git repository, showing the diff first")
    .option("-y, --yes", "apply without asking")
    .option("--force", "apply even if the file changed since the shared commit (or that commit is not here)")
    .action((id: string, options: { yes?: boolean; force?: boolean }, command: Command) =>
      signedIn(command, async (ctx) => {
        await ctx.ensureDevice();
        const root = await repoRoot(process.cwd());
        if (!root) throw new CliError(ExitCode.usage, "apply works inside a git repository: run it in your clone");
        const share = await ctx.out.spin("Decrypting", () => ctx.shares.openShare(id));
        const author = (await loginsById(ctx)).get(share.authorId) ?? null;
        if (!share.path) throw new CliError(ExitCode.conflict, `share ${id} records no path: nothing to apply it to (osmynt show ${id})`);
        const { file, relative } = await safeTarget(root, share.path);
        const before = await readIfExists(file);

        const current = before?.toString("utf8") ?? "";
        const next = share.lineRange && !share.fullFile ? replaceLines(current, share.lineRange, share.code, relative) : share.code;
        const shape = {
          id: share.id,
          path: relative,
          file,
          lineRange: share.lineRange ?? null,
          commit: share.commit ?? null,
          forced: Boolean(options.force),
        };
        if (next === current && before !== null) {
          ctx.out.result({ ...shape, diff: "", changed: false }, `${relative} already holds the shared code`);
          return;
        }
        if (!options.force) {
          const refuse = (why: string) =>
            new CliError(ExitCode.conflict, `${why}; --force applies it anyway`, { reason: "changed_since_commit", path: relative });
          if (!share.commit) throw refuse(`share ${id} records no commit to compare ${relative} with`);
          if (!(await hasCommit(root, share.commit)))
            throw refuse(`commit ${share.commit.slice(0, 12)} is not in this repository (fetch it first)`);
          const original = await fileAtCommit(root, share.commit, relative);
          if (original === null || before === null || !original.equals(before))
            throw refuse(`${relative} changed since commit ${share.commit.slice(0, 12)}, which the share was made from`);
        }

        const diff = createTwoFilesPatch(`a/${relative}`, `b/${relative}`, current, next, undefined, undefined, { context: 3 });
        const result = { ...shape, diff };
        if (!ctx.out.json) {
          ctx.out.note(shareHeading(share, author));
          process.stdout.write(diff);
        }
        if (!options.yes && !(await ctx.out.confirm(`Apply to ${relative}?`, "pass --yes to apply")))
          throw new CliError(ExitCode.conflict, "not applied");
        const mode = before === null ? null : (await lstat(file)).mode & 0o7777;
        await writeInPlace(file, next, mode);
        ctx.out.result({ ...result, changed: true }, `Applied ${share.id} to ${relative}`);
      }),
    );
}
