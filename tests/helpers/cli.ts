import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const sdk = path.resolve(import.meta.dirname, "../../sdk");

/**
 * Compiles the SDK the way `pnpm build` does (tsconfig.build.json; the package's `bin` is
 * `dist/cli.js`) into a folder of its own, `sdk/.vitest-cli-…/dist` (ignored by git), so the test
 * runs the real binary without racing the pack test, which rebuilds `sdk/dist`. Beside it, a
 * package.json with the SDK's `type` and `imports` (`#platform-websocket`), as the installed
 * package has; dependencies resolve from sdk/node_modules. Quick: no declarations and no type
 * check (`pnpm typecheck` does that), only tsc's emit. `#platform-websocket` resolves through its
 * source condition while compiling: tsc maps the package's `./dist/…` targets back to the sources
 * only for the configured outDir.
 */
export async function buildCli(): Promise<{ bin: string; remove(): void }> {
  const folder = path.join(sdk, `.vitest-cli-${process.pid}-${randomBytes(4).toString("hex")}`);
  builds.add(folder);
  const manifest = JSON.parse(await readFile(path.join(sdk, "package.json"), "utf8"));
  await mkdir(folder, { recursive: true });
  await writeFile(
    path.join(folder, "package.json"),
    JSON.stringify({ name: "osmynt-cli-under-test", private: true, type: manifest.type, imports: manifest.imports }),
  );
  try {
    await promisify(execFile)(
      process.execPath,
      [
        path.join(sdk, "node_modules/typescript/bin/tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        path.join(folder, "dist"),
        "--declaration",
        "false",
        "--noCheck",
        "--customConditions",
        "osmynt-source",
      ],
      { cwd: sdk },
    );
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw new Error(`building the CLI failed: ${(error as { stdout?: string }).stdout ?? ""}`, { cause: error });
  }
  return { bin: path.join(folder, "dist", "cli.js"), remove: () => rmSync(folder, { recursive: true, force: true }) };
}

const builds = new Set<string>();

/** Removes every build this process made, even one whose hook timed out before it returned. */
export function removeCliBuilds(): void {
  for (const folder of builds) rmSync(folder, { recursive: true, force: true });
  builds.clear();
}

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
  /** stdout parsed as JSON (for `--json` runs). */
  json(): any;
  /** stderr's JSON error object (for failed `--json` runs). */
  error(): { code: string; exitCode: number; message: string; details?: Record<string, unknown> };
}

export interface RunOptions {
  configDir: string;
  cwd?: string;
  stdin?: string;
  env?: Record<string, string>;
  /** Leave stdin open, for `write` (answering a prompt later); `stdin` is not sent then. */
  interactive?: boolean;
  /** Called with stderr so far whenever it grows (to act on a prompt or a "ready" line). */
  onStderr?: (soFar: string) => void;
}

/** The environment of a CLI run: only what the test chooses (no OSMYNT_SERVER, GITHUB_TOKEN or gh reuse from the machine). */
function cliEnv(options: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OSMYNT_CONFIG_DIR: options.configDir, NO_COLOR: "1", GITHUB_TOKEN: "" };
  delete env.OSMYNT_SERVER;
  return { ...env, ...options.env };
}

/** Starts the binary; `done` resolves when it exits. */
export function startCli(
  bin: string,
  args: string[],
  options: RunOptions,
): { done: Promise<CliResult>; kill(): void; write(text: string): void } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, env: cliEnv(options), stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => {
    err += d;
    options.onStderr?.(err);
  });
  child.stdin.on("error", () => {}); // the CLI may stop reading before the test stops writing
  if (!options.interactive) child.stdin.end(options.stdin ?? "");
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code) =>
      resolve({
        code,
        out,
        err,
        json: () => JSON.parse(out),
        error: () => JSON.parse(err.trim().split("\n").at(-1) ?? "").error,
      }),
    ),
  );
  return { done, kill: () => child.kill("SIGINT"), write: (text) => child.stdin.end(text) };
}

export function runCli(bin: string, args: string[], options: RunOptions): Promise<CliResult> {
  return startCli(bin, args, options).done;
}
