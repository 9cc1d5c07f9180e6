import { schema } from "@osmynt/db";
import { createDevices, createOsmyntClient, type Devices, memorySessionStore, type OsmyntClient } from "@osmynt/sdk";
import {
  createAddDeviceLink,
  createRootLink,
  type DeviceKeys,
  type DeviceLink,
  DeviceLogError,
  generateDeviceKeys,
  loadDeviceKeys,
  memoryKeyStore,
  signLink,
  unsignedLink,
  verifyDeviceLog,
} from "@osmynt/sdk/crypto";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { startTamperingProxy } from "../helpers/tampering-proxy.js";
import { join } from "../teams/helpers.js";
import { call, ok } from "./helpers.js";

// The server turned against its users: it edits the database behind the API, or a proxy rewrites
// its answers. Every case must be caught by the SDK's verification of the whole log and its pins,
// with a DeviceLogError whose reason names what failed and whose message names the user.

let server: TestServer;
let proxy: Awaited<ReturnType<typeof startTamperingProxy>>;
const clients: OsmyntClient[] = [];
beforeAll(async () => {
  server = await startServer();
  proxy = await startTamperingProxy(server.url);
});
afterEach(() => proxy.setTamper((_p, data) => data));
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  await server?.close();
});

function sdk(session: TestSession, url = server.url): Devices {
  const client = createOsmyntClient({ url, session: memorySessionStore(session) });
  clients.push(client);
  return createDevices(client, { keyStore: memoryKeyStore() });
}

interface Scene {
  teamId: string;
  alice: TestSession;
  aliceSdk: Devices;
  /** Alice's own device keys: the test plays Alice's honest devices with them. */
  a1: DeviceKeys;
  a2: DeviceKeys;
  bob: TestSession;
  /** Bob reads through the tampering proxy. */
  bobSdk: Devices;
}

/** Alice (two devices) and Bob in a team; Bob has seen, verified and pinned Alice's log. */
async function scene(): Promise<Scene> {
  const alice = await signUp(server, randomLogin("alice"));
  const bob = await signUp(server, randomLogin("bob"));
  const team = await ok(call(server, "teams.create", alice, { name: `trust ${randomLogin("t")}` }));
  await join(server, team.id, alice, bob);
  const aliceSdk = sdk(alice);
  await aliceSdk.register({ name: "a1" });
  const a1 = (await loadDeviceKeys(aliceSdk.internals.store)) as DeviceKeys;
  const a2 = await generateDeviceKeys();
  await aliceSdk.addDeviceWith(a1, a2, { name: "a2" });
  const bobSdk = sdk(bob, proxy.url);
  await bobSdk.register({ name: "b1" });
  await bobSdk.logOf(alice.user.id);
  return { teamId: team.id, alice, aliceSdk, a1, a2, bob, bobSdk };
}

const links = schema.deviceLinks;

async function storedLinks(userId: string): Promise<DeviceLink[]> {
  const rows = await server.deps.db.select({ link: links.link }).from(links).where(eq(links.userId, userId)).orderBy(links.seq);
  return rows.map((r) => r.link as unknown as DeviceLink);
}

/** The server writes a link of its own straight into the table, bypassing every check. */
async function forceLink(userId: string, link: DeviceLink) {
  await server.deps.db
    .insert(links)
    .values({
      userId,
      seq: link.seq,
      type: link.type,
      deviceId: link.deviceId,
      signerDeviceId: link.signerDeviceId,
      hash: "forged",
      link: link as never,
    })
    .onConflictDoUpdate({ target: [links.userId, links.seq], set: { link: link as never, type: link.type, deviceId: link.deviceId } });
}

async function dropLinks(userId: string, seqs: number[]) {
  await server.deps.db.delete(links).where(and(eq(links.userId, userId), inArray(links.seq, seqs)));
}

async function verifiedState(s: Scene) {
  return verifyDeviceLog(await storedLinks(s.alice.user.id), { userId: s.alice.user.id });
}

/**
 * Bob's SDK refuses Alice's keys, both when reading her log and when gathering recipients for a
 * team share, with `reason`, naming Alice; his pin of her stays where it was.
 */
async function expectDetected(s: Scene, reason: string) {
  const pinBefore = await s.bobSdk.pinOf(s.alice.user.id);
  const read = await s.bobSdk.logOf(s.alice.user.id).catch((e: unknown) => e);
  expect(read).toBeInstanceOf(DeviceLogError);
  expect((read as DeviceLogError).reason).toBe(reason);
  expect((read as DeviceLogError).userId).toBe(s.alice.user.id);
  expect((read as Error).message).toContain(s.alice.user.id);
  const encrypt = await s.bobSdk.recipientsForTeam(s.teamId).catch((e: unknown) => e);
  expect(encrypt).toBeInstanceOf(DeviceLogError);
  expect((encrypt as DeviceLogError).reason).toBe(reason);
  expect((encrypt as Error).message).toContain(s.alice.user.id);
  expect(await s.bobSdk.pinOf(s.alice.user.id)).toEqual(pinBefore);
  return read as DeviceLogError;
}

