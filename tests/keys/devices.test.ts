import { randomBytes } from "node:crypto";
import {
  createAddDeviceLink,
  createRevokeLink,
  createRootLink,
  createRotateKemLink,
  type DeviceLink,
  generateDeviceKeys,
  generateKemKey,
  signLink,
  toBase64url,
  unsignedLink,
} from "@osmynt/sdk/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { join } from "../teams/helpers.js";
import { call, expectError, keysState, ok, type Registered, register, verifiedLog } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { KEYS_MAX_DEVICES_PER_USER: "3" } });
});
afterAll(async () => {
  await server?.close();
});

const fresh = (prefix = "k") => signUp(server, randomLogin(prefix));

/** A P-384 public key (97 bytes): the right format for the wrong curve. */
async function p384Key(): Promise<string> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"]);
  return toBase64url(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)));
}

/** 65 bytes that look like an uncompressed point but are (almost surely) not on P-256. */
function offCurvePoint(): string {
  return toBase64url(Uint8Array.from([4, ...randomBytes(64)]));
}

/** Re-signs a root after changing its fields, so only the change under test is wrong. */
async function rootWith(session: TestSession, change: Partial<DeviceLink>) {
  const device = await generateDeviceKeys();
  const root = await createRootLink(session.user.id, device);
  return signLink({ ...root, ...change }, device);
}

async function expectRefused(
  owner: Registered | TestSession,
  path: string,
  input: unknown,
  code: Parameters<typeof expectError>[1],
  message: RegExp,
) {
  const session = "session" in owner ? owner.session : owner;
  const before = await keysState(server, [session.user.id]);
  const error = expectError(await call(server, path, session, input), code, message);
  expect(await keysState(server, [session.user.id])).toEqual(before);
  return error;
}

