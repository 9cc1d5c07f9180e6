/**
 * `pnpm demo`: a newcomer's first minute with Osmynt, in one process and one command, with no
 * services. It starts an embedded engine (PGlite in a temporary folder, a random loopback port,
 * local development sign-in), signs in two people each on a device of their own through the
 * real SDK over HTTP and WebSocket, has them form a team, and has Alice share code that Bob's live
 * feed receives and decrypts. It prints what the server stored (read from its own database) next
 * to what Bob sees, then stops the engine and removes its data. Exits 0 only if every step worked
 * and the stored rows hold none of the shared text.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { schema } from "@osmynt/db";
import { createDevices, createOsmyntClient, createShares, memorySessionStore, type OsmyntClient } from "@osmynt/sdk";
import { memoryKeyStore } from "@osmynt/sdk/crypto";
import { eq } from "drizzle-orm";
import { buildApp, createLogger, loadConfig, openDeps } from "../src/index.js";

const started = performance.now();
const out = (line = "") => process.stdout.write(`${line}\n`);
const step = (n: number, title: string) => out(`\n${n}. ${title}`);
const detail = (text: string) => out(`   ${text}`);
const indent = (text: string, prefix: string) =>
  text
    .split("\n")
    .map((l) => `${prefix}${l}`)
    .join("\n");

const sharedCode = `export function greet(name: string): string {
  // only Alice's and Bob's devices can read this line
  return \`Hello, \${name}!\`;
}`;
const sharedContent = {
  code: sharedCode,
  title: "greet.ts",
  path: "src/greet.ts",
  language: "typescript",
  lineRange: { start: 1, end: 4 },
};

/** A free loopback port, asked of the OS: the engine builds invite links from its configured port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const dataDir = await mkdtemp(path.join(tmpdir(), "osmynt-demo-"));
const clients: OsmyntClient[] = [];
let engine: { close(): Promise<void> } | null = null;

try {
  out("Osmynt demo: end-to-end encrypted code sharing, live, between two people");

  step(1, "An embedded engine starts");
  const config = loadConfig({
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: String(await freePort()),
    OSMYNT_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
  });
  const deps = await openDeps(config, createLogger({ level: "silent" }));
  const app = await buildApp(deps);
  await app.listen({ host: config.host, port: config.port });
  const url = `http://${config.host}:${config.port}`;
  engine = {
    close: async () => {
      await app.close();
      await deps.close();
    },
  };
  if (config.devLoginDisabledReason !== null) throw new Error(`dev sign-in is off: ${config.devLoginDisabledReason}`);
  detail(`${url}  database: ${deps.database.kind} in ${dataDir}  events: ${deps.bus.kind} bus`);
  detail("local development mode: dev sign-in (no password) is on, loopback only");

  step(2, "Alice and Bob sign in, each on a device of their own");
  const person = async (login: string, deviceName: string) => {
    const client = createOsmyntClient({ url, session: memorySessionStore() });
    clients.push(client);
    const session = await client.signInWithDevLogin(login);
    // The device's keys stay in its key store: here memory, in an editor its secret storage.
    const devices = createDevices(client, { keyStore: memoryKeyStore() });
    const device = await devices.register({ name: deviceName });
    detail(`${login.padEnd(5)} signed in as ${session.user.id}; device "${deviceName}" ${device.deviceId} registered`);
    detail(`      its keys never leave it; the server keeps only its signed public keys`);
    return { login, client, devices, shares: createShares(client, devices), userId: session.user.id };
  };
  const alice = await person("alice", "alice-laptop");
  const bob = await person("bob", "bob-laptop");

  step(3, "Alice creates a team and invites Bob; Bob joins");
  const team = await alice.client.teams.create.mutate({ name: "Demo team" });
  const invite = await alice.client.teams.invites.create.mutate({ teamId: team.id });
  detail(`team "${team.name}" ${team.id}; invite link ${invite.url.replace(/[^/]{12}$/, "…")} (one use, 24 h)`);
  const joined = await bob.client.teams.invites.accept.mutate({ token: invite.url });
  detail(`bob joined "${joined.name}" as a member`);

  step(4, "They compare safety numbers (in person or on a call) and mark each other verified");
  const aliceSees = await alice.devices.safetyNumberWith(bob.userId);
  const bobSees = await bob.devices.safetyNumberWith(alice.userId);
  detail(`alice's screen: ${aliceSees}`);
  detail(`bob's screen:   ${bobSees}`);
  await alice.devices.verifyUser(bob.userId, bobSees);
  await bob.devices.verifyUser(alice.userId, aliceSees);
  detail("the same 60 digits: each side pins the other's keys as verified");

  step(5, "Bob's live feed opens (WebSocket); Alice shares code with the team");
  const feed = bob.client.events({ signal: AbortSignal.timeout(60_000) });
  await feed.ready;
  detail("bob is listening");
  detail(`alice shares ${sharedContent.path} lines ${sharedContent.lineRange.start}-${sharedContent.lineRange.end}:`);
  out(indent(sharedCode, "   │ "));
  const created = await alice.shares.shareCode({ teamId: team.id, ...sharedContent });
  detail(`sealed on alice's device for every device of the team, sent as ${created.id}`);

  step(6, "What the server stored (read from its own database)");
  const [row] = await deps.db.select().from(schema.shares).where(eq(schema.shares.id, created.id));
  const wraps = await deps.db.select().from(schema.shareRecipients).where(eq(schema.shareRecipients.shareId, created.id));
  if (!row) throw new Error(`the share ${created.id} is not in the database`);
  detail(`shares row ${row.id}: ciphertext ${row.ciphertextBytes} bytes (${row.suite}), nonce, signed manifest`);
  detail(`ciphertext begins ${row.ciphertext.slice(0, 48)}…`);
  for (const wrap of wraps) {
    detail(
      `wrapped key for ${wrap.userId === alice.userId ? "alice" : "bob  "} device ${wrap.deviceId}: ${wrap.wrappedKey.length} characters`,
    );
  }
  const stored = JSON.stringify({ row, wraps });
  const leaked = [sharedCode, "Hello, ", sharedContent.title, sharedContent.path, "only Alice's"].filter((text) => stored.includes(text));
  if (leaked.length > 0) throw new Error(`the server's rows contain shared text: ${leaked.join(", ")}`);
  detail("the code, its title and its path appear nowhere in these rows: the server cannot read them");

  step(7, "What Bob's live feed shows, decrypted on Bob's device");
  let shareId: string | null = null;
  for await (const event of feed) {
    if (event.type === "share.created" && (event.payload as { shareId?: string }).shareId === created.id) {
      shareId = created.id;
      detail(`event ${event.id}: share.created in "${team.name}" (the event carries ids only)`);
      break;
    }
  }
  if (!shareId) throw new Error("Bob's live feed ended before the share arrived");
  // openShare checks the signature, Alice's device log, the key commitment and the bindings first.
  const opened = await bob.shares.openShare(shareId);
  if (opened.code !== sharedCode) throw new Error("Bob decrypted something other than what Alice shared");
  detail(
    `from alice (${opened.authorDeviceId}): ${opened.title}, ${opened.path}:${opened.lineRange?.start}-${opened.lineRange?.end}, ${opened.language}`,
  );
  out(indent(opened.code, "   │ "));
  detail("signature, alice's device log, key commitment: verified before decrypting");

  out(
    `\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s: the server routed and stored ciphertext; only the two devices read the code.`,
  );
} catch (error) {
  process.exitCode = 1;
  console.error(`\ndemo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await Promise.allSettled(clients.map((c) => c.close()));
  await engine?.close().catch(() => {});
  await rm(dataDir, { recursive: true, force: true });
  out(`engine stopped, ${dataDir} removed`);
}
