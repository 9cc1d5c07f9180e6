import { schema } from "@osmynt/db";
import { createRevokeLink } from "@osmynt/sdk/crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { addDevice, call, type Device, expectError, firstDevice, forward, join, logOf, ok, read, seal, share } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

interface World {
  teamId: string;
  alice: Device;
  alice2: Device;
  bob: Device;
  carol: Device;
}

/** Alice (two devices) and Bob (one) in a team; Carol, with a device, outside it. */
async function world(): Promise<World> {
  const [a, b, c] = await Promise.all([
    signUp(server, randomLogin("alice")),
    signUp(server, randomLogin("bob")),
    signUp(server, randomLogin("carol")),
  ]);
  const team = await ok(call(server, "teams.create", a, { name: "crew" }));
  await join(server, team.id, a, b);
  const alice = await firstDevice(server, a);
  const alice2 = await addDevice(server, alice);
  const bob = await firstDevice(server, b);
  const carol = await firstDevice(server, c);
  return { teamId: team.id, alice, alice2, bob, carol };
}

const payload = { code: "const answer = 42;", title: "the answer", path: "src/answer.ts", repo: "acme/widgets" };

describe("team shares", () => {
  it("Bob's device and Alice's second device decrypt what Alice shares; the feed lists it newest first", async () => {
    const w = await world();
    const id = await share(server, w.alice, { teamId: w.teamId }, payload);
    expect(await read(server, w.bob, id)).toEqual(payload);
    expect(await read(server, w.alice2, id)).toEqual(payload);
    expect(await read(server, w.alice, id)).toEqual(payload);
    const second = await share(server, w.bob, { teamId: w.teamId }, { code: "x", title: "y" });
    const page = await ok(call(server, "shares.listTeam", w.bob.session, { teamId: w.teamId }));
    expect(page.items.map((h: any) => h.id)).toEqual([second, id]);
    expect(page.items[1]).toMatchObject({
      authorId: w.alice.userId,
      authorDeviceId: w.alice.keys.deviceId,
      teamId: w.teamId,
      unread: true,
    });
    expect(page.items[0].unread).toBe(false);
    expect(Object.keys(page.items[0]).sort()).toEqual(
      ["authorDeviceId", "authorId", "ciphertextBytes", "createdAt", "expiresAt", "id", "targetUserId", "teamId", "unread"].sort(),
    );
    const byAlice = await ok(call(server, "shares.listTeam", w.bob.session, { teamId: w.teamId, authorId: w.alice.userId }));
    expect(byAlice.items.map((h: any) => h.id)).toEqual([id]);
  });

  it("Carol, outside the team, gets NOT_FOUND on every path", async () => {
    const w = await world();
    const id = await share(server, w.alice, { teamId: w.teamId }, payload);
    expectError(await call(server, "shares.get", w.carol.session, { id, deviceId: w.carol.keys.deviceId }), "NOT_FOUND");
    expectError(await call(server, "shares.get", w.carol.session, { id, deviceId: w.bob.keys.deviceId }), "NOT_FOUND");
    expectError(await call(server, "shares.listTeam", w.carol.session, { teamId: w.teamId }), "NOT_FOUND");
    expectError(await call(server, "shares.delete", w.carol.session, { id }), "NOT_FOUND");
    expectError(await call(server, "shares.markRead", w.carol.session, { teamId: w.teamId }), "NOT_FOUND");
    expect(await ok(call(server, "shares.markRead", w.carol.session, { shareIds: [id] }))).toEqual({ marked: 0 });
    const direct = await ok(call(server, "shares.listDirect", w.carol.session, { userId: w.alice.userId }));
    expect(direct.items).toEqual([]);
    const built = await forward(server, w.alice, id, [w.alice.userId]).catch((e) => e);
    expect(built).toBeInstanceOf(Error); // every Alice device already holds a key
    expect((await ok(call(server, "shares.unread", w.carol.session))).total).toBe(0);
  });

  it("refuses a recipient set that is not exactly the team's active devices, with { missing, extra, stale }", async () => {
    const w = await world();
    const onlyAlice = await seal(server, w.alice, { teamId: w.teamId }, payload, { recipients: [] });
    const missing = expectError(
      await call(server, "shares.create", w.alice.session, {
        target: { teamId: w.teamId },
        envelope: onlyAlice.envelope,
        recipients: onlyAlice.wraps,
      }),
      "PRECONDITION_FAILED",
      /exactly the target's active devices/,
    );
    expect(missing.data.details.missing).toEqual([{ userId: w.bob.userId, deviceId: w.bob.keys.deviceId }]);
    expect(missing.data.details.extra).toEqual([]);
    const withCarol = await seal(server, w.alice, { teamId: w.teamId }, payload, {
      recipients: [await logOf(server, w.carol.session, w.carol.userId), await logOf(server, w.alice.session, w.bob.userId)],
    });
    const extra = expectError(
      await call(server, "shares.create", w.alice.session, {
        target: { teamId: w.teamId },
        envelope: withCarol.envelope,
        recipients: withCarol.wraps,
      }),
      "PRECONDITION_FAILED",
    );
    expect(extra.data.details.extra).toEqual([{ userId: w.carol.userId, deviceId: w.carol.keys.deviceId }]);
    expect((await ok(call(server, "shares.listTeam", w.alice.session, { teamId: w.teamId }))).items).toEqual([]);
  });

  it("a member who joins later sees no earlier share; a removed member sees none any more", async () => {
    const w = await world();
    const id = await share(server, w.alice, { teamId: w.teamId }, payload);
    const dave = await firstDevice(server, await signUp(server, randomLogin("dave")));
    await join(server, w.teamId, w.alice.session, dave.session);
    expect((await ok(call(server, "shares.listTeam", dave.session, { teamId: w.teamId }))).items).toEqual([]);
    expectError(await call(server, "shares.get", dave.session, { id, deviceId: dave.keys.deviceId }), "NOT_FOUND");
    // the author chooses to include Dave: a forward to his devices
    expectError(await (await forward(server, w.bob, id, [dave.userId])).send(), "FORBIDDEN", /author/);
    await ok((await forward(server, w.alice, id, [dave.userId])).send());
    expect(await read(server, dave, id)).toEqual(payload);

    await ok(call(server, "teams.members.remove", w.alice.session, { teamId: w.teamId, userId: w.bob.userId }));
    expectError(await call(server, "shares.get", w.bob.session, { id, deviceId: w.bob.keys.deviceId }), "NOT_FOUND");
    expectError(await call(server, "shares.listTeam", w.bob.session, { teamId: w.teamId }), "NOT_FOUND");
    await ok(call(server, "teams.delete", w.alice.session, { teamId: w.teamId }));
    expectError(await call(server, "shares.get", dave.session, { id, deviceId: dave.keys.deviceId }), "NOT_FOUND");
  });
});

