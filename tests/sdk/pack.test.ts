import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { installPackedSdk, ok, run } from "../helpers/packed-sdk.js";
import { startServer, type TestServer } from "../helpers/server.js";

/**
 * The acceptance test of the SDK as it ships: pack it, install the tarball with npm into a project
 * outside the workspace (no server source, no drizzle, fastify or zod), type-check code against
 * it, and run its built JavaScript and its CLI with plain node against a real server.
 */

const tsconfig = (file: string) =>
  JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ["node"],
    },
    files: [file],
  });

const goodTs = `import { createOsmyntClient, type RouterInputs, type RouterOutputs, type Session } from "@osmynt/sdk";

export async function main(): Promise<string> {
  const client = createOsmyntClient({ url: "http://127.0.0.1:8787" });
  const session: Session = await client.signInWithDevLogin("octocat");
  const me = await client.auth.me.query();
  const login: string = me.login;
  // @ts-expect-error the user has no such field: the types are real, not \`any\`
  void me.notAField;
  const input: RouterInputs["auth"]["devLogin"] = { login };
  await client.auth.devLogin.mutate(input);
  const sessions: RouterOutputs["auth"]["sessions"]["list"] = await client.auth.sessions.list.query();
  const subscription = client.events.subscribe.subscribe(undefined, {
    onData: (event) => {
      const type: string = event.data.type;
      const id: string = event.id;
      void [type, id];
    },
  });
  subscription.unsubscribe();
  await client.close();
  return \`\${session.user.login} \${login} \${sessions.length}\`;
}
`;

const badTs = `import { createOsmyntClient } from "@osmynt/sdk";

export async function main(): Promise<void> {
  const client = createOsmyntClient({ url: "http://127.0.0.1:8787" });
  await client.auth.devLogin.mutate({ login: 42 });
}
`;

// Plain Node 20, the built JavaScript: HTTP calls, then a subscription over the default WebSocket (ws).
const runMjs = `import { createOsmyntClient } from "@osmynt/sdk";

const [url, login] = process.argv.slice(2);
const client = createOsmyntClient({ url });
await client.signInWithDevLogin(login);
const me = await client.auth.me.query();
console.log(\`me: \${me.login}\`);
await new Promise((resolve, reject) => {
  const subscription = client.events.subscribe.subscribe(undefined, {
    onStarted: () => {
      subscription.unsubscribe();
      resolve();
    },
    onError: reject,
  });
});
console.log(\`subscribed: \${client.connectionState.get().state}\`);
await client.close();
`;

let server: TestServer;
let work: string;
let project: string;

beforeAll(async () => {
  server = await startServer();
  work = await mkdtemp(path.join(tmpdir(), "osmynt-sdk-pack-"));
  project = path.join(work, "project");

  await installPackedSdk({
    work,
    project,
    name: "outside-project",
    files: {
      "tsconfig.json": tsconfig("good.ts"),
      "tsconfig.bad.json": tsconfig("bad.ts"),
      "good.ts": goodTs,
      "bad.ts": badTs,
      "run.mjs": runMjs,
    },
    extraPackages: ["typescript@5.9.3", "@types/node@20"],
    timeoutMs: 240_000,
  });
}, 420_000);

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const tsc = (config: string) => run("node", ["node_modules/typescript/bin/tsc", "-p", config], { cwd: project });

describe("the packed SDK in a project outside the workspace", { timeout: 180_000 }, () => {
  it("ships built files only, and its types name no server-side package", async () => {
    const installed = path.join(project, "node_modules/@osmynt/sdk");
    const files = await readdir(path.join(installed, "dist"), { recursive: true });
    expect(files).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "cli.js", "generated/router-types.d.ts"]));
    await expect(stat(path.join(installed, "src"))).rejects.toThrow();
    for (const file of files.filter((f) => f.endsWith(".d.ts"))) {
      const text = await readFile(path.join(installed, "dist", file), "utf8");
      expect(text, file).not.toMatch(/@osmynt\/(server|db)|drizzle|fastify|from "zod"/);
    }
    for (const absent of ["@osmynt/server", "drizzle-orm", "fastify", "zod"]) {
      await expect(stat(path.join(project, "node_modules", absent)), absent).rejects.toThrow();
    }
  });

  it("tsc rejects a call with the wrong input type, naming it", async () => {
    const result = await tsc("tsconfig.bad.json");
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/bad\.ts\(5,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });

  it("tsc accepts correct calls, with exact result types", async () => {
    const result = await tsc("tsconfig.json");
    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.code).toBe(0);
  });

  it("plain node signs in with devLogin, reads auth.me and subscribes over WebSocket", async () => {
    const login = randomLogin("pack");
    const result = ok(await run("node", ["run.mjs", server.url, login], { cwd: project, timeoutMs: 30_000 }), "node run.mjs");
    expect(result.stdout).toContain(`me: ${login}\n`);
    expect(result.stdout).toContain("subscribed: pending\n");
  });

  it("the osmynt CLI logs in, says who is signed in and logs out", async () => {
    const sessionFile = path.join(project, ".osmynt", "session.json");
    const env = { OSMYNT_CONFIG_DIR: path.dirname(sessionFile), OSMYNT_SERVER: "" };
    const cli = (...args: string[]) => run(path.join(project, "node_modules/.bin/osmynt"), args, { cwd: project, env, timeoutMs: 30_000 });
    const login = randomLogin("cli");

    expect(ok(await cli("login", "--server", server.url, "--dev-login", login), "osmynt login").stdout).toContain(`as ${login}`);
    expect((await stat(sessionFile)).mode & 0o777).toBe(0o600);
    expect(ok(await cli("whoami"), "osmynt whoami").stdout).toContain(`${login} on ${server.url}`);
    expect(ok(await cli("logout"), "osmynt logout").stdout).toContain("Signed out");
    const after = await cli("whoami");
    expect(after.code).toBe(2); // the documented "not signed in"
    expect(after.stderr).toContain("not signed in");
    expect((await cli("frobnicate")).code).toBe(1); // usage
  });
});
