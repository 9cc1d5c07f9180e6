import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDevices, createOsmyntClient, createShares, fileSessionStore } from "@osmynt/sdk";
import { fileKeyStore } from "@osmynt/sdk/crypto/file-key-store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, type CliResult, type RunOptions, removeCliBuilds, runCli, startCli } from "../helpers/cli.js";
import { randomLogin } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// The real `osmynt` binary (compiled as `pnpm build` does) as child processes, against a real
// server on port 0 in local development mode; two people, each with their own config folder and clone.
let cli: { bin: string; remove(): void };
let server: TestServer;
let root: string;
const dir = (name: string) => path.join(root, name);
const gitEnv = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.test", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.test" };
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, env: { ...process.env, ...gitEnv }, encoding: "utf8" }).trim();

const alice = { login: randomLogin("alice"), config: "", repo: "" };
const bob = { login: randomLogin("bob"), config: "", repo: "" };
let teamId = "";
let firstShare = "";

function as(who: { config: string; repo: string }, args: string[], extra: Partial<RunOptions> = {}): Promise<CliResult> {
  return runCli(cli.bin, args, { configDir: who.config, cwd: who.repo, ...extra });
}
function ok(result: CliResult): CliResult {
  expect(result.code, `exit ${result.code}\nstdout: ${result.out}\nstderr: ${result.err}`).toBe(0);
  return result;
}

const original = ["export function add(a: number, b: number) {", "  return a + b;", "}", "", "export const answer = 42;", ""].join("\n");

beforeAll(async () => {
  [cli, server] = await Promise.all([buildCli(), startServer()]);
  root = mkdtempSync(path.join(tmpdir(), "osmynt-cli-e2e-"));
  alice.config = dir("alice-config");
  bob.config = dir("bob-config");
  alice.repo = dir("alice-repo");
  bob.repo = dir("bob-repo");
  mkdirSync(path.join(alice.repo, "src"), { recursive: true });
  git(alice.repo, "init", "-q");
  writeFileSync(path.join(alice.repo, "src/math.ts"), original);
  git(alice.repo, "add", ".");
  git(alice.repo, "commit", "-qm", "first");
  git(root, "clone", "-q", alice.repo, bob.repo);
}, 300_000); // a loaded machine may take minutes to compile and start a server
afterAll(async () => {
  await server?.close();
  removeCliBuilds();
  if (root) rmSync(root, { recursive: true, force: true });
});