describe("backfill and devices", () => {
  it("Bob's new device reads old shares once his first device forwards them", async () => {
    const w = await world();
    const id = await share(server, w.alice, { teamId: w.teamId }, payload);
    const bob2 = await addDevice(server, w.bob);
    const before = await ok(call(server, "shares.get", w.bob.session, { id, deviceId: bob2.keys.deviceId }));
    expect(before.wrap).toBeNull();
    const added = await ok((await forward(server, w.bob, id, [w.bob.userId])).send());
    expect(added.added).toEqual([{ userId: w.bob.userId, deviceId: bob2.keys.deviceId }]);
    expect(await read(server, bob2, id)).toEqual(payload);
  });

  it("a revoked device gets no key any more", async () => {
    const w = await world();
    const id = await share(server, w.alice, { teamId: w.teamId }, payload);
    const state = await logOf(server, w.alice.session, w.alice.userId);
    await ok(call(server, "keys.revoke", w.alice.session, { link: await createRevokeLink(state, w.alice.keys, w.alice2.keys.deviceId) }));
    expectError(await call(server, "shares.get", w.alice.session, { id, deviceId: w.alice2.keys.deviceId }), "FORBIDDEN", /revoked/);
    expect(await read(server, w.alice, id)).toEqual(payload);
    // Its wrapped keys went with the revocation; the other devices' stay.
    const wraps = await server.deps.db
      .select({ deviceId: schema.shareRecipients.deviceId })
      .from(schema.shareRecipients)
      .where(eq(schema.shareRecipients.shareId, id));
    expect(wraps.map((r) => r.deviceId).sort()).toEqual([w.alice.keys.deviceId, w.bob.keys.deviceId].sort());
  });

  it("after a revocation, a share sealed by the revoked device or to it is refused, and nothing is stored", async () => {
    const w = await world();
    // Both sealed while alice2 was active (signatures good against the log of that time).
    const sealed = await seal(server, w.alice2, { teamId: w.teamId }, payload);
    const toRevoked = await seal(server, w.alice, { teamId: w.teamId }, payload);
    const state = await logOf(server, w.alice.session, w.alice.userId);
    await ok(call(server, "keys.revoke", w.alice.session, { link: await createRevokeLink(state, w.alice.keys, w.alice2.keys.deviceId) }));
    expectError(
      await call(server, "shares.create", w.alice.session, {
        target: { teamId: w.teamId },
        envelope: sealed.envelope,
        recipients: sealed.wraps,
      }),
      "FORBIDDEN",
      /not an active device of yours; it cannot share/,
    );
    const extra = expectError(
      await call(server, "shares.create", w.alice.session, {
        target: { teamId: w.teamId },
        envelope: toRevoked.envelope,
        recipients: toRevoked.wraps,
      }),
      "PRECONDITION_FAILED",
      /recipients must be exactly/,
    );
    expect(extra.data.details.extra).toEqual([{ userId: w.alice.userId, deviceId: w.alice2.keys.deviceId }]);
    for (const id of [sealed.shareId, toRevoked.shareId])
      expectError(await call(server, "shares.get", w.alice.session, { id, deviceId: w.alice.keys.deviceId }), "NOT_FOUND");
  });
});

