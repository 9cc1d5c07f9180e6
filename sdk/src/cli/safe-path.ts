import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { CliError, ExitCode } from "./exit-codes.js";

const refuse = (recorded: string, why: string) =>
  new CliError(ExitCode.integrity, `refusing to write "${recorded}": ${why}`, { reason: "path_escapes_repository", path: recorded });

const inside = (root: string, candidate: string) => candidate === root || candidate.startsWith(root + path.sep);

/**
 * Where a share's recorded path may be written: a file inside the repository at `root` (a real
 * path), never outside it. The path comes from the share's author, so it is treated as hostile:
 * absolute paths (POSIX or Windows), `..` segments, backslashes, control characters and anything
 * under `.git` (hooks would run code) are refused, and so is a path that reaches outside through a
 * symlink, or that is a symlink itself.
 */
export async function safeTarget(root: string, recorded: string): Promise<{ file: string; relative: string }> {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (recorded === "" || /[\u0000-\u001f\u007f]/.test(recorded)) throw refuse(recorded, "it is empty or holds control characters");
  if (recorded.includes("\\")) throw refuse(recorded, "it holds a backslash");
  if (path.posix.isAbsolute(recorded) || /^[a-zA-Z]:/.test(recorded))
    throw refuse(recorded, "it is absolute; a share records a path inside its repository");
  const segments = recorded.split("/");
  if (segments.includes("..")) throw refuse(recorded, "it climbs out with ..");
  if (segments.some((s) => s.toLowerCase() === ".git")) throw refuse(recorded, "it points into .git");
  const relative = segments.filter((s) => s !== "" && s !== ".").join("/");
  if (!relative) throw refuse(recorded, "it names no file");
  const file = path.join(root, ...relative.split("/"));
  if (!inside(root, file)) throw refuse(recorded, "it is outside the repository");

  // The deepest part of the path that exists must really be inside the repository (no symlink out).
  let existing = file;
  for (;;) {
    try {
      const stat = await lstat(existing);
      if (existing === file && stat.isSymbolicLink()) throw refuse(recorded, "it is a symlink");
      break;
    } catch (error) {
      if (error instanceof CliError) throw error;
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      existing = path.dirname(existing);
    }
  }
  if (!inside(root, await realpath(existing))) throw refuse(recorded, "a symlink on the way leads outside the repository");
  return { file, relative };
}