// Generous: every step is a process start, and test machines are often loaded.
describe("osmynt CLI end to end", { timeout: 240_000 }, () => {
  it("two users log in (dev mode); each first use registers the device", async () => {
    for (const who of [alice, bob]) {
      const login = ok(await as(who, ["login", "--server", server.url, "--dev", who.login, "--json"])).json();
      expect(login).toMatchObject({
        server: server.url,
        method: "dev",
        user: { login: who.login },
        device: { registered: true },
        needsPairing: false,
      });
      const me = ok(await as(who, ["whoami", "--json"])).json();
      expect(me).toMatchObject({ server: server.url, user: { login: who.login }, deviceId: login.device.deviceId });
    }
  });

  it("alice creates a team and invites; bob joins with the invite URL", async () => {
    const created = ok(await as(alice, ["teams", "create", "Core team", "--json"])).json();
    teamId = created.team.id;
    expect(created.team).toMatchObject({ name: "Core team", myRole: "owner", personal: false });
    const invite = ok(await as(alice, ["--json", "teams", "invite", "Core team"])).json();
    expect(invite.url).toMatch(/\/invite\/osi_/);
    const joined = ok(await as(bob, ["teams", "join", invite.url, "--json"])).json();
    expect(joined).toMatchObject({ joined: true, team: { id: teamId, myRole: "member" } });
    const members = ok(await as(bob, ["teams", "members", teamId, "--json"])).json();
    expect(members.members.map((m: { login: string }) => m.login).sort()).toEqual([alice.login, bob.login].sort());
    const list = ok(await as(bob, ["teams", "list"]));
    expect(list.out).toContain("Core team");
  });

  it("a shared line range arrives in bob's watch decrypted; show decrypts it; apply writes it into bob's clone", async () => {
    // Alice edits lines 2-3 without committing and shares them: the share records HEAD.
    const edited = original.replace("  return a + b;\n}", "  // checked\n  return a + b;");
    writeFileSync(path.join(alice.repo, "src/math.ts"), edited);
    const head = git(alice.repo, "rev-parse", "HEAD");

    let stderr = "";
    const watch = startCli(cli.bin, ["watch", "--count", "1", "--json"], {
      configDir: bob.config,
      cwd: bob.repo,
      onStderr: (e) => (stderr = e),
    });
    await waitFor("watch to subscribe", async () => stderr.includes("Watching for shares"), { timeoutMs: 60_000 }).catch(async (error) => {
      watch.kill();
      throw new Error(`${(error as Error).message}\n${JSON.stringify(await watch.done)}`);
    });
    const shared = ok(await as(alice, ["share", "src/math.ts", "--lines", "2-3", "--team", "Core team", "--json"])).json();
    firstShare = shared.id;
    expect(shared).toMatchObject({
      target: { teamId },
      path: "src/math.ts",
      commit: head,
      lineRange: { start: 2, end: 3 },
      title: "src/math.ts:2-3",
    });
    expect(shared.repo).toBe(alice.repo.split(path.sep).at(-1));

    const watched = ok(await watch.done);
    const lines = watched.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].share).toMatchObject({
      id: shared.id,
      code: "  // checked\n  return a + b;",
      path: "src/math.ts",
      commit: head,
      lineRange: { start: 2, end: 3 },
      author: alice.login,
      warnings: [],
    });

    const shown = ok(await as(bob, ["show", shared.id]));
    expect(shown.out).toBe("  // checked\n  return a + b;\n");
    expect(ok(await as(bob, ["show", shared.id, "--json"])).json()).toMatchObject({ id: shared.id, code: "  // checked\n  return a + b;" });
    const out = path.join(root, "shown.ts");
    ok(await as(bob, ["show", shared.id, "--out", out]));
    expect(readFileSync(out, "utf8")).toBe("  // checked\n  return a + b;");

    // Without a terminal to ask on, apply wants --yes, and changes nothing.
    const unasked = await as(bob, ["apply", shared.id]);
    expect(unasked.code).toBe(1);
    expect(unasked.out).toContain("+  // checked");
    expect(readFileSync(path.join(bob.repo, "src/math.ts"), "utf8")).toBe(original);

    const applied = ok(await as(bob, ["apply", shared.id, "--yes", "--json"])).json();
    expect(applied).toMatchObject({ id: shared.id, path: "src/math.ts", changed: true, forced: false });
    expect(applied.diff).toContain("-}");
    expect(readFileSync(path.join(bob.repo, "src/math.ts"), "utf8")).toBe(edited);
    expect(ok(await as(bob, ["apply", shared.id, "--yes", "--json"])).json()).toMatchObject({ changed: false });
  });

  it("watch resumes after the last share it printed (the cursor persists)", async () => {
    const second = ok(
      await as(alice, ["share", "-", "--path", "notes/todo.md", "--title", "todo", "--json"], { stdin: "- ship it\n" }),
    ).json();
    const resumed = ok(await as(bob, ["watch", "--count", "1", "--json"]));
    const [line] = resumed.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(line.share).toMatchObject({ id: second.id, title: "todo", code: "- ship it\n", path: "notes/todo.md", fullFile: true });
    expect(resumed.err).toMatch(/resuming after event \d+/);
    const cursors = JSON.parse(readFileSync(path.join(bob.config, "cursors.json"), "utf8"));
    expect(Object.values(cursors)).toEqual([line.eventId]);
    const list = ok(await as(bob, ["list", "--json"])).json();
    expect(list.shares.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining([firstShare, second.id]));
  });

  it("apply refuses a recorded path that escapes the repository (exit 4), and writes nothing", async () => {
    // A hostile author: the share is sealed with alice's real keys, through the SDK, with a bad path.
    const aliceId = ok(await as(alice, ["whoami", "--json"])).json().user.id as string;
    const client = createOsmyntClient({ url: server.url, session: fileSessionStore(path.join(alice.config, "session.json")) });
    const devices = createDevices(client, {
      keyStore: fileKeyStore(path.join(alice.config, "keys.json")),
      deviceKeyName: `osmynt.device.${aliceId}`,
    });
    const shares = createShares(client, devices);
    const outside = dir("outside");
    mkdirSync(outside);
    symlinkSync(outside, path.join(bob.repo, "linked"));
    const head = git(bob.repo, "rev-parse", "HEAD");
    try {
      for (const recorded of [
        "../escaped.txt",
        path.join(outside, "absolute.txt"),
        "linked/through-symlink.txt",
        ".git/hooks/pre-commit",
        "src/..\\..\\x",
      ]) {
        const { id } = await shares.shareCode({ teamId, code: "pwned\n", title: "evil", path: recorded, commit: head, fullFile: true });
        const refused = await as(bob, ["apply", id, "--yes", "--force", "--json"]);
        expect(refused.code, `${recorded}: ${refused.err}`).toBe(4);
        expect(refused.error()).toMatchObject({ code: "integrity", exitCode: 4, details: { reason: "path_escapes_repository" } });
      }
    } finally {
      await client.close();
    }
    expect(existsSync(path.join(root, "escaped.txt"))).toBe(false);
    expect(existsSync(path.join(outside, "absolute.txt"))).toBe(false);
    expect(existsSync(path.join(outside, "through-symlink.txt"))).toBe(false);
    expect(existsSync(path.join(bob.repo, ".git/hooks/pre-commit"))).toBe(false);
  });

  it("apply refuses a file changed since the shared commit unless --force (exit 6)", async () => {
    git(alice.repo, "commit", "-qam", "checked");
    git(bob.repo, "checkout", "--", "src/math.ts");
    git(bob.repo, "pull", "-q", "--ff-only");
    writeFileSync(path.join(alice.repo, "src/math.ts"), readFileSync(path.join(alice.repo, "src/math.ts"), "utf8").replace("42", "43"));
    const shared = ok(await as(alice, ["share", "src/math.ts", "--lines", "5-5", "--json"])).json();
    const mine = `${readFileSync(path.join(bob.repo, "src/math.ts"), "utf8")}// bob's own change\n`;
    writeFileSync(path.join(bob.repo, "src/math.ts"), mine);

    const refused = await as(bob, ["apply", shared.id, "--yes", "--json"]);
    expect(refused.code).toBe(6);
    expect(refused.error()).toMatchObject({ code: "conflict", details: { reason: "changed_since_commit", path: "src/math.ts" } });
    expect(readFileSync(path.join(bob.repo, "src/math.ts"), "utf8")).toBe(mine);

    const forced = ok(await as(bob, ["apply", shared.id, "--yes", "--force", "--json"])).json();
    expect(forced).toMatchObject({ changed: true, forced: true });
    expect(readFileSync(path.join(bob.repo, "src/math.ts"), "utf8")).toBe(mine.replace("42", "43"));
  });
});