describe("direct shares", () => {
  it("go between teammates only, both ways in one thread", async () => {
    const w = await world();
    const id = await share(server, w.alice, { userId: w.bob.userId }, payload);
    expect(await read(server, w.bob, id)).toEqual(payload);
    expect(await read(server, w.alice2, id)).toEqual(payload);
    const back = await share(server, w.bob, { userId: w.alice.userId }, { code: "thanks", title: "re" });
    const thread = await ok(call(server, "shares.listDirect", w.alice.session, { userId: w.bob.userId }));
    expect(thread.items.map((h: any) => h.id)).toEqual([back, id]);
    expectError(await call(server, "shares.get", w.carol.session, { id, deviceId: w.carol.keys.deviceId }), "NOT_FOUND");
    const toCarol = await seal(server, w.alice, { userId: w.carol.userId }, payload, {
      recipients: [await logOf(server, w.carol.session, w.carol.userId)],
    });
    expectError(
      await call(server, "shares.create", w.alice.session, {
        target: { userId: w.carol.userId },
        envelope: toCarol.envelope,
        recipients: toCarol.wraps,
      }),
      "NOT_FOUND",
    );
  });
});

describe("lifecycle", () => {
  it("unread counts per team and per direct thread; markRead clears them", async () => {
    const w = await world();
    await share(server, w.alice, { teamId: w.teamId }, payload);
    const two = await share(server, w.alice, { teamId: w.teamId }, payload);
    await share(server, w.alice, { userId: w.bob.userId }, payload);
    let unread = await ok(call(server, "shares.unread", w.bob.session));
    expect(unread).toEqual({ total: 3, teams: [{ teamId: w.teamId, unread: 2 }], direct: [{ userId: w.alice.userId, unread: 1 }] });
    expect(await ok(call(server, "shares.markRead", w.bob.session, { shareIds: [two] }))).toEqual({ marked: 1 });
    expect((await ok(call(server, "shares.unread", w.bob.session))).total).toBe(2);
    await ok(call(server, "shares.markRead", w.bob.session, { teamId: w.teamId }));
    await ok(call(server, "shares.markRead", w.bob.session, { userId: w.alice.userId }));
    unread = await ok(call(server, "shares.unread", w.bob.session));
    expect(unread).toEqual({ total: 0, teams: [], direct: [] });
    expect((await ok(call(server, "shares.unread", w.alice.session))).total).toBe(0);
  });

  it("delete: the author, or a team owner or admin; others are refused", async () => {
    const w = await world();
    const byBob = await share(server, w.bob, { teamId: w.teamId }, payload);
    const byAlice = await share(server, w.alice, { teamId: w.teamId }, payload);
    expectError(await call(server, "shares.delete", w.bob.session, { id: byAlice }), "FORBIDDEN");
    await ok(call(server, "shares.delete", w.alice.session, { id: byBob })); // Alice owns the team
    await ok(call(server, "shares.delete", w.alice.session, { id: byAlice }));
    expectError(await call(server, "shares.get", w.bob.session, { id: byAlice, deviceId: w.bob.keys.deviceId }), "NOT_FOUND");
    expect((await ok(call(server, "shares.listTeam", w.bob.session, { teamId: w.teamId }))).items).toEqual([]);
  });

  it("an expired share leaves the feed, answers NOT_FOUND, and the purge removes its rows", async () => {
    const w = await world();
    const id = await share(server, w.alice, { teamId: w.teamId }, payload, { expiresAt: Date.now() + 1500 });
    expect(await read(server, w.bob, id)).toEqual(payload);
    await new Promise((r) => setTimeout(r, 1600));
    expectError(await call(server, "shares.get", w.bob.session, { id, deviceId: w.bob.keys.deviceId }), "NOT_FOUND");
    expect((await ok(call(server, "shares.listTeam", w.bob.session, { teamId: w.teamId }))).items).toEqual([]);
    expect(await server.deps.sharePurge.run()).toBeGreaterThanOrEqual(1);
    const { schema } = await import("@osmynt/db");
    const { eq } = await import("drizzle-orm");
    expect(await server.deps.db.select().from(schema.shareRecipients).where(eq(schema.shareRecipients.shareId, id))).toEqual([]);
  });
});
