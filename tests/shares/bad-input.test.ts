import { schema } from "@osmynt/db";
import { asc, inArray, or } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import type { ExpectedCode as ErrorCode } from "../helpers/trpc-errors.js";
import { addDevice, call, type Device, expectError, firstDevice, forward, join, ok, seal, share } from "./helpers.js";

// Bad input to shares.* gets a clear tRPC error naming what is wrong, and changes nothing: the
// test dumps every share-related row of its world (shares, wraps, forwards, reads, events, audit)
// before and after each refused call. Unauthenticated callers, expired tokens and revoked sessions
// are covered for every procedure by the authorization matrix (tests/battery); wrong-user and
// wrong-team calls on real shares are here.

const MAX_BYTES = 4096;
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { SHARE_MAX_CIPHERTEXT_BYTES: String(MAX_BYTES) } });
});
afterAll(() => server?.close());

interface World {
  teamId: string;
  otherTeamId: string;
  alice: Device;
  alice2: Device;
  bob: Device;
  carol: Device;
  users: string[];
}

/** Alice (two devices) and Bob in a team; Carol in a team of her own with Bob. */
async function world(): Promise<World> {
  const [a, b, c] = await Promise.all([
    signUp(server, randomLogin("alice")),
    signUp(server, randomLogin("bob")),
    signUp(server, randomLogin("carol")),
  ]);
  const team = await ok(call(server, "teams.create", a, { name: "crew" }));
  await join(server, team.id, a, b);
  const other = await ok(call(server, "teams.create", c, { name: "elsewhere" }));
  await join(server, other.id, c, b);
  const alice = await firstDevice(server, a);
  const alice2 = await addDevice(server, alice);
  const bob = await firstDevice(server, b);
  const carol = await firstDevice(server, c);
  return { teamId: team.id, otherTeamId: other.id, alice, alice2, bob, carol, users: [a.user.id, b.user.id, c.user.id] };
}

/** Every share-related row of the world, in a stable order: equal before and after means nothing changed. */
async function dump(w: World) {
  const db = server.deps.db;
  const teams = [w.teamId, w.otherTeamId];
  const shares = await db
    .select()
    .from(schema.shares)
    .where(or(inArray(schema.shares.authorId, w.users), inArray(schema.shares.teamId, teams)))
    .orderBy(asc(schema.shares.id));
  const ids = shares.map((s) => s.id);
  const none = ["shr_none"];
  return {
    shares,
    recipients: await db
      .select()
      .from(schema.shareRecipients)
      .where(inArray(schema.shareRecipients.userId, w.users))
      .orderBy(asc(schema.shareRecipients.shareId), asc(schema.shareRecipients.deviceId)),
    forwards: await db
      .select()
      .from(schema.shareForwards)
      .where(inArray(schema.shareForwards.shareId, ids.length ? ids : none)),
    reads: await db.select().from(schema.shareReads).where(inArray(schema.shareReads.userId, w.users)),
    events: await db
      .select()
      .from(schema.events)
      .where(or(inArray(schema.events.userId, w.users), inArray(schema.events.teamId, teams)))
      .orderBy(asc(schema.events.id)),
    audit: await db.select().from(schema.auditLog).where(inArray(schema.auditLog.actorId, w.users)).orderBy(asc(schema.auditLog.id)),
  };
}

/** Calls, expects the error, and checks the world's rows did not move. */
async function refused(w: World, path: string, who: Device, input: unknown, code: ErrorCode, message: RegExp) {
  const before = await dump(w);
  const error = expectError(await call(server, path, who.session, input), code, message);
  expect(await dump(w), `${path} refused with ${code} changed nothing`).toEqual(before);
  return error;
}

const payload = { code: "const x = 1;", title: "x" };
type Sealed = Awaited<ReturnType<typeof seal>>;
const createInput = (w: World, s: Sealed, patch: (input: any) => void = () => {}) => {
  const input: any = structuredClone({ target: { teamId: w.teamId }, envelope: s.envelope, recipients: s.wraps });
  patch(input);
  return input;
};