describe("keys.register", () => {
  it("stores the first device's root link; keys.mine and a verifier agree on the device", async () => {
    const session = await fresh();
    const device = await generateDeviceKeys();
    const root = await createRootLink(session.user.id, device, { name: "work laptop" });
    const result = await ok(call(server, "keys.register", session, { link: root }));
    expect(result).toMatchObject({ userId: session.user.id, seq: 0 });
    const mine = await ok(call(server, "keys.mine", session));
    expect(mine.links).toEqual([root]);
    expect(mine.devices).toMatchObject([
      { deviceId: device.deviceId, kind: "device", name: "work laptop", status: "active", kemKey: device.kemPublicKey, addedSeq: 0 },
    ]);
    const state = await verifiedLog(server, session);
    expect(state.fingerprint).toBe(result.fingerprint);
    expect(state.head).toEqual({ seq: 0, hash: result.hash });
    const stored = await keysState(server, [session.user.id]);
    expect(stored.events.length).toBeGreaterThan(0);
    const changed = await server.deps.db.query.events.findMany({
      where: (e, { sql }) => sql`${e.type} = 'keys.changed' and ${e.payload}->>'userId' = ${session.user.id}`,
    });
    // The user's own copy only: alone in their personal team, nobody else's.
    expect(changed.map((e) => [e.userId, e.teamId])).toEqual([[session.user.id, null]]);
    expect(stored.audit.length).toBeGreaterThan(0);
  });

  it("refuses a second root: more devices come by pairing", async () => {
    const r = await register(server, await fresh());
    const other = await createRootLink(r.userId, await generateDeviceKeys());
    const error = await expectRefused(r, "keys.register", { link: other }, "CONFLICT", /already has a device log/);
    expect(error.data.details.reason).toBe("already_registered");
  });

  it("refuses a root for another user, and links that are not roots", async () => {
    const session = await fresh();
    const someoneElse = await fresh();
    const theirs = await createRootLink(someoneElse.user.id, await generateDeviceKeys());
    await expectRefused(session, "keys.register", { link: theirs }, "BAD_REQUEST", /belongs to user .*own device log/);
    const device = await generateDeviceKeys();
    const notRoot = await signLink(
      unsignedLink(
        { userId: session.user.id, head: null },
        { type: "rotate_kem", deviceId: device.deviceId, signerDeviceId: device.deviceId, kemKey: device.kemPublicKey },
      ),
      device,
    );
    await expectRefused(session, "keys.register", { link: notRoot }, "BAD_REQUEST", /appends root links, not rotate_kem/);
  });

  it.each([
    [
      "a signature that does not verify",
      async (s: TestSession) => ({ ...(await createRootLink(s.user.id, await generateDeviceKeys())), name: "changed after signing" }),
      "BAD_REQUEST",
      /signature .* does not verify/,
    ],
    ["a root at seq 1", (s: TestSession) => rootWith(s, { seq: 1, prev: toBase64url(randomBytes(32)) }), "CONFLICT", /seq 0/],
    ["a key on another curve", async (s: TestSession) => rootWith(s, { kemKey: await p384Key() }), "BAD_REQUEST", /P-384/],
    [
      "a point not on the curve",
      async (s: TestSession) => rootWith(s, { kemKey: offCurvePoint() }),
      "BAD_REQUEST",
      /not a point on the P-256 curve/,
    ],
    [
      "a compressed point",
      async (s: TestSession) => rootWith(s, { signingKey: toBase64url(Uint8Array.from([2, ...randomBytes(32)])) }),
      "BAD_REQUEST",
      /compressed/,
    ],
    [
      "a truncated key",
      async (s: TestSession) => rootWith(s, { kemKey: toBase64url(Uint8Array.from([4, ...randomBytes(40)])) }),
      "BAD_REQUEST",
      /65 bytes/,
    ],
    [
      "an oversized key",
      async (s: TestSession) => ({ ...(await createRootLink(s.user.id, await generateDeviceKeys())), kemKey: "A".repeat(5000) }),
      "BAD_REQUEST",
      /kemKey is too long/,
    ],
    [
      "a key that is not base64url",
      async (s: TestSession) => ({ ...(await createRootLink(s.user.id, await generateDeviceKeys())), signingKey: "not base64!" }),
      "BAD_REQUEST",
      /signingKey must be base64url/,
    ],
    [
      "a signature that is not base64url",
      async (s: TestSession) => ({ ...(await createRootLink(s.user.id, await generateDeviceKeys())), signature: "@@" }),
      "BAD_REQUEST",
      /signature must be base64url/,
    ],
    [
      "an unknown suite",
      async (s: TestSession) => ({ ...(await createRootLink(s.user.id, await generateDeviceKeys())), suite: "SNIP1-X25519-Ed25519" }),
      "BAD_REQUEST",
      /suite must be SNIP1-P256/,
    ],
    [
      "an unknown field",
      async (s: TestSession) => ({ ...(await createRootLink(s.user.id, await generateDeviceKeys())), admin: true }),
      "BAD_REQUEST",
      /admin/,
    ],
    [
      "a missing signature",
      async (s: TestSession) => {
        const { signature: _, ...rest } = await createRootLink(s.user.id, await generateDeviceKeys());
        return rest;
      },
      "BAD_REQUEST",
      /signature/,
    ],
  ] as const)("refuses a root with %s, with a clear error and no change", async (_what, make, code, message) => {
    const session = await fresh();
    await expectRefused(session, "keys.register", { link: await make(session) }, code, message);
  });

  it("answers UNAUTHORIZED without a session", async () => {
    const session = await fresh();
    const root = await createRootLink(session.user.id, await generateDeviceKeys());
    expectError(await call(server, "keys.register", null, { link: root }), "UNAUTHORIZED");
  });
});

