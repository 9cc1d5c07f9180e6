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
