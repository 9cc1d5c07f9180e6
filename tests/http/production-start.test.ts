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
  it("builds, prunes and serves /ready as docs/deploy/Dockerfile does, with the bundle as its one process; --migrate-only applies and exits", async () => {
    const { execFileSync } = await import("node:child_process");
    const { existsSync, mkdtempSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { startEngineProcess, waitReady } = await import("../helpers/engine-process.js");
    const dir = mkdtempSync(join(tmpdir(), "osmynt-image-"));
    const pnpm = (...args: string[]) => execFileSync("pnpm", args, { cwd: dir, stdio: "pipe", env: { ...process.env, CI: "true" } });
    try {
      // The committed tree, as `COPY . .` sees it (minus ignored files), then the Dockerfile's
      // install, build and prune.
      execFileSync("sh", ["-c", `git archive HEAD | tar -x -C '${dir}'`], { cwd: repoRoot });
      pnpm("install", "--frozen-lockfile", "--offline", "--filter", "@osmynt/server...");
      pnpm("--filter", "@osmynt/server", "build");
      pnpm("install", "--frozen-lockfile", "--prod", "--offline", "--ignore-scripts", "--filter", "@osmynt/server...");
      // Only the server and the packages it imports were installed, and the build tools are gone.
      expect(existsSync(join(dir, "tests", "node_modules"))).toBe(false);
      expect(existsSync(join(dir, "server", "node_modules", "esbuild"))).toBe(false);
      expect(existsSync(join(dir, "server", "node_modules", "tsx"))).toBe(false);

      const env = {
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        OSMYNT_DATA_DIR: join(dir, "data"),
        JWT_SECRET: "q8Xv2LmN4pR7tY1wZ3bC6dF9gH0jK5sA",
      };
      const command = [process.execPath, "server/dist/main.js"];
      const migrate = await startEngineProcess({ ...env, LOG_LEVEL: "info" }, { cwd: dir, command: [...command, "--migrate-only"] });
      const migrated = await new Promise((resolve) => {
        if (migrate.exited()) resolve({ code: migrate.child.exitCode, signal: migrate.child.signalCode });
        else migrate.child.once("exit", (code, signal) => resolve({ code, signal }));
      });
      expect(migrated, migrate.output.join("")).toEqual({ code: 0, signal: null });
      expect(migrate.output.join("")).toMatch(/migrations applied/);
      expect(existsSync(join(dir, "data", "PG_VERSION"))).toBe(true);

      const engine = await startEngineProcess(env, { cwd: dir, command });
      try {
        await waitReady(engine);
        const ready = (await (await fetch(`${engine.url}/ready`)).json()) as { status: string };
        expect(ready.status).toBe("ready");
        // The lazily loaded parts of the bundle load: the OpenAPI document and the API reference.
        const doc = (await (await fetch(`${engine.url}/doc`)).json()) as { openapi: string };
        expect(doc.openapi).toMatch(/^3\.1/);
        const script = await fetch(`${engine.url}/reference/js/scalar.js`);
        expect(script.status).toBe(200);
        expect(script.headers.get("content-type")).toMatch(/javascript/);
        expect(await engine.stop()).toEqual({ code: 0, signal: null });
      } finally {
        await engine.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
