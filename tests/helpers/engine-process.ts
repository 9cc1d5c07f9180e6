import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.js";
import { TEST_JWT_SECRET } from "./server.js";
import { waitFor } from "./wait.js";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface EngineProcess {
  child: ChildProcess;
  output: string[];
  url: string;
  trpcUrl: string;
  wsUrl: string;
  /** True once the process has exited, whatever the reason. */
  exited(): boolean;
  /** SIGTERM, then resolves with how it exited (SIGKILL after `ms`). */
  stop(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The real engine in a process of its own, started the way an operator starts it (`main.ts`), so
 * a crash is an exit the test can see instead of a failure inside the test runner.
 */
export async function startEngineProcess(
  env: Record<string, string>,
  options: { command?: string[]; cwd?: string; spawn?: Pick<SpawnOptions, "uid" | "gid"> } = {},
): Promise<EngineProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(
    options.command?.[0] ?? process.execPath,
    options.command?.slice(1) ?? ["--conditions=osmynt-source", "--import", "tsx", "server/src/main.ts"],
    {
      cwd: options.cwd ?? repoRoot,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        NODE_ENV: "development",
        HOST: "127.0.0.1",
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: "warn",
        RATE_LIMIT_PER_MINUTE: "100000",
        RATE_LIMIT_PER_USER_PER_MINUTE: "100000",
        RATE_LIMIT_SIGN_IN_PER_MINUTE: "100000",
        ...env,
        PORT: port,
      },
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.spawn?.uid !== undefined ? { uid: options.spawn.uid, gid: options.spawn.gid } : {}),
    },
  );
  const output: string[] = [];
  child.stdout?.on("data", (chunk) => output.push(String(chunk)));
  child.stderr?.on("data", (chunk) => output.push(String(chunk)));
  const url = `http://127.0.0.1:${port}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    output,
    url,
    trpcUrl: `${url}/trpc`,
    wsUrl: `ws://127.0.0.1:${port}/trpc`,
    exited,
    stop(ms = 15_000) {
      return new Promise((resolve) => {
        if (exited()) return resolve({ code: child.exitCode, signal: child.signalCode });
        const timer = setTimeout(() => child.kill("SIGKILL"), ms);
        child.once("exit", (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal });
        });
        child.kill("SIGTERM");
      });
    },
  };
}

/** Waits for `/ready` 200 (failing early, with the engine's output, if it exits). */
export async function waitReady(engine: EngineProcess, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    "the engine's /ready 200",
    async () => {
      if (engine.exited()) throw new Error(`the engine exited (${engine.child.exitCode}):\n${engine.output.join("")}`);
      return (await fetch(`${engine.url}/ready`)).status === 200;
    },
    { timeoutMs, intervalMs: 200 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\nengine output:\n${engine.output.join("")}`);
  });
}

/** Resolves with the exit of a process expected to stop by itself (a refused start-up). */
export function exitOf(engine: EngineProcess, ms = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const done = () => resolve({ code: engine.child.exitCode, output: engine.output.join("") });
    if (engine.exited()) return done();
    const timer = setTimeout(() => {
      engine.child.kill("SIGKILL");
      reject(new Error(`the engine did not exit within ${ms} ms:\n${engine.output.join("")}`));
    }, ms);
    engine.child.once("exit", () => {
      clearTimeout(timer);
      // Let the pipes drain.
      setTimeout(done, 50);
    });
  });
}