describe("a malicious server is caught by the SDK", () => {
  it("rogue device added with a signature by a key of the server's (database)", async () => {
    const s = await scene();
    const state = await verifiedState(s);
    const serverKey = await generateDeviceKeys();
    const rogue = await generateDeviceKeys();
    // claims to be signed by Alice's first device, but the server has no private key of hers
    const body = unsignedLink(state, {
      type: "add_device",
      deviceId: rogue.deviceId,
      signerDeviceId: s.a1.deviceId,
      signingKey: rogue.signingPublicKey,
      kemKey: rogue.kemPublicKey,
    });
    const forged = await signLink(body, serverKey, (await createAddDeviceLink(state, serverKey, rogue)).reverseSignature);
    await forceLink(s.alice.user.id, forged);
    const error = await expectDetected(s, "bad_signature");
    expect(error.seq).toBe(2);
  });

  it("rogue device added by a signer that is not in the log (database)", async () => {
    const s = await scene();
    const state = await verifiedState(s);
    const serverDevice = await generateDeviceKeys();
    await forceLink(s.alice.user.id, await createAddDeviceLink(state, serverDevice, await generateDeviceKeys()));
    await expectDetected(s, "unknown_signer");
  });

  it("device key swapped for a key the server holds (database)", async () => {
    const s = await scene();
    const [, second] = await storedLinks(s.alice.user.id);
    const serverKey = await generateDeviceKeys();
    await forceLink(s.alice.user.id, { ...(second as DeviceLink), kemKey: serverKey.kemPublicKey });
    expect((await expectDetected(s, "bad_signature")).seq).toBe(1);
  });

  it("device key swapped in the answer (proxy)", async () => {
    const s = await scene();
    const serverKey = await generateDeviceKeys();
    proxy.setTamper((path, data) => {
      if (path === "keys.forUser") data.links[1].kemKey = serverKey.kemPublicKey;
      if (path === "keys.forTeam")
        for (const m of data.members) if (m.userId === s.alice.user.id) m.links[1].kemKey = serverKey.kemPublicKey;
      return data;
    });
    await expectDetected(s, "bad_signature");
  });

  it("revocation dropped (database)", async () => {
    const s = await scene();
    await s.aliceSdk.revoke(s.a2.deviceId);
    // Bob sees the revocation once; then the server hides it to get him to encrypt to a2 again
    const seen = await s.bobSdk.logOf(s.alice.user.id);
    expect(seen.state.devices.find((d) => d.deviceId === s.a2.deviceId)?.status).toBe("revoked");
    await dropLinks(s.alice.user.id, [2]);
    await expectDetected(s, "rolled_back");
  });

  it("log forked: another valid history shown to one reader (proxy)", async () => {
    const s = await scene();
    const state = await verifiedState(s);
    const x = await generateDeviceKeys();
    await s.aliceSdk.addDeviceWith(s.a1, x, { name: "x" });
    await s.bobSdk.logOf(s.alice.user.id); // Bob pins the head with x
    // The other branch: at the same seq Alice's device added y instead (both validly signed).
    const y = await createAddDeviceLink(state, s.a1, await generateDeviceKeys(), { name: "y" });
    proxy.setTamper((path, data) => {
      if (path === "keys.forUser") data.links[2] = y;
      if (path === "keys.forTeam") for (const m of data.members) if (m.userId === s.alice.user.id) m.links[2] = y;
      return data;
    });
    expect((await expectDetected(s, "forked")).seq).toBe(2);
  });

  it("log rolled back to an older prefix (database)", async () => {
    const s = await scene();
    await s.aliceSdk.addDeviceWith(s.a1, await generateDeviceKeys());
    await s.aliceSdk.revoke(s.a2.deviceId);
    await s.bobSdk.logOf(s.alice.user.id);
    await dropLinks(s.alice.user.id, [2, 3]);
    await expectDetected(s, "rolled_back");
  });

  it("log truncated to nothing (database)", async () => {
    const s = await scene();
    await dropLinks(s.alice.user.id, [0, 1]);
    await expectDetected(s, "empty_log");
  });

  it("log truncated in the middle (database)", async () => {
    const s = await scene();
    await s.aliceSdk.revoke(s.a2.deviceId);
    await dropLinks(s.alice.user.id, [1]);
    expect((await expectDetected(s, "wrong_seq")).seq).toBe(2);
  });

  it("links reordered (database)", async () => {
    const s = await scene();
    await s.aliceSdk.addDeviceWith(s.a1, await generateDeviceKeys());
    const [, one, two] = await storedLinks(s.alice.user.id);
    await forceLink(s.alice.user.id, { ...(two as DeviceLink), seq: 2 });
    await server.deps.db
      .update(links)
      .set({ link: two as never })
      .where(and(eq(links.userId, s.alice.user.id), eq(links.seq, 1)));
    await server.deps.db
      .update(links)
      .set({ link: one as never })
      .where(and(eq(links.userId, s.alice.user.id), eq(links.seq, 2)));
    await expectDetected(s, "wrong_seq");
  });

  it("fingerprint changed: a whole new, validly self-signed log for the user (database)", async () => {
    const s = await scene();
    const serverDevice = await generateDeviceKeys();
    await dropLinks(s.alice.user.id, [0, 1]);
    await forceLink(s.alice.user.id, await createRootLink(s.alice.user.id, serverDevice, { name: "a1" }));
    const error = await expectDetected(s, "fingerprint_changed");
    expect(error.message).toMatch(/fingerprint .* changed/);
  });

  it("first contact with a substituted identity is caught by comparing safety numbers (proxy)", async () => {
    const s = await scene();
    // Carol has never seen Alice: the server shows her a log of its own (TOFU cannot know better)...
    const carol = await signUp(server, randomLogin("carol"));
    await join(server, s.teamId, s.alice, carol);
    const carolSdk = sdk(carol, proxy.url);
    await carolSdk.register();
    const fake = await createRootLink(s.alice.user.id, await generateDeviceKeys(), { name: "a1" });
    proxy.setTamper((path, data) => {
      if (path === "keys.forUser" && data.userId === s.alice.user.id) data.links = [fake];
      return data;
    });
    const shown = await carolSdk.logOf(s.alice.user.id);
    expect(shown.pin.verified).toBe(false);
    // ...but the safety number Alice reads out to her, from Alice's own true log, does not match.
    const fromAlice = await s.aliceSdk.safetyNumberWith(carol.user.id);
    const refused = await carolSdk.verifyUser(s.alice.user.id, fromAlice).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DeviceLogError);
    expect((refused as Error).message).toContain(s.alice.user.id);
    expect((await carolSdk.pinOf(s.alice.user.id))?.verified).toBe(false);
  });
});

