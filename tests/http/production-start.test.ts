import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The real engine as an operator starts it; resolves with its exit code and everything it printed. */
function runEngine(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=osmynt-source", "--import", "tsx", "server/src/main.ts"], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), HOST: "127.0.0.1", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the engine did not stop within 30 s:\n${output}`));
    }, 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("a production engine refuses weak settings at start-up", () => {
  it("exits naming a guessable JWT_SECRET and every plain-HTTP public or GitHub URL", async () => {
    const { code, output } = await runEngine({
      NODE_ENV: "production",
      OSMYNT_DATA_DIR: "memory://",
      JWT_SECRET: "x".repeat(32),
      PUBLIC_URL: "http://osmynt.example.com",
      GITHUB_CLIENT_ID: "Iv1.id",
      GITHUB_CLIENT_SECRET: "secret",
      GITHUB_OAUTH_URL: "http://github.example.com",
    });
    expect(code, output).toBe(1);
    expect(output).toMatch(/Invalid configuration/);
    expect(output).toMatch(/JWT_SECRET: too predictable for production .*whoever guesses it can sign access tokens/);
    expect(output).toMatch(/PUBLIC_URL: must be https:\/\/ in production/);
    expect(output).toMatch(/GITHUB_OAUTH_URL: must be https:\/\/ in production/);
    expect(output).not.toMatch(/osmynt engine ready/);
  });
});

describe("the container image's start command from a pruned production install", () => {
  it("serves /ready from a production-only install of the server (what docs/deploy/Dockerfile builds)", async () => {
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { startEngineProcess, waitReady } = await import("../helpers/engine-process.js");
    const dir = mkdtempSync(join(tmpdir(), "osmynt-image-"));
    try {
      // The committed tree, as `COPY . .` sees it (minus ignored files), then the Dockerfile's install.
      execFileSync("sh", ["-c", `git archive HEAD | tar -x -C '${dir}'`], { cwd: repoRoot });
      execFileSync("pnpm", ["install", "--frozen-lockfile", "--prod", "--offline", "--filter", "@osmynt/server..."], {
        cwd: dir,
        stdio: "pipe",
        env: { ...process.env, CI: "true" },
      });
      const engine = await startEngineProcess(
        { NODE_ENV: "production", HOST: "127.0.0.1", OSMYNT_DATA_DIR: join(dir, "data"), JWT_SECRET: "q8Xv2LmN4pR7tY1wZ3bC6dF9gH0jK5sA" },
        { cwd: join(dir, "server"), command: [process.execPath, "--conditions=osmynt-source", "--import", "tsx", "src/main.ts"] },
      );
      try {
        await waitReady(engine);
        const ready = (await (await fetch(`${engine.url}/ready`)).json()) as { status: string };
        expect(ready.status).toBe("ready");
        // Only the server and the packages it imports were installed: not the tests' dependencies.
        const { existsSync } = await import("node:fs");
        expect(existsSync(join(dir, "tests", "node_modules"))).toBe(false);
        expect(await engine.stop()).toEqual({ code: 0, signal: null });
      } finally {
        await engine.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
