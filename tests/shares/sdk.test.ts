import { schema } from "@osmynt/db";
import {
  createDevices,
  createOsmyntClient,
  createShares,
  type LiveShare,
  memorySessionStore,
  type OsmyntClient,
  type Shares,
} from "@osmynt/sdk";
import { createDeviceKeys, type DeviceKeys, loadDeviceKeys, memoryKeyStore, ShareError } from "@osmynt/sdk/crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { startTamperingProxy } from "../helpers/tampering-proxy.js";
import { call, join, ok } from "./helpers.js";

let server: TestServer;
let proxy: Awaited<ReturnType<typeof startTamperingProxy>>;
const clients: OsmyntClient[] = [];
beforeAll(async () => {
  server = await startServer();
  proxy = await startTamperingProxy(server.url);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  await server?.close();
});

/** One device of a user: its own client, key store, device logs and shares. */
function device(session: TestSession, url = server.url) {
  const client = createOsmyntClient({ url, session: memorySessionStore(session) });
  clients.push(client);
  const keyStore = memoryKeyStore();
  const devices = createDevices(client, { keyStore });
  return { client, keyStore, devices, shares: createShares(client, devices) as Shares, userId: session.user.id };
}
type Dev = ReturnType<typeof device>;

/** Another device of the same user, added by `by` (as pairing would, with both keys at hand). */
async function pairedDevice(by: Dev, session: TestSession): Promise<Dev> {
  const next = device(session);
  const keys = await createDeviceKeys(next.keyStore);
  await by.devices.addDeviceWith((await loadDeviceKeys(by.keyStore)) as DeviceKeys, keys, { name: "second" });
  return next;
}

