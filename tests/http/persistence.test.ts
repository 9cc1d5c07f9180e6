import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { backend } from "../helpers/backend.js";
import { randomLogin } from "../helpers/factories.js";
import { freePort } from "../helpers/ports.js";
import { waitFor } from "../helpers/wait.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const READY_WITHIN_MS = 30_000;
const EXIT_WITHIN_MS = 15_000;

interface Engine {
  child: ChildProcess;
  output: string[];
  url: string;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  // Only if a test failed half-way: never leave an engine behind.
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  running.clear();
});

/** The real engine as an operator starts it: its own process, a data folder, a port. */
function startEngine(dataDir: string, port: number): Engine {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: String(port),
    OSMYNT_DATA_DIR: dataDir,
    LOG_LEVEL: "info",
  };
  const child = spawn(process.execPath, ["--conditions=osmynt-source", "--import", "tsx", "server/src/main.ts"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const output: string[] = [];
  child.stdout?.on("data", (chunk) => output.push(String(chunk)));
  child.stderr?.on("data", (chunk) => output.push(String(chunk)));
  return { child, output, url: `http://127.0.0.1:${port}` };
}

async function waitUntilReady(engine: Engine): Promise<number> {
  const started = Date.now();
  for (const path of ["/health", "/ready"]) {
    await waitFor(
      `${path} 200 from the engine`,
      async () => {
        if (engine.child.exitCode !== null) throw new Error(`engine exited with ${engine.child.exitCode}:\n${engine.output.join("")}`);
        const response = await fetch(`${engine.url}${path}`);
        return response.status === 200;
      },
      { timeoutMs: READY_WITHIN_MS, intervalMs: 200 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nengine output:\n${engine.output.join("")}`);
    });
  }
  return Date.now() - started;
}

async function stopEngine(engine: Engine): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    engine.child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  engine.child.kill("SIGTERM");
  const timeout = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error(`engine did not exit within ${EXIT_WITHIN_MS} ms of SIGTERM`)), EXIT_WITHIN_MS).unref();
  });
  return Promise.race([exited, timeout]);
}

async function trpc(engine: Engine, path: string, init: { input?: unknown; token?: string; query?: boolean }) {
  const headers: Record<string, string> = init.token ? { authorization: `Bearer ${init.token}` } : {};
  const response = init.query
    ? await fetch(`${engine.url}/trpc/${path}`, { headers })
    : await fetch(`${engine.url}/trpc/${path}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(init.input),
      });
  return { status: response.status, body: (await response.json()) as any };
}

// The embedded backend only: on the services backend the data lives in PostgreSQL, not a folder.
describe.runIf(backend === "embedded")("embedded persistence across a restart", () => {
  it("a user created with devLogin is still there after a clean SIGTERM and a restart on the same data folder", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "osmynt-persist-"));
    try {
      const port = await freePort();
      const login = randomLogin("persist");

      const first = startEngine(dataDir, port);
      const firstReadyMs = await waitUntilReady(first);
      console.log(`engine (fresh data folder) answered /health and /ready 200 after ${firstReadyMs} ms`);
      expect(firstReadyMs).toBeLessThan(READY_WITHIN_MS);
      expect(first.output.join("")).toMatch(/LOCAL DEVELOPMENT MODE: auth\.devLogin is ON/);

      const created = await trpc(first, "auth.devLogin", { input: { login } });
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      const session = created.body.result.data;

      const firstExit = await stopEngine(first);
      expect(firstExit, first.output.join("")).toEqual({ code: 0, signal: null });

      const second = startEngine(dataDir, port);
      const secondReadyMs = await waitUntilReady(second);
      console.log(`engine (existing data folder) answered /health and /ready 200 after ${secondReadyMs} ms`);
      expect(secondReadyMs).toBeLessThan(READY_WITHIN_MS);

      const again = await trpc(second, "auth.devLogin", { input: { login } });
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.result.data.user.id).toBe(session.user.id);
      expect(again.body.result.data.user.createdAt).toBe(session.user.createdAt);

      // Refresh tokens live in the database, so the session from before the restart goes on.
      const refreshed = await trpc(second, "auth.refresh", { input: { refreshToken: session.refreshToken } });
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
      expect(refreshed.body.result.data.user.id).toBe(session.user.id);
      const me = await trpc(second, "auth.me", { query: true, token: refreshed.body.result.data.accessToken });
      expect(me.body.result.data.login).toBe(login);

      const secondExit = await stopEngine(second);
      expect(secondExit, second.output.join("")).toEqual({ code: 0, signal: null });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
