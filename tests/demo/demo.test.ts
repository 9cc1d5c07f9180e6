import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * `pnpm demo` as a newcomer runs it: the root script, its own embedded engine (whatever backend
 * this suite runs on, the demo needs no services, so the services run skips it), two people,
 * one share. It must exit 0, show Bob the decrypted code, and find none of it in the stored rows.
 */
const workspace = path.resolve(import.meta.dirname, "../..");
const services = process.env.OSMYNT_TEST_BACKEND === "services";

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No DATABASE_URL or REDIS_URL from this run's environment: the demo is embedded by design.
    const env = { ...process.env, DATABASE_URL: "", REDIS_URL: "" };
    const child = spawn("pnpm", ["--silent", "demo"], { cwd: workspace, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 280_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(services)("pnpm demo", () => {
  it("runs an embedded engine, shares encrypted code live, prints what the server stored and what Bob read, and cleans up", {
    timeout: 300_000,
  }, async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stderr).not.toMatch(/demo failed/);
    const bobSaw = stdout.slice(stdout.indexOf("7. What Bob's live feed shows"));
    expect(bobSaw).toMatch(/share\.created in "Demo team"/);
    expect(bobSaw).toContain("   │   // only Alice's and Bob's devices can read this line");
    expect(bobSaw).toContain("src/greet.ts:1-4, typescript");
    const stored = stdout.slice(stdout.indexOf("6. What the server stored"), stdout.indexOf("7. What Bob's"));
    expect(stored).toMatch(/ciphertext \d+ bytes \(SNIP1-P256\)/);
    expect(stored).toMatch(/wrapped key for alice device dev_/);
    expect(stored).toMatch(/wrapped key for bob {3}device dev_/);
    expect(stored).not.toContain("Hello,");
    expect(stdout).toMatch(/alice's screen: ((\d{5} ){11}\d{5})\n {3}bob's screen: {3}\1\n/);
    const dataDir = /engine stopped, (\S+) removed/.exec(stdout)?.[1];
    expect(dataDir).toBeDefined();
    expect(existsSync(dataDir as string)).toBe(false);
  });
});
