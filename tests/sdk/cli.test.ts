import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { followBrowser } from "../helpers/github-flow.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";

// The CLI from its TypeScript source, as a real child process (the pack test runs the built one).
const cli = resolve(import.meta.dirname, "../../sdk/src/cli.ts");
let fake: FakeGitHub;
let server: TestServer;
let home: string;

beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: fake.env() });
  home = mkdtempSync(join(tmpdir(), "osmynt-cli-"));
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

function run(args: string[], stdin = "", onOutput?: (soFar: string) => void): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--conditions=osmynt-source", "--import", "tsx", cli, ...args], {
      env: { ...process.env, OSMYNT_CONFIG_DIR: home, GITHUB_TOKEN: "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
      onOutput?.(out);
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => done({ code, out, err }));
    child.stdin.end(stdin);
  });
}

// Generous: each step starts the CLI from its TypeScript source, slow on a loaded machine.
describe("osmynt CLI with GitHub", { timeout: 180_000 }, () => {
  it("signs in with a GitHub token piped on stdin (never an argument), then whoami and logout", async () => {
    const user = fake.addUser({ login: randomLogin("cli") });
    const token = fake.tokenFor(user.login);
    const login = await run(["login", "--server", server.url, "--github-token"], `${token}\n`);
    expect(login.code, login.err).toBe(0);
    expect(login.out).toContain(`as ${user.login}`);
    expect(statSync(join(home, "session.json")).mode & 0o777).toBe(0o600);
    const who = await run(["whoami"]);
    expect(who.code, who.err).toBe(0);
    expect(who.out).toContain(user.login);
    const out = await run(["logout"]);
    expect(out.out).toContain("Signed out");
    expectNoSecretsInLogs(server.logs, [token]);
  });

  it("signs in through the browser flow: prints the code and the link; a browser types the code and follows through GitHub", async () => {
    const user = fake.addUser({ login: randomLogin("clib") });
    let followed: Promise<unknown> | null = null;
    const login = await run(["login", "--server", server.url, "--browser"], "", (soFar) => {
      const url = soFar.match(/^\s+(http\S+)$/m)?.[1];
      const code = soFar.match(/^Your sign-in code: ([A-Z]{4}-[A-Z]{4})$/m)?.[1];
      if (url && code && !followed) followed = followBrowser(url, "approve", code);
    });
    expect(login.code, login.err).toBe(0);
    expect(followed).not.toBeNull();
    expect(login.out).toContain(`as ${user.login}`);
    expect((await run(["whoami"])).out).toContain(user.login);
  });

  it("refuses an ambiguous or incomplete login with the usage, and a bad token with GitHub's answer", async () => {
    const both = await run(["login", "--server", server.url, "--github-token", "--dev-login", "x"]);
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/one of --browser, --github-token or --dev <login>/);
    const bad = await run(["login", "--server", server.url, "--github-token"], "gho_not-a-real-token\n");
    // GitHub refused the token: not signed in (exit 2).
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^osmynt: .*GitHub/m);
  });
});