describe("an honest server", () => {
  it("log changes that extend the pinned log are accepted, and verifyUser upgrades the pin", async () => {
    const s = await scene();
    await s.aliceSdk.revoke(s.a2.deviceId);
    const { state, pin } = await s.bobSdk.logOf(s.alice.user.id);
    expect(pin.head).toEqual(state.head);
    expect(pin.verified).toBe(false);
    const number = await s.aliceSdk.safetyNumberWith(s.bob.user.id);
    expect(await s.bobSdk.safetyNumberWith(s.alice.user.id)).toBe(number);
    expect((await s.bobSdk.verifyUser(s.alice.user.id, number.replace(/ /g, "-"))).verified).toBe(true);
    expect((await s.bobSdk.pinOf(s.alice.user.id))?.verified).toBe(true);
  });

  it("never offers a revoked device or a rotated-away key as a recipient", async () => {
    const s = await scene();
    const before = await s.bobSdk.recipientsForTeam(s.teamId);
    expect(before.filter((r) => r.userId === s.alice.user.id).map((r) => r.deviceId)).toEqual([s.a1.deviceId, s.a2.deviceId]);
    await s.aliceSdk.revoke(s.a2.deviceId);
    const oldKey = s.a1.kemPublicKey as string;
    await s.aliceSdk.rotate();
    const after = await s.bobSdk.recipientsForTeam(s.teamId);
    const alices = after.filter((r) => r.userId === s.alice.user.id);
    expect(alices.map((r) => r.deviceId)).toEqual([s.a1.deviceId]);
    expect(alices[0]?.kemKey).not.toBe(oldKey);
    await expect(s.bobSdk.assertRecipient(s.alice.user.id, s.a2.deviceId, s.a2.kemPublicKey as string)).rejects.toMatchObject({
      reason: "revoked_device",
    });
    await expect(s.bobSdk.assertRecipient(s.alice.user.id, s.a1.deviceId, oldKey)).rejects.toMatchObject({ reason: "retired_key" });
    await expect(s.bobSdk.assertRecipient(s.alice.user.id, s.a1.deviceId, alices[0]?.kemKey as string)).resolves.toBeUndefined();
  });
});