describe("appending to a log", () => {
  it("adds, rotates and revokes devices; the log verifies and says so", async () => {
    const r = await register(server, await fresh());
    const second = await generateDeviceKeys();
    let state = await verifiedLog(server, r.session);
    await ok(call(server, "keys.addDevice", r.session, { link: await createAddDeviceLink(state, r.device, second, { name: "desktop" }) }));
    state = await verifiedLog(server, r.session);
    const { kemPublicKey } = await generateKemKey();
    await ok(call(server, "keys.rotate", r.session, { link: await createRotateKemLink(state, second, kemPublicKey) }));
    state = await verifiedLog(server, r.session);
    await ok(call(server, "keys.revoke", r.session, { link: await createRevokeLink(state, second, r.device.deviceId) }));
    state = await verifiedLog(server, r.session);
    expect(state.head.seq).toBe(3);
    expect(state.devices.map((d) => [d.deviceId, d.status, d.kemKey])).toEqual([
      [r.device.deviceId, "revoked", r.device.kemPublicKey],
      [second.deviceId, "active", kemPublicKey],
    ]);
    const mine = await ok(call(server, "keys.mine", r.session));
    expect(mine.devices.map((d: any) => [d.deviceId, d.status, d.kemKey, d.revokedSeq])).toEqual([
      [r.device.deviceId, "revoked", r.device.kemPublicKey, 3],
      [second.deviceId, "active", kemPublicKey, null],
    ]);
  });

  it("refuses a link at the wrong seq or with the wrong prev (CONFLICT), and changes nothing", async () => {
    const r = await register(server, await fresh());
    const state = await verifiedLog(server, r.session);
    const ahead = await createAddDeviceLink(
      { userId: r.userId, head: { seq: 5, hash: state.head.hash } },
      r.device,
      await generateDeviceKeys(),
    );
    expect((await expectRefused(r, "keys.addDevice", { link: ahead }, "CONFLICT", /expected seq 1/)).data.details.reason).toBe("wrong_seq");
    const forked = await createAddDeviceLink(
      { userId: r.userId, head: { seq: 0, hash: toBase64url(randomBytes(32)) } },
      r.device,
      await generateDeviceKeys(),
    );
    expect((await expectRefused(r, "keys.addDevice", { link: forked }, "CONFLICT", /prev/)).data.details.reason).toBe("wrong_prev");
  });

  it("refuses links signed by an unknown device, a revoked device, or another user's device (FORBIDDEN)", async () => {
    const r = await register(server, await fresh());
    const stranger = await generateDeviceKeys();
    let state = await verifiedLog(server, r.session);
    const unknown = await createAddDeviceLink(state, stranger, await generateDeviceKeys());
    expect((await expectRefused(r, "keys.addDevice", { link: unknown }, "FORBIDDEN", /not a device of this log/)).data.details.reason).toBe(
      "unknown_signer",
    );

    const other = await register(server, await fresh());
    const byOtherUsersDevice = await createAddDeviceLink(state, other.device, await generateDeviceKeys());
    await expectRefused(r, "keys.addDevice", { link: byOtherUsersDevice }, "FORBIDDEN", /not a device of this log/);

    const second = await generateDeviceKeys();
    await ok(call(server, "keys.addDevice", r.session, { link: await createAddDeviceLink(state, r.device, second) }));
    state = await verifiedLog(server, r.session);
    await ok(call(server, "keys.revoke", r.session, { link: await createRevokeLink(state, second, r.device.deviceId) }));
    state = await verifiedLog(server, r.session);
    const byRevoked = await createAddDeviceLink(state, r.device, await generateDeviceKeys());
    expect((await expectRefused(r, "keys.addDevice", { link: byRevoked }, "FORBIDDEN", /revoked/)).data.details.reason).toBe(
      "revoked_signer",
    );
    const rotateByRevoked = await createRotateKemLink(state, r.device, (await generateKemKey()).kemPublicKey);
    await expectRefused(r, "keys.rotate", { link: rotateByRevoked }, "FORBIDDEN", /revoked/);
  });

  it("refuses an add_device without the new device's valid reverse signature", async () => {
    const r = await register(server, await fresh());
    const state = await verifiedLog(server, r.session);
    const link = await createAddDeviceLink(state, r.device, await generateDeviceKeys());
    const forged = await signLink(
      link,
      r.device,
      (await createAddDeviceLink(state, r.device, await generateDeviceKeys())).reverseSignature,
    );
    expect((await expectRefused(r, "keys.addDevice", { link: forged }, "BAD_REQUEST", /reverse signature/)).data.details.reason).toBe(
      "bad_reverse_signature",
    );
    await expectRefused(r, "keys.addDevice", { link: { ...link, reverseSignature: null } }, "BAD_REQUEST", /reverseSignature/);
  });

  it("lets a device rotate only its own key, and never revoke the last one", async () => {
    const r = await register(server, await fresh());
    const second = await generateDeviceKeys();
    let state = await verifiedLog(server, r.session);
    await ok(call(server, "keys.addDevice", r.session, { link: await createAddDeviceLink(state, r.device, second) }));
    state = await verifiedLog(server, r.session);
    const rotateOther = await signLink(
      unsignedLink(state, {
        type: "rotate_kem",
        deviceId: second.deviceId,
        signerDeviceId: r.device.deviceId,
        kemKey: (await generateKemKey()).kemPublicKey,
      }),
      r.device,
    );
    await expectRefused(r, "keys.rotate", { link: rotateOther }, "FORBIDDEN", /rotates its own/);
    await ok(call(server, "keys.revoke", r.session, { link: await createRevokeLink(state, r.device, second.deviceId) }));
    state = await verifiedLog(server, r.session);
    await expectRefused(
      r,
      "keys.revoke",
      { link: await createRevokeLink(state, r.device, r.device.deviceId) },
      "BAD_REQUEST",
      /last active key/,
    );
  });

  it("routes each link type only through its own procedure", async () => {
    const r = await register(server, await fresh());
    const state = await verifiedLog(server, r.session);
    const add = await createAddDeviceLink(state, r.device, await generateDeviceKeys());
    await expectRefused(r, "keys.revoke", { link: add }, "BAD_REQUEST", /keys.revoke appends revoke_device links, not add_device/);
    await expectRefused(r, "keys.rotate", { link: add }, "BAD_REQUEST", /keys.rotate appends rotate_kem links/);
  });

  it("refuses an append to another user's log", async () => {
    const victim = await register(server, await fresh());
    const attacker = await register(server, await fresh());
    const state = await verifiedLog(server, victim.session);
    const link = await createAddDeviceLink(state, victim.device, await generateDeviceKeys());
    const before = await keysState(server, [victim.userId]);
    expectError(await call(server, "keys.addDevice", attacker.session, { link }), "BAD_REQUEST", /own device log/);
    expect(await keysState(server, [victim.userId])).toEqual(before);
  });

  it("caps active devices per user (KEYS_MAX_DEVICES_PER_USER)", async () => {
    const r = await register(server, await fresh());
    for (let i = 0; i < 2; i++) {
      const state = await verifiedLog(server, r.session);
      await ok(call(server, "keys.addDevice", r.session, { link: await createAddDeviceLink(state, r.device, await generateDeviceKeys()) }));
    }
    const state = await verifiedLog(server, r.session);
    const fourth = await createAddDeviceLink(state, r.device, await generateDeviceKeys());
    const error = await expectRefused(r, "keys.addDevice", { link: fourth }, "PRECONDITION_FAILED", /at most 3 active devices/);
    expect(error.data.details).toMatchObject({ reason: "device_limit", limit: 3 });
  });

  it("lets exactly one of two racing appends at the same seq land: the log cannot fork", async () => {
    const r = await register(server, await fresh());
    const state = await verifiedLog(server, r.session);
    const links = await Promise.all(
      Array.from({ length: 6 }, async () => createAddDeviceLink(state, r.device, await generateDeviceKeys())),
    );
    const answers = await Promise.all(links.map((link) => call(server, "keys.addDevice", r.session, { link })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((a) => a.status !== 200)) expectError(a, "CONFLICT");
    expect((await verifiedLog(server, r.session)).head.seq).toBe(1);
  });

  it.each(["keys.addDevice", "keys.addRecovery", "keys.revoke", "keys.rotate"])(
    "%s answers UNAUTHORIZED without a session",
    async (path) => {
      const r = await register(server, await fresh());
      const state = await verifiedLog(server, r.session);
      const link = await createRevokeLink(state, r.device, r.device.deviceId);
      expectError(await call(server, path, null, { link }), "UNAUTHORIZED");
    },
  );

  it("refuses appends before the first device is registered", async () => {
    const session = await fresh();
    const device = await generateDeviceKeys();
    const link = await createAddDeviceLink(
      { userId: session.user.id, head: { seq: 0, hash: toBase64url(randomBytes(32)) } },
      device,
      await generateDeviceKeys(),
    );
    await expectRefused(session, "keys.addDevice", { link }, "PRECONDITION_FAILED", /keys.register/);
  });
});

describe("reading logs", () => {
  async function team() {
    const owner = await register(server, await fresh("own"));
    const member = await register(server, await fresh("mem"));
    const deviceless = await fresh("new");
    const outsider = await register(server, await fresh("out"));
    const created = await ok(call(server, "teams.create", owner.session, { name: `keys ${randomLogin("t")}` }));
    await join(server, created.id, owner.session, member.session);
    await join(server, created.id, owner.session, deviceless);
    return { teamId: created.id as string, owner, member, deviceless, outsider };
  }

  it("keys.forTeam: every member's log (empty for a member without devices), members only", async () => {
    const t = await team();
    const answer = await ok(call(server, "keys.forTeam", t.member.session, { teamId: t.teamId }));
    expect(answer.members.map((m: any) => [m.userId, m.links.length])).toEqual([
      [t.owner.userId, 1],
      [t.member.userId, 1],
      [t.deviceless.user.id, 0],
    ]);
    expect(answer.members[0].links[0]).toEqual(t.owner.root);
    expectError(await call(server, "keys.forTeam", t.outsider.session, { teamId: t.teamId }), "NOT_FOUND", /not found/);
    expectError(await call(server, "keys.forTeam", t.member.session, { teamId: "tm_doesnotexist" }), "NOT_FOUND");
    expectError(await call(server, "keys.forTeam", null, { teamId: t.teamId }), "UNAUTHORIZED");
  });

  it("keys.forUser: myself and teammates; anyone else is NOT_FOUND, like a user that does not exist", async () => {
    const t = await team();
    expect((await ok(call(server, "keys.forUser", t.member.session, { userId: t.owner.userId }))).links).toEqual([t.owner.root]);
    expect((await ok(call(server, "keys.forUser", t.member.session, { userId: t.member.userId }))).links).toHaveLength(1);
    expect((await ok(call(server, "keys.forUser", t.owner.session, { userId: t.deviceless.user.id }))).links).toEqual([]);
    const stranger = expectError(await call(server, "keys.forUser", t.outsider.session, { userId: t.owner.userId }), "NOT_FOUND");
    const nobody = expectError(await call(server, "keys.forUser", t.outsider.session, { userId: "usr_nobody" }), "NOT_FOUND");
    expect(stranger.message.replace(t.owner.userId, "X")).toBe(nobody.message.replace("usr_nobody", "X"));
    expectError(await call(server, "keys.forUser", null, { userId: t.owner.userId }), "UNAUTHORIZED");
  });

  it("keys.forUser: a member who left, or a deleted team, no longer shares the log", async () => {
    const t = await team();
    await ok(call(server, "teams.leave", t.member.session, { teamId: t.teamId }));
    expectError(await call(server, "keys.forUser", t.member.session, { userId: t.owner.userId }), "NOT_FOUND");
    const t2 = await team();
    await ok(call(server, "teams.delete", t2.owner.session, { teamId: t2.teamId }));
    expectError(await call(server, "keys.forUser", t2.member.session, { userId: t2.owner.userId }), "NOT_FOUND");
  });

  it("keys.mine answers UNAUTHORIZED without a session, and an empty log before registering", async () => {
    expectError(await call(server, "keys.mine", null), "UNAUTHORIZED");
    const session = await fresh();
    expect(await ok(call(server, "keys.mine", session))).toEqual({ userId: session.user.id, links: [], devices: [] });
  });

  it("records keys.changed once for the user and once for each teammate, and an audit row", async () => {
    const t = await team();
    const state = await verifiedLog(server, t.member.session);
    const result = await ok(
      call(server, "keys.addDevice", t.member.session, {
        link: await createAddDeviceLink(state, t.member.device, await generateDeviceKeys()),
      }),
    );
    const rows = await server.deps.db.query.events.findMany({
      where: (e, { sql }) =>
        sql`${e.payload}->>'userId' = ${t.member.userId} and ${e.type} = 'keys.changed' and (${e.payload}->>'seq')::int = 1`,
    });
    const members = (await ok(call(server, "teams.mine", t.member.session))).find((x: any) => x.id === t.teamId).members;
    expect(rows.every((r) => r.teamId === null)).toBe(true);
    expect(rows.map((r) => r.userId).sort()).toEqual(members.map((m: any) => m.id).sort());
    expect(rows[0]?.payload).toEqual({ userId: t.member.userId, seq: result.seq, type: "add_device", deviceId: expect.any(String) });
    const audit = await server.deps.db.query.auditLog.findMany({
      where: (a, { and, eq }) => and(eq(a.actorId, t.member.userId), eq(a.action, "keys.add_device")),
    });
    expect(audit).toHaveLength(1);
    // the team's owner sees a member's device changes in the team's audit trail
    const trail = await ok(call(server, "teams.audit", t.owner.session, { teamId: t.teamId }));
    expect(trail.entries.filter((e: any) => e.action === "keys.add_device").map((e: any) => e.actor.id)).toEqual([t.member.userId]);
  });
});