async function take(iterator: AsyncGenerator<LiveShare>, n: number): Promise<LiveShare[]> {
  const out: LiveShare[] = [];
  while (out.length < n) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

const secret = {
  code: "function launchCodes() { return 'zebra-violet-4711'; }",
  title: "Quarterly launch sequence",
  path: "src/secret/launch-sequence.ts",
  repo: "acme-hidden/rocket-internals",
  language: "typescript",
  lineRange: { start: 3, end: 9 },
};

describe("SDK: shareCode, openShare, live", () => {
  let teamId: string;
  let alice: Dev;
  let alice2: Dev;
  let bob: Dev;
  let carol: Dev;
  let sessions: Record<"alice" | "bob" | "carol", TestSession>;
  let shareId: string;

  beforeAll(async () => {
    sessions = {
      alice: await signUp(server, randomLogin("alice")),
      bob: await signUp(server, randomLogin("bob")),
      carol: await signUp(server, randomLogin("carol")),
    };
    teamId = (await ok(call(server, "teams.create", sessions.alice, { name: "sdk crew" }))).id;
    await join(server, teamId, sessions.alice, sessions.bob);
    alice = device(sessions.alice);
    await alice.devices.register({ name: "a1" });
    alice2 = await pairedDevice(alice, sessions.alice);
    bob = device(sessions.bob);
    await bob.devices.register({ name: "b1" });
    carol = device(sessions.carol);
    await carol.devices.register({ name: "c1" });
  });

  // Carol's own share goes to her personal team, whose window has no join event: this also proves
  // that personal-team events reach their owner live.
  it("Alice shares; Bob's device and Alice's second device decrypt it live and from the feed; Carol hears nothing", async () => {
    const bobLive = bob.shares.live();
    const alice2Live = alice2.shares.live();
    const carolLive = carol.shares.live();
    // a generator starts when first asked: ask now, so the streams are open before Alice shares
    const bobNext = take(bobLive, 1);
    const alice2Next = take(alice2Live, 1);
    const carolNext = take(carolLive, 1);
    await new Promise((r) => setTimeout(r, 3000));
    shareId = (await alice.shares.shareCode({ teamId, ...secret })).id;
    const [atBob] = await bobNext;
    expect(atBob?.share).toMatchObject({ id: shareId, ...secret, authorId: alice.userId, target: { teamId } });
    const [atAlice2] = await alice2Next;
    expect(atAlice2?.share?.code).toBe(secret.code);
    // Carol's next share event is her own, later one: Alice's never reached her.
    const carolTeam = (await ok(call(server, "teams.mine", sessions.carol)))[0].id;
    const own = (await carol.shares.shareCode({ teamId: carolTeam, code: "mine", title: "mine" })).id;
    const [atCarol] = await carolNext;
    expect(atCarol?.shareId).toBe(own);
    await Promise.all([bobLive.return(undefined), alice2Live.return(undefined), carolLive.return(undefined)]);

    const feed = await bob.client.shares.listTeam.query({ teamId });
    expect(feed.items.map((h) => h.id)).toEqual([shareId]);
    expect(await bob.shares.openShare(shareId)).toMatchObject(secret);
    await expect(carol.shares.openShare(shareId)).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });

  it("Bob pairs a new device and reads the old share after his first device backfills it", async () => {
    shareId ??= (await alice.shares.shareCode({ teamId, ...secret })).id;
    const bob2 = await pairedDevice(bob, sessions.bob);
    await expect(bob2.shares.openShare(shareId)).rejects.toMatchObject({ reason: "not_a_recipient" });
    expect(await bob.shares.backfill()).toBe(1);
    expect(await bob2.shares.openShare(shareId)).toMatchObject(secret);
    expect(await bob.shares.backfill()).toBe(0);
  });

  it("Bob pairs a new device by SAS; approving it forwards the old shares, so it reads them with no backfill call", async () => {
    shareId ??= (await alice.shares.shareCode({ teamId, ...secret })).id;
    const older = (await alice.shares.shareCode({ userId: bob.userId, ...secret, title: "direct, before the pairing" })).id;
    const fresh = device((await ok(call(server, "auth.devLogin", null, { login: sessions.bob.user.login }))) as TestSession);
    let shown: string | undefined;
    const [paired, approved] = await Promise.all([
      fresh.devices.pairNewDevice({
        name: "b-new",
        showCode: (code) => {
          shown = code;
        },
        pollMs: 50,
      }),
      bob.devices.approveNewDevice({
        enterCode: async () => {
          while (!shown) await new Promise((r) => setTimeout(r, 20));
          return shown;
        },
        pollMs: 50,
      }),
    ]);
    expect(approved.deviceId).toBe(paired.deviceId);
    expect(approved.backfillError).toBeUndefined();
    expect(approved.forwarded).toBeGreaterThanOrEqual(2);
    // No backfill() anywhere: the new device reads both old shares through signed forward records it verifies.
    expect(await fresh.shares.openShare(shareId)).toMatchObject(secret);
    expect(await fresh.shares.openShare(older)).toMatchObject({ ...secret, title: "direct, before the pairing" });
    const got = await ok(call(server, "shares.get", sessions.bob, { id: older, deviceId: paired.deviceId }));
    expect(got.forward).toMatchObject({ forwarderUserId: bob.userId });
    expect(await bob.shares.backfill()).toBe(0);
  });

  it("createShares twice on one devices registers one backfill: approving a device forwards once", async () => {
    shareId ??= (await alice.shares.shareCode({ teamId, ...secret })).id;
    const bobViaProxy = device(sessions.bob, proxy.url);
    await bobViaProxy.keyStore.set("osmynt.device", (await bob.keyStore.get("osmynt.device")) as string);
    createShares(bobViaProxy.client, bobViaProxy.devices); // an extension building its layers again
    let pages = 0;
    proxy.setTamper((path, data) => {
      if (path === "shares.needingForward") pages++;
      return data;
    });
    const fresh = device((await ok(call(server, "auth.devLogin", null, { login: sessions.bob.user.login }))) as TestSession);
    let shown: string | undefined;
    const [paired, approved] = await Promise.all([
      fresh.devices.pairNewDevice({
        name: "b-third",
        showCode: (code) => {
          shown = code;
        },
        pollMs: 50,
      }),
      bobViaProxy.devices.approveNewDevice({
        enterCode: async () => {
          while (!shown) await new Promise((r) => setTimeout(r, 20));
          return shown;
        },
        pollMs: 50,
      }),
    ]);
    proxy.setTamper((_p, d) => d);
    expect(approved.deviceId).toBe(paired.deviceId);
    expect(approved.backfillError).toBeUndefined();
    expect(approved.forwarded).toBeGreaterThanOrEqual(1);
    expect(pages).toBe(1); // one backfill ran: one page of work asked for, not one per createShares
    expect(await fresh.shares.openShare(shareId)).toMatchObject(secret);
  });

  it("retries once when the server says the device set changed, sealing for the devices it missed", async () => {
    const aliceViaProxy = device(sessions.alice, proxy.url);
    await aliceViaProxy.keyStore.set("osmynt.device", (await alice.keyStore.get("osmynt.device")) as string);
    let hidden = 0;
    proxy.setTamper((path, data) => {
      if (path === "keys.forTeam" && hidden++ === 0) for (const m of data.members) if (m.userId === bob.userId) m.links = [];
      return data;
    });
    const { id } = await aliceViaProxy.shares.shareCode({ teamId, code: "retry", title: "retry" });
    proxy.setTamper((_p, d) => d);
    expect(hidden).toBe(2);
    expect((await bob.shares.openShare(id)).code).toBe("retry");
  });

  it("zero knowledge: no table and no server log line holds the plaintext or a private key", async () => {
    const tables = await server.deps.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`,
    );
    const names = ((tables as { rows?: unknown }).rows ?? tables) as { table_name: string }[];
    expect(names.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(["shares", "share_recipients", "share_forwards", "events", "audit_log"]),
    );
    let dump = "";
    for (const { table_name } of names) {
      const rows = await server.deps.db.execute(sql`select * from ${sql.identifier(table_name)}`);
      dump += JSON.stringify((rows as { rows?: unknown }).rows ?? rows);
    }
    dump += server.logs.join("\n");
    const privateKeys = [alice, alice2, bob, carol].flatMap((d) => [...Object.values(d.keyStore.names().map((n) => d.keyStore.get(n)))]);
    const needles = [
      secret.code,
      "zebra-violet-4711",
      secret.title,
      secret.path,
      secret.repo,
      "launch-sequence",
      ...privateKeys.flatMap((v) => {
        const parsed = JSON.parse(String(v));
        return [parsed.signing, parsed.kem].filter((k): k is string => typeof k === "string");
      }),
    ];
    expect(needles.length).toBeGreaterThan(6);
    for (const needle of needles) expect(dump.includes(needle), `found ${needle.slice(0, 20)}…`).toBe(false);
  });

  it("tampering in the database: openShare fails with an integrity error, never wrong plaintext", async () => {
    const { shares, shareRecipients } = schema;
    const db = server.deps.db;
    const fresh = async () => (await alice.shares.shareCode({ teamId, ...secret })).id;
    const cases: [string, (id: string) => Promise<unknown>][] = [
      [
        "ciphertext",
        (id) =>
          db
            .update(shares)
            .set({ ciphertext: sql`overlay(${shares.ciphertext} placing 'AAAA' from 20 for 4)` })
            .where(eq(shares.id, id)),
      ],
      [
        "manifest",
        (id) =>
          db
            .update(shares)
            .set({ manifest: sql`jsonb_set(${shares.manifest}, '{createdAt}', '1')` })
            .where(eq(shares.id, id)),
      ],
      [
        "recipient list",
        (id) =>
          db
            .update(shares)
            .set({ manifest: sql`jsonb_set(${shares.manifest}, '{recipients}', (${shares.manifest}->'recipients') - 0)` })
            .where(eq(shares.id, id)),
      ],
      [
        "author",
        (id) =>
          db
            .update(shares)
            .set({
              authorId: sessions.bob.user.id,
              manifest: sql`jsonb_set(${shares.manifest}, '{senderUserId}', ${JSON.stringify(sessions.bob.user.id)}::jsonb)`,
            })
            .where(eq(shares.id, id)),
      ],
      [
        "wrapped key",
        (id) =>
          db
            .update(shareRecipients)
            .set({ wrappedKey: sql`overlay(${shareRecipients.wrappedKey} placing 'AAAA' from 5 for 4)` })
            .where(eq(shareRecipients.shareId, id)),
      ],
    ];
    for (const [what, tamper] of cases) {
      const id = await fresh();
      await tamper(id);
      const error = await bob.shares.openShare(id).then(
        (opened) => new Error(`${what}: opened as ${JSON.stringify(opened).slice(0, 80)}`),
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(ShareError);
      expect((error as ShareError).message.length, what).toBeGreaterThan(10);
    }
  });
});
