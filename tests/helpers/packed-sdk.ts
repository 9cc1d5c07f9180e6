import { spawn } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The workspace root and the SDK package, as the packed-SDK tests see them. */
export const workspace = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const sdkDir = path.join(workspace, "sdk");

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`), collecting what it printed. */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `ran`, or an error carrying all it printed when it did not exit 0. */
export function ok(ran: Ran, what: string): Ran {
  if (ran.code !== 0) throw new Error(`${what} exited ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

/**
 * The SDK as it ships, installed into `project` (a new folder outside the workspace, holding
 * `files`) from the tarball `pnpm pack` makes in `work` (its prepack script builds dist/ first),
 * with npm and the registry, beside `extraPackages`: what an outside project gets.
 */
export async function installPackedSdk(options: {
  work: string;
  project: string;
  name: string;
  files: Record<string, string>;
  extraPackages?: string[];
  timeoutMs: number;
}): Promise<void> {
  const { work, project } = options;
  if (!path.relative(workspace, project).startsWith("..")) throw new Error(`${project} is inside the workspace`);
  ok(await run("pnpm", ["pack", "--pack-destination", work], { cwd: sdkDir, timeoutMs: 180_000 }), "pnpm pack");
  const tarball = (await readdir(work)).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error(`pnpm pack left no tarball in ${work}`);
  await mkdir(project);
  await writeFile(path.join(project, "package.json"), JSON.stringify({ name: options.name, private: true, type: "module" }));
  for (const [file, text] of Object.entries(options.files)) await writeFile(path.join(project, file), text);
  // npm's own cache (--prefer-offline) keeps a second install from going back to the registry.
  const install = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", path.join(work, tarball)];
  ok(await run("npm", [...install, ...(options.extraPackages ?? [])], { cwd: project, timeoutMs: options.timeoutMs }), "npm install");
}