describe("shares.create refuses bad input with a clear error and no change", () => {
  let w: World;
  let sealed: Sealed;
  beforeAll(async () => {
    w = await world();
    await share(server, w.alice, { teamId: w.teamId }, payload); // something to leave untouched
    sealed = await seal(server, w.alice, { teamId: w.teamId }, payload);
  });

  const cases: [string, (input: any) => void, ErrorCode, RegExp][] = [
    ["ciphertext that is not base64url", (i) => (i.envelope.ciphertext = "abc$def"), "BAD_REQUEST", /ciphertext must be base64url/],
    [
      "non-canonical base64url ciphertext",
      (i) => (i.envelope.ciphertext = `${i.envelope.ciphertext.slice(0, -1)}_=`),
      "BAD_REQUEST",
      /ciphertext|base64url/,
    ],
    [
      "a ciphertext one byte short of what the manifest signs",
      (i) => (i.envelope.ciphertext = i.envelope.ciphertext.slice(0, -4)),
      "BAD_REQUEST",
      /manifest signs|ciphertext/,
    ],
    ["nonce that is not base64url", (i) => (i.envelope.nonce = "**"), "BAD_REQUEST", /nonce must be base64url/],
    ["a nonce of the wrong length", (i) => (i.envelope.nonce = "AAAA"), "BAD_REQUEST", /nonce must be 12 bytes/],
    ["an unknown suite", (i) => (i.envelope.suite = "SNIP9-X448"), "BAD_REQUEST", /suite/],
    ["an unknown suite in the manifest", (i) => (i.envelope.manifest.suite = "SNIP9-X448"), "BAD_REQUEST", /suite/],
    ["a manifest without recipients", (i) => delete i.envelope.manifest.recipients, "BAD_REQUEST", /recipients/],
    ["a manifest that is not an object", (i) => (i.envelope.manifest = "{}"), "BAD_REQUEST", /manifest/],
    ["a changed manifest (the signature no longer matches)", (i) => (i.envelope.manifest.createdAt += 1), "BAD_REQUEST", /signature/],
    ["a signature of the wrong length", (i) => (i.envelope.signature = "AAAA"), "BAD_REQUEST", /signature/],
    ["the same device twice in recipients", (i) => i.recipients.push(i.recipients[0]), "BAD_REQUEST", /listed twice/],
    [
      "a wrapped key of the wrong length",
      (i) => (i.recipients[0].wrappedKey = i.recipients[0].wrappedKey.slice(0, -8)),
      "BAD_REQUEST",
      /wrappedKey|wrapped key/,
    ],
    ["an enc of the wrong length", (i) => (i.recipients[0].enc = "AAAA"), "BAD_REQUEST", /enc/],
    [
      "a wrapped key swapped for another device's",
      (i) => ([i.recipients[0].wrappedKey, i.recipients[1].wrappedKey] = [i.recipients[1].wrappedKey, i.recipients[0].wrappedKey]),
      "BAD_REQUEST",
      /not the one the signed manifest signs/,
    ],
    [
      "a recipient the manifest does not list",
      (i) => (i.recipients[0].deviceId = "dev_notInTheManifest"),
      "BAD_REQUEST",
      /not in the signed manifest/,
    ],
    ["a manifest entry without its wrap", (i) => i.recipients.pop(), "BAD_REQUEST", /without a wrapped key/],
    ["no recipients at all", (i) => (i.recipients = []), "BAD_REQUEST", /at least one device/],
    ["a wrong type for a field", (i) => (i.envelope.ciphertext = 42), "BAD_REQUEST", /ciphertext/],
    ["a target the manifest is not signed for", (i) => (i.target = { teamId: w.otherTeamId }), "BAD_REQUEST", /another target/],
    ["a target of both kinds", (i) => (i.target = { teamId: w.teamId, userId: w.bob.userId }), "BAD_REQUEST", /teamId.*userId/],
    [
      "an expiresAt the manifest does not sign",
      (i) => (i.expiresAt = new Date(Date.now() + 3600_000).toISOString()),
      "BAD_REQUEST",
      /expiresAt/,
    ],
    ["an expiresAt that is not a timestamp", (i) => (i.expiresAt = "tomorrow"), "BAD_REQUEST", /expiresAt/],
  ];
  for (const [what, patch, code, message] of cases) {
    it(what, async () => {
      await refused(w, "shares.create", w.alice, createInput(w, sealed, patch), code, message);
    });
  }

  it("a ciphertext over SHARE_MAX_CIPHERTEXT_BYTES is PAYLOAD_TOO_LARGE, stated and decoded size alike", async () => {
    const big = await seal(server, w.alice, { teamId: w.teamId }, new Uint8Array(MAX_BYTES + 1));
    const error = await refused(
      w,
      "shares.create",
      w.alice,
      createInput(w, big),
      "PAYLOAD_TOO_LARGE",
      /larger than the limit of 4096 bytes/,
    );
    expect(error.data.details).toEqual({ maxCiphertextBytes: MAX_BYTES });
    const padded = createInput(w, sealed, (i) => (i.envelope.ciphertext = "A".repeat(Math.ceil((MAX_BYTES * 4) / 3) + 4)));
    await refused(w, "shares.create", w.alice, padded, "PAYLOAD_TOO_LARGE", /SHARE_MAX_CIPHERTEXT_BYTES/);
  });

  it("an id already taken is CONFLICT; the first share stays as it was", async () => {
    const again = await seal(server, w.alice, { teamId: w.teamId }, payload);
    await ok(call(server, "shares.create", w.alice.session, createInput(w, again)));
    await refused(w, "shares.create", w.alice, createInput(w, again), "CONFLICT", /already taken/);
  });

  it("a share id of another kind in the signed manifest (a team id)", async () => {
    const odd = await seal(server, w.alice, { teamId: w.teamId }, payload, { shareId: w.teamId });
    await refused(w, "shares.create", w.alice, createInput(w, odd), "BAD_REQUEST", /manifest\.shareId is not a share id \(shr_…/);
  });

  it("the manifest names another sender (Bob uploading what Alice sealed)", async () => {
    await refused(w, "shares.create", w.bob, createInput(w, sealed), "BAD_REQUEST", /sender, not you/);
  });
});

describe("the other shares.* procedures refuse bad input", () => {
  let w: World;
  let shareId: string;
  beforeAll(async () => {
    w = await world();
    shareId = await share(server, w.alice, { teamId: w.teamId }, payload);
  });

  const listCases: [string, string, (w: World) => unknown, RegExp][] = [
    ["listTeam: a cursor that is not one", "shares.listTeam", (x) => ({ teamId: x.teamId, cursor: "abc" }), /cursor must be a nextCursor/],
    ["listTeam: limit 0", "shares.listTeam", (x) => ({ teamId: x.teamId, limit: 0 }), /limit is at least 1/],
    ["listTeam: limit 1000", "shares.listTeam", (x) => ({ teamId: x.teamId, limit: 1000 }), /limit is at most 100/],
    ["listTeam: a fractional limit", "shares.listTeam", (x) => ({ teamId: x.teamId, limit: 2.5 }), /limit must be an integer/],
    ["listTeam: a teamId with a space", "shares.listTeam", () => ({ teamId: "tm_a b" }), /teamId is not a team id/],
    ["listDirect: no userId", "shares.listDirect", () => ({}), /userId/],
    ["get: no deviceId", "shares.get", () => ({ id: "shr_x" }), /deviceId/],
    [
      "get: an id of 200 characters",
      "shares.get",
      (x) => ({ id: `shr_${"a".repeat(200)}`, deviceId: x.bob.keys.deviceId }),
      /id is too long/,
    ],
    ["needingForward: a negative cursor", "shares.needingForward", (x) => ({ deviceId: x.bob.keys.deviceId, cursor: "-1" }), /cursor/],
    ["listTeam: an empty authorId", "shares.listTeam", (x) => ({ teamId: x.teamId, authorId: "" }), /authorId is required/],
  ];
  for (const [what, path, input, message] of listCases) {
    it(what, async () => {
      await refused(w, path, w.bob, input(w), "BAD_REQUEST", message);
    });
  }

  it("markRead: empty ids, too many ids, or two scopes at once", async () => {
    await refused(w, "shares.markRead", w.bob, { shareIds: [] }, "BAD_REQUEST", /must not be empty/);
    await refused(
      w,
      "shares.markRead",
      w.bob,
      { shareIds: Array.from({ length: 501 }, (_, i) => `shr_${i}`) },
      "BAD_REQUEST",
      /at most 500/,
    );
    await refused(w, "shares.markRead", w.bob, { teamId: w.teamId, userId: w.alice.userId }, "BAD_REQUEST", /markRead takes/);
  });

  it("delete: no id, or an id with control characters", async () => {
    await refused(w, "shares.delete", w.alice, {}, "BAD_REQUEST", /id/);
    await refused(w, "shares.delete", w.alice, { id: "shr_\u0000x" }, "BAD_REQUEST", /id is not a share id/);
  });

  it("addRecipients: a malformed forward, a forward for another share, duplicates and wrong lengths", async () => {
    const bob2 = await addDevice(server, w.bob);
    const built = await forward(server, w.bob, shareId, [w.bob.userId]);
    const input = () => structuredClone({ id: shareId, forward: built.forward, recipients: built.wraps }) as any;
    await refused(w, "shares.addRecipients", w.bob, { ...input(), forward: { shareId } }, "BAD_REQUEST", /forward/);
    const other = await share(server, w.alice, { teamId: w.teamId }, payload);
    await refused(w, "shares.addRecipients", w.bob, { ...input(), id: other }, "BAD_REQUEST", /the record is for share/);
    const dup = input();
    dup.recipients.push(dup.recipients[0]);
    await refused(w, "shares.addRecipients", w.bob, dup, "BAD_REQUEST", /listed twice/);
    const short = input();
    short.recipients[0].wrappedKey = short.recipients[0].wrappedKey.slice(0, -8);
    await refused(w, "shares.addRecipients", w.bob, short, "BAD_REQUEST", /wrappedKey|wrapped key/);
    const resigned = input();
    resigned.forward.createdAt += 1;
    await refused(w, "shares.addRecipients", w.bob, resigned, "BAD_REQUEST", /signature/);
    // The untouched forward still works: the refusals left nothing half-done.
    await ok(call(server, "shares.addRecipients", w.bob.session, input()));
    expect(bob2.keys.deviceId).toBeTruthy();
  });
});

describe("wrong user, wrong team, wrong device on real shares", () => {
  let w: World;
  let teamShare: string;
  let direct: string;
  beforeAll(async () => {
    w = await world();
    teamShare = await share(server, w.alice, { teamId: w.teamId }, payload);
    direct = await share(server, w.alice, { userId: w.bob.userId }, payload);
  });

  it("get: Carol (outsider) NOT_FOUND with any device id; Bob naming Alice's device FORBIDDEN; no key handed out", async () => {
    for (const deviceId of [w.carol.keys.deviceId, w.bob.keys.deviceId, w.alice.keys.deviceId])
      for (const id of [teamShare, direct]) await refused(w, "shares.get", w.carol, { id, deviceId }, "NOT_FOUND", /not found|No share/i);
    for (const id of [teamShare, direct])
      await refused(w, "shares.get", w.bob, { id, deviceId: w.alice.keys.deviceId }, "FORBIDDEN", /not an active device of yours/);
  });

  it("listTeam and markRead of a team I am not in: NOT_FOUND; markRead of its share ids marks nothing", async () => {
    await refused(w, "shares.listTeam", w.carol, { teamId: w.teamId }, "NOT_FOUND", /not found/i);
    await refused(w, "shares.markRead", w.carol, { teamId: w.teamId }, "NOT_FOUND", /not found/i);
    const before = await dump(w);
    expect(await ok(call(server, "shares.markRead", w.carol.session, { shareIds: [teamShare, direct] }))).toEqual({ marked: 0 });
    expect(await dump(w)).toEqual(before);
  });

  it("listDirect with someone I share no direct thread with lists nothing of others' threads", async () => {
    const page = await ok(call(server, "shares.listDirect", w.carol.session, { userId: w.alice.userId }));
    expect(page.items).toEqual([]);
    const bobs = await ok(call(server, "shares.listDirect", w.carol.session, { userId: w.bob.userId }));
    expect(bobs.items).toEqual([]);
  });

  it("create: to a team I am not in, to a user I share no team with, or to myself", async () => {
    const intoTheirs = await seal(server, w.carol, { teamId: w.teamId }, payload, { recipients: [] });
    await refused(
      w,
      "shares.create",
      w.carol,
      { target: { teamId: w.teamId }, envelope: intoTheirs.envelope, recipients: intoTheirs.wraps },
      "NOT_FOUND",
      /not found/i,
    );
    const toAlice = await seal(server, w.carol, { userId: w.alice.userId }, payload, { recipients: [] });
    await refused(
      w,
      "shares.create",
      w.carol,
      { target: { userId: w.alice.userId }, envelope: toAlice.envelope, recipients: toAlice.wraps },
      "NOT_FOUND",
      /not found among your teammates/,
    );
    const toSelf = await seal(server, w.alice, { userId: w.alice.userId }, payload, { recipients: [] });
    await refused(
      w,
      "shares.create",
      w.alice,
      { target: { userId: w.alice.userId }, envelope: toSelf.envelope, recipients: toSelf.wraps },
      "BAD_REQUEST",
      /goes to another user/,
    );
  });

  it("delete: an outsider NOT_FOUND, a plain member who is not the author FORBIDDEN, the direct target FORBIDDEN", async () => {
    await refused(w, "shares.delete", w.carol, { id: teamShare }, "NOT_FOUND", /not found/i);
    await refused(w, "shares.delete", w.bob, { id: teamShare }, "FORBIDDEN", /author/);
    await refused(w, "shares.delete", w.bob, { id: direct }, "FORBIDDEN", /author/);
  });

  it("needingForward and addRecipients with another user's device or share", async () => {
    await refused(w, "shares.needingForward", w.carol, { deviceId: w.bob.keys.deviceId }, "FORBIDDEN", /not an active device of yours/);
    await addDevice(server, w.bob);
    const own = await forward(server, w.bob, teamShare, [w.bob.userId]);
    await refused(
      w,
      "shares.addRecipients",
      w.carol,
      { id: teamShare, forward: own.forward, recipients: own.wraps },
      "BAD_REQUEST",
      /forwarder, not you/,
    );
    // Bob (a recipient, not the author) may not bring in another user, even one he shares a team with.
    const toCarol = await forward(server, w.bob, teamShare, [w.carol.userId]);
    await refused(
      w,
      "shares.addRecipients",
      w.bob,
      { id: teamShare, forward: toCarol.forward, recipients: toCarol.wraps },
      "FORBIDDEN",
      /Only the share's author may add other users/,
    );
  });
});
