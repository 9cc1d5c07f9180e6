import { execFile } from "node:child_process";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** Runs git in `cwd`; null when git is missing or the command fails (not a repository, no commit…). */
async function git(cwd: string, args: string[], encoding: "utf8" | "buffer" = "utf8"): Promise<string | Buffer | null> {
  try {
    const { stdout } = await exec("git", args, { cwd, encoding, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch {
    return null;
  }
}

const line = (value: string | Buffer | null) => (value === null ? null : value.toString().trim() || null);

/** The top folder of the repository holding `dir` (symlinks resolved), or null outside one. */
export async function repoRoot(dir: string): Promise<string | null> {
  const top = line(await git(dir, ["rev-parse", "--show-toplevel"]));
  return top ? realpath(top) : null;
}

export interface GitContext {
  root: string;
  /** HEAD's commit, or null in a repository without commits. */
  commit: string | null;
  /** The file's path from the repository's top, with forward slashes. */
  path: string;
  /** The `origin` remote's URL, else the top folder's name. */
  repo: string;
  /** The file differs from HEAD (or is not committed): its lines may not match the recorded commit. */
  dirty: boolean;
}

/** What git knows about `file`: repository, commit and path, or null outside a repository. */
export async function gitContextOf(file: string): Promise<GitContext | null> {
  const absolute = await realpath(file);
  const dir = path.dirname(absolute);
  const root = await repoRoot(dir);
  if (!root) return null;
  const relative = path.relative(root, absolute).split(path.sep).join("/");
  const commit = line(await git(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]));
  const repo = line(await git(root, ["remote", "get-url", "origin"])) ?? path.basename(root);
  const status = line(await git(root, ["status", "--porcelain", "--", relative]));
  return { root, commit, path: relative, repo, dirty: status !== null };
}

/** Whether `commit` is a commit this repository has. */
export async function hasCommit(root: string, commit: string): Promise<boolean> {
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) return false;
  return (await git(root, ["cat-file", "-e", `${commit}^{commit}`])) !== null;
}

/** The bytes of `file` (a path from the top) at `commit`, or null when it did not exist there. */
export async function fileAtCommit(root: string, commit: string, file: string): Promise<Buffer | null> {
  const out = await git(root, ["show", `${commit}:${file}`], "buffer");
  return out === null ? null : (out as Buffer);
}