describe("osmynt devices and teams through the binary", { timeout: 240_000 }, () => {
  const bobLaptop = { config: "", repo: "" };

  it("a second device is paired with devices pair / approve and reads the older shares", async () => {
    bobLaptop.config = dir("bob-laptop-config");
    bobLaptop.repo = bob.repo;
    const login = ok(await as(bobLaptop, ["login", "--server", server.url, "--dev", bob.login, "--json"])).json();
    expect(login).toMatchObject({ device: null, needsPairing: true });
    const unpaired = await as(bobLaptop, ["show", firstShare, "--json"]);
    expect(unpaired.code).toBe(2);
    expect(unpaired.error().message).toMatch(/devices pair/);

    // Both sides run at once: the new device shows its code once the approving one has answered,
    // and the person types it there (here: piped on approve's stdin).
    let shown = "";
    const pair = startCli(cli.bin, ["devices", "pair", "--name", "laptop", "--json"], {
      configDir: bobLaptop.config,
      onStderr: (e) => (shown = e),
    });
    let asked = "";
    const approve = startCli(cli.bin, ["devices", "approve", "--json"], {
      configDir: bob.config,
      interactive: true,
      onStderr: (e) => (asked = e),
    });
    const { value: code } = await waitFor("the pairing code", async () => /Pairing code: (\d{4} \d{4})/.exec(shown)?.[1], {
      timeoutMs: 120_000,
    });
    await waitFor("approve to ask for it", async () => asked.includes("asks to join"), { timeoutMs: 60_000 });
    approve.write(`${code}\n`);
    const approved = ok(await approve.done).json();
    expect(approved.forwarded).toBeGreaterThanOrEqual(2);
    const paired = ok(await pair.done).json();
    expect(paired).toMatchObject({ paired: true, deviceId: approved.deviceId });

    expect(ok(await as(bobLaptop, ["show", firstShare])).out).toBe("  // checked\n  return a + b;\n");
    const listed = ok(await as(bob, ["devices", "list", "--json"])).json();
    expect(listed.devices.filter((d: { status: string }) => d.status === "active").map((d: { deviceId: string }) => d.deviceId)).toContain(
      approved.deviceId,
    );

    ok(await as(bob, ["devices", "revoke", approved.deviceId, "--json"]));
    const revoked = await as(bobLaptop, ["show", firstShare, "--json"]);
    expect(revoked.code).toBe(2);
    expect(revoked.error().message).toMatch(/revoked/);
  });

  it("safety numbers match on both sides and verify; a wrong number is a trust failure (exit 4); rotate", async () => {
    const theirs = ok(await as(alice, ["devices", "safety-number", bob.login, "--json"])).json();
    const mine = ok(await as(bob, ["devices", "safety-number", alice.login, "--json"])).json();
    expect(theirs.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(mine.safetyNumber).toBe(theirs.safetyNumber);
    const wrong = await as(bob, ["devices", "verify", alice.login, "00000 ".repeat(12).trim(), "--json"]);
    expect(wrong.code).toBe(4);
    expect(ok(await as(bob, ["devices", "verify", alice.login, ...theirs.safetyNumber.split(" "), "--json"])).json()).toMatchObject({
      login: alice.login,
      verified: true,
    });

    const before = ok(await as(alice, ["devices", "fingerprint", "--json"])).json();
    const rotated = ok(await as(alice, ["devices", "rotate", "--json"])).json();
    expect(rotated.kemKeyId).toEqual(expect.any(String));
    expect(ok(await as(alice, ["devices", "fingerprint", "--json"])).json().fingerprint).toBe(before.fingerprint);
    const after = ok(await as(alice, ["share", "-", "--path", "after-rotate.txt", "--json"], { stdin: "rotated\n" })).json();
    expect(ok(await as(bob, ["show", after.id])).out).toBe("rotated\n");
  });

  it("roles, removal and leaving", async () => {
    expect(ok(await as(alice, ["teams", "role", "Core team", bob.login, "admin", "--json"])).json()).toMatchObject({
      changed: true,
      role: "admin",
    });
    const ownerLeaves = await as(alice, ["teams", "leave", "Core team", "--json"]);
    expect(ownerLeaves.code).toBe(6);
    ok(await as(alice, ["teams", "remove", "Core team", bob.login, "--json"]));
    const gone = await as(bob, ["teams", "members", teamId, "--json"]);
    expect(gone.code).toBe(3);
  });
});

describe("exit codes and files", { timeout: 240_000 }, () => {
  it("usage errors exit 1", async () => {
    for (const args of [
      ["frobnicate"],
      ["share"],
      ["list", "--limit", "0"],
      ["share", "missing-file.ts"],
      ["share", "src/math.ts", "--lines", "9-1"],
    ]) {
      const result = await as(alice, args);
      expect(result.code, `${args.join(" ")}: ${result.err}`).toBe(1);
    }
  });

  it("not signed in exits 2, with a JSON error on stderr", async () => {
    const nobody = { config: dir("nobody-config"), repo: root };
    const result = await as(nobody, ["whoami", "--json"]);
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    expect(result.error()).toMatchObject({ code: "not_signed_in", exitCode: 2 });
    // A session belongs to the server it was made on.
    expect((await as(alice, ["whoami", "--server", "http://127.0.0.1:1"])).code).toBe(2);
  });

  it("not found or forbidden exits 3", async () => {
    expect((await as(alice, ["show", "shr_AAAAAAAAAAAAAAAAAAAA", "--json"])).code).toBe(3);
    expect((await as(alice, ["teams", "members", "no such team"])).code).toBe(3);
    expect((await as(alice, ["share", "src/math.ts", "--user", "nobody-here"])).code).toBe(3);
  });

  it("an unreachable server exits 5", async () => {
    const result = await as({ config: dir("offline-config"), repo: root }, [
      "login",
      "--server",
      "http://127.0.0.1:1",
      "--dev",
      "x",
      "--json",
    ]);
    expect(result.code).toBe(5);
    expect(result.error()).toMatchObject({ code: "network", exitCode: 5 });
  });

  it("keeps its folder 0700 and its files 0600, under $XDG_CONFIG_HOME/osmynt without OSMYNT_CONFIG_DIR", async () => {
    const xdg = dir("xdg");
    mkdirSync(path.join(xdg, "osmynt"), { recursive: true, mode: 0o755 });
    chmodSync(path.join(xdg, "osmynt"), 0o755);
    const who = { config: "", repo: root };
    ok(
      await as(who, ["login", "--server", server.url, "--dev", randomLogin("perm"), "--json"], {
        env: { OSMYNT_CONFIG_DIR: "", XDG_CONFIG_HOME: xdg },
      }),
    );
    const folder = path.join(xdg, "osmynt");
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    for (const file of ["config.json", "session.json", "keys.json"])
      expect(statSync(path.join(folder, file)).mode & 0o777, file).toBe(0o600);
    expect(statSync(bob.config).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(bob.config, "cursors.json")).mode & 0o777).toBe(0o600);
  });
});
