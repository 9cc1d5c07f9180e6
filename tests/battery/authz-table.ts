/**
 * The authorization matrix: for every procedure of the router, who may call it and what everyone
 * else is told. tests/battery/authz-matrix.test.ts walks the router's own procedure records and
 * fails for any procedure without an entry here (and for any entry whose procedure is gone), so
 * nothing new ships unreviewed.
 *
 * HOW TO ADD AN ENTRY (a new procedure, e.g. `keys.something` or `shares.something`):
 *   1. Add `"<path>": { input, expect }` below, in the section of its router.
 *      - `input(world)` returns a valid input for that procedure aimed at the world's team and
 *        people (see `World` in world.ts: teamId, owner/admin/member/target, nonMember, otherUser,
 *        inviteId/inviteToken, …). Add to `World`/`buildWorld` if the procedure needs a resource
 *        the world does not have yet (a share, a device, a pairing).
 *      - `expect` says, per actor, "ok" (HTTP 200 / the stream opens) or the tRPC error code. Use
 *        the helpers: `team({ member, admin, owner })` for team procedures (strangers get
 *        NOT_FOUND), `signedIn(outcome)` for any signed-in user, `everyone(outcome)` for public
 *        procedures. Every actor of `baseActors` must end up with an outcome.
 *   2. If a successful call consumes what it acts on (deletes, leaves, removes, spends a token),
 *      set `fresh: true`: every actor then gets a world of their own.
 *   3. Device roles (keys.* and shares.*): set `actors: withDevices` and give the outcomes of
 *      `activeDevice`, `revokedDevice` and `otherUsersDevice` (`devices({...})`, or `asMember(...)`
 *      when no device is part of the input). A device actor calls with the member's token; put
 *      `deviceOf(world, actor)` (its device, keys included) in the input, and sign with it.
 *   4. Run `pnpm --filter @osmynt/tests exec vitest run battery/authz-matrix.test.ts`.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { schema } from "@osmynt/db";
import {
  createAddDeviceLink,
  createRevokeLink,
  createRootLink,
  createRotateKemLink,
  forwardShare,
  generateDeviceKeys,
  generateKemKey,
  generateRecoveryCode,
  sealShare,
  verifyDeviceLog,
} from "@osmynt/sdk/crypto";
import { and, eq } from "drizzle-orm";
import { randomLogin, rawCall } from "../helpers/factories.js";
import { addDevice, type Device, logOf, newShareId, ok, targetLogs } from "../shares/helpers.js";
import { type Actor, baseActors, deviceActorNames, deviceOf, sessionOf, teamActors, type World } from "./world.js";

export type Outcome =
  | "ok"
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "TOO_MANY_REQUESTS"
  | "BAD_GATEWAY";

export interface MatrixEntry {
  input: (world: World, actor: Actor) => unknown | Promise<unknown>;
  expect: Partial<Record<Actor, Outcome>>;
  /** Which actors call; `baseActors` unless the entry adds device roles. */
  actors?: readonly Actor[];
  /** Each actor (or each listed one) gets a world of their own (the call consumes what it acts on). */
  fresh?: boolean | readonly Actor[];
}

const refusedSession = { anonymous: "UNAUTHORIZED", expiredToken: "UNAUTHORIZED", revokedSession: "UNAUTHORIZED" } as const;

/** Public: the same outcome whoever calls, signed in or not. */
const everyone = (outcome: Outcome) => Object.fromEntries(baseActors.map((a) => [a, outcome])) as Record<Actor, Outcome>;

/** Any signed-in user gets `outcome`; bad or missing sessions get UNAUTHORIZED. */
const signedIn = (outcome: Outcome): Partial<Record<Actor, Outcome>> => ({
  ...refusedSession,
  otherUser: outcome,
  nonMember: outcome,
  member: outcome,
  admin: outcome,
  owner: outcome,
});

/** A procedure on the world's team: people outside it get NOT_FOUND (its existence does not leak). */
const team = (roles: { member: Outcome; admin: Outcome; owner: Outcome }, outsiders: Outcome = "NOT_FOUND") => ({
  ...refusedSession,
  otherUser: outsiders,
  nonMember: outsiders,
  ...roles,
});

/** Every base actor, then the member as each of their device roles. */
const withDevices = [...baseActors, ...deviceActorNames] as const;
const isDeviceActor = (a: Actor) => (deviceActorNames as readonly Actor[]).includes(a);
const signedInActor = (a: Actor) => isDeviceActor(a) || (teamActors as readonly Actor[]).includes(a);

/** Outcomes of the device actors. */
const devices = (o: { activeDevice: Outcome; revokedDevice: Outcome; otherUsersDevice: Outcome }) => o;

/** Device actors get the member's outcome: for procedures where no device is part of the input. */
const asMember = (e: Partial<Record<Actor, Outcome>>): Partial<Record<Actor, Outcome>> => ({
  ...e,
  activeDevice: e.member as Outcome,
  revokedDevice: e.member as Outcome,
  otherUsersDevice: e.member as Outcome,
});

/** The verified log of the user the actor calls as. */
const logFor = (w: World, a: Actor) => logOf(w.server, sessionOf(w, a), sessionOf(w, a).user.id);

/**
 * The log a device signs a share or forward with. The SDK refuses to for a device its own log does
 * not show active, so the revoked device signs with the member's log as it was before the
 * revocation. Another user's device can only sign as that user (the SDK checks the log is the
 * signer's): the member then sends an envelope or forward naming someone else.
 */
async function signerLog(w: World, a: Actor, by?: Device) {
  if (a !== "revokedDevice") return logOf(w.server, by ? by.session : sessionOf(w, a), signerUserId(w, a, by));
  const answer = await ok(
    rawCall(w.server, "keys.forUser", { kind: "query", input: { userId: w.member.user.id }, token: w.member.accessToken }),
  );
  const links = answer.links as { type: string; deviceId: string }[];
  const revokedAt = links.findIndex((l) => l.type === "revoke_device" && l.deviceId === w.memberRevoked.keys.deviceId);
  return verifyDeviceLog(links.slice(0, revokedAt), { userId: w.member.user.id });
}

/** Whose share or forward the actor's device signs: its own user's (another user's device signs as that user). */
function signerUserId(w: World, a: Actor, by?: Device): string {
  if (by) return by.userId;
  return a === "otherUsersDevice" ? w.owner.user.id : sessionOf(w, a).user.id;
}

/** The active first device of the user the actor calls as (device actors: the member's). */
const ownDevice = (w: World, a: Actor): Device =>
  isDeviceActor(a)
    ? w.devices.member
    : w.devices[(teamActors as readonly Actor[]).includes(a) ? (a as (typeof teamActors)[number]) : "owner"];

/**
 * A forward of the world's share, by `by` (which holds a wrap of it: the owner's, admin's and
 * member's devices, and the member's revoked one, sealed before its revocation), to a device the
 * member adds now. The wrap is read from the database (the revoked device's was kept by the world).
 */
async function forwardToNewMemberDevice(w: World, by: Device, actor: Actor) {
  await addDevice(w.server, w.devices.member);
  const got = await ok(
    rawCall(w.server, "shares.get", {
      kind: "query",
      input: { id: w.shareId, deviceId: w.devices.owner.keys.deviceId },
      token: w.owner.accessToken,
    }),
  );
  const { shareRecipients: r } = schema;
  const [held] = await w.server.deps.db
    .select({ userId: r.userId, deviceId: r.deviceId, kemKeyId: r.kemKeyId, enc: r.enc, wrappedKey: r.wrappedKey })
    .from(r)
    .where(and(eq(r.shareId, w.shareId), eq(r.deviceId, by.keys.deviceId)));
  // revoking a device deletes its wraps: the world kept the revoked device's from before
  const wrap = by === w.memberRevoked ? w.memberRevokedWrap : held;
  if (!wrap) throw new Error(`device ${by.keys.deviceId} holds no wrap of the world's share`);
  const result = await forwardShare({
    envelope: got.envelope,
    wrap,
    me: { userId: signerUserId(w, actor, by), keys: by.keys, log: await signerLog(w, actor, by) },
    senderLog: await logOf(w.server, w.owner, w.owner.user.id),
    expected: { shareId: w.shareId },
    to: [await logOf(w.server, w.owner, w.member.user.id)],
  });
  return { id: w.shareId, forward: result.forward, recipients: result.wraps };
}

/** An uncompressed P-256 point (65 bytes from 0x04), base64url: what key fields want. */
function p256Point(): string {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, "base64url"), Buffer.from(jwk.y as string, "base64url")]).toString(
    "base64url",
  );
}

const unknownId = (prefix: string) => `${prefix}_${randomBytes(15).toString("base64url")}`;
const b64 = (n: number) => randomBytes(n).toString("base64url");

/** A well-formed device link that no server accepts: its signature is random bytes. */
const unsignedLink = (world: World, actor: Actor, type: "root" | "add_device" | "add_recovery" | "revoke_device" | "rotate_kem") => ({
  v: 1,
  suite: "SNIP1-P256",
  userId: (teamActors as readonly Actor[]).includes(actor) ? world[actor as (typeof teamActors)[number]].user.id : world.owner.user.id,
  seq: type === "root" ? 0 : 1,
  prev: type === "root" ? null : b64(32),
  type,
  deviceId: unknownId("dev"),
  signerDeviceId: unknownId("dev"),
  signingKey: type === "revoke_device" ? null : b64(65),
  kemKey: type === "revoke_device" ? null : b64(65),
  name: "matrix device",
  createdAt: Date.now(),
  signature: b64(64),
  reverseSignature: type === "add_device" ? b64(64) : null,
});

export const matrix: Record<string, MatrixEntry> = {
  // ---- auth ----
  "auth.devLogin": { input: () => ({ login: randomLogin("dl") }), expect: everyone("ok") },
  // GitHub sign-in is not configured on the test server: both sign-in starts are refused to all alike.
  "auth.handshake.init": { input: () => ({ publicKey: p256Point() }), expect: everyone("FORBIDDEN") },
  "auth.handshake.retrieve": {
    input: () => ({ handshakeId: unknownId("hs"), retrievalSecret: unknownId("osh") }),
    expect: everyone("NOT_FOUND"),
  },
  "auth.handshake.onComplete": {
    input: () => ({ handshakeId: unknownId("hs"), retrievalSecret: unknownId("osh") }),
    expect: everyone("NOT_FOUND"),
  },
  "auth.loginWithGitHubToken": { input: () => ({ githubToken: `gho_${b64(20)}` }), expect: everyone("FORBIDDEN") },
  "auth.refresh": { input: (w) => ({ refreshToken: w.owner.refreshToken }), expect: everyone("ok"), fresh: true },
  "auth.logout": { input: () => undefined, expect: signedIn("ok"), fresh: true },
  "auth.me": { input: () => undefined, expect: signedIn("ok") },
  "auth.sessions.list": { input: () => undefined, expect: signedIn("ok") },
  "auth.sessions.revoke": {
    input: (w) => ({ sessionId: w.ownerSecondSessionId }),
    expect: { ...signedIn("NOT_FOUND"), owner: "ok" },
    fresh: true,
  },

  // ---- events ----
  "events.subscribe": { input: () => undefined, expect: signedIn("ok") },

  // ---- teams ----
  "teams.mine": { input: () => undefined, expect: signedIn("ok") },
  "teams.create": { input: () => ({ name: `made ${randomLogin("t")}` }), expect: signedIn("ok") },
  "teams.rename": {
    input: (w) => ({ teamId: w.teamId, name: "Renamed" }),
    expect: team({ member: "FORBIDDEN", admin: "ok", owner: "ok" }),
  },
  "teams.delete": {
    input: (w) => ({ teamId: w.teamId }),
    expect: team({ member: "FORBIDDEN", admin: "FORBIDDEN", owner: "ok" }),
    fresh: true,
  },
  "teams.leave": {
    input: (w) => ({ teamId: w.teamId }),
    expect: team({ member: "ok", admin: "ok", owner: "PRECONDITION_FAILED" }),
    fresh: true,
  },
  "teams.transferOwnership": {
    input: (w) => ({ teamId: w.teamId, userId: w.target.user.id }),
    expect: team({ member: "FORBIDDEN", admin: "FORBIDDEN", owner: "ok" }),
    fresh: true,
  },
  "teams.members.remove": {
    input: (w) => ({ teamId: w.teamId, userId: w.target.user.id }),
    expect: team({ member: "FORBIDDEN", admin: "ok", owner: "ok" }),
    fresh: true,
  },
  "teams.members.setRole": {
    input: (w) => ({ teamId: w.teamId, userId: w.target.user.id, role: "admin" }),
    expect: team({ member: "FORBIDDEN", admin: "ok", owner: "ok" }),
  },
  "teams.invites.create": { input: (w) => ({ teamId: w.teamId }), expect: team({ member: "FORBIDDEN", admin: "ok", owner: "ok" }) },
  "teams.invites.list": { input: (w) => ({ teamId: w.teamId }), expect: team({ member: "FORBIDDEN", admin: "ok", owner: "ok" }) },
  "teams.invites.revoke": {
    input: (w) => ({ teamId: w.teamId, inviteId: w.inviteId }),
    expect: team({ member: "FORBIDDEN", admin: "ok", owner: "ok" }),
  },
  // Holding the token is the capability: strangers join, members get their membership back.
  "teams.invites.accept": { input: (w) => ({ token: w.inviteToken }), expect: signedIn("ok") },
  "teams.audit": { input: (w) => ({ teamId: w.teamId }), expect: team({ member: "FORBIDDEN", admin: "ok", owner: "ok" }) },

  // ---- keys ----
  // Device actors are the member calling as one device (world.ts); where no device is in the
  // input they must get what the member gets.
  "keys.mine": { input: () => undefined, expect: asMember(signedIn("ok")), actors: withDevices },
  "keys.forTeam": {
    input: (w) => ({ teamId: w.teamId }),
    expect: asMember(team({ member: "ok", admin: "ok", owner: "ok" })),
    actors: withDevices,
  },
  // Only users I share a team with.
  "keys.forUser": {
    input: (w) => ({ userId: w.target.user.id }),
    expect: asMember(team({ member: "ok", admin: "ok", owner: "ok" })),
    actors: withDevices,
  },
  // Everyone signed in has a log already: a second root is CONFLICT, whoever signs it.
  "keys.register": {
    input: async (w, a) => ({ link: await createRootLink(sessionOf(w, a).user.id, deviceOf(w, a).keys) }),
    expect: { ...signedIn("CONFLICT"), ...devices({ activeDevice: "CONFLICT", revokedDevice: "CONFLICT", otherUsersDevice: "CONFLICT" }) },
    actors: withDevices,
  },
  // Links signed by the actor's device on its user's log: a revoked device, or another user's,
  // may not sign.
  "keys.addDevice": {
    input: async (w, a) => ({ link: await createAddDeviceLink(await logFor(w, a), deviceOf(w, a).keys, await generateDeviceKeys()) }),
    expect: { ...signedIn("ok"), ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "FORBIDDEN" }) },
    actors: withDevices,
  },
  "keys.addRecovery": {
    input: async (w, a) => ({
      link: await createAddDeviceLink(await logFor(w, a), deviceOf(w, a).keys, (await generateRecoveryCode()).keys),
    }),
    expect: { ...signedIn("ok"), ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "FORBIDDEN" }) },
    actors: withDevices,
    // a second recovery key needs the first revoked: the member's device roles get worlds of their own
    fresh: deviceActorNames,
  },
  "keys.revoke": {
    input: async (w, a) => {
      if (!signedInActor(a)) return { link: unsignedLink(w, a, "revoke_device") };
      const spare = await addDevice(w.server, ownDevice(w, a));
      return { link: await createRevokeLink(await logFor(w, a), deviceOf(w, a).keys, spare.keys.deviceId) };
    },
    expect: { ...signedIn("ok"), ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "FORBIDDEN" }) },
    actors: withDevices,
    fresh: true,
  },
  "keys.rotate": {
    input: async (w, a) => ({
      link: await createRotateKemLink(await logFor(w, a), deviceOf(w, a).keys, (await generateKemKey()).kemPublicKey),
    }),
    expect: { ...signedIn("ok"), ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "FORBIDDEN" }) },
    actors: withDevices,
    fresh: true,
  },
  "keys.pairing.pending": { input: () => undefined, expect: asMember(signedIn("ok")), actors: withDevices },
  "keys.pairing.init": {
    input: () => ({
      transactionId: b64(16),
      deviceId: unknownId("dev"),
      name: "matrix device",
      signingKey: p256Point(),
      kemKey: p256Point(),
      commitment: b64(32),
    }),
    // anyone signed in with a registered device may start pairing a new one (each opens one:
    // the member's three device actors get worlds of their own, a user may have three open)
    expect: asMember(signedIn("ok")),
    actors: withDevices,
    fresh: deviceActorNames,
  },
  "keys.pairing.get": { input: () => ({ pairingId: unknownId("pair") }), expect: asMember(signedIn("NOT_FOUND")), actors: withDevices },
  // The answering device must be an active device of the caller's own.
  "keys.pairing.respond": {
    input: async (w, a) => {
      if (!isDeviceActor(a)) return { pairingId: unknownId("pair"), deviceId: unknownId("dev"), ephemeralKey: p256Point() };
      const request = {
        transactionId: b64(16),
        deviceId: unknownId("dev"),
        name: "new",
        signingKey: p256Point(),
        kemKey: p256Point(),
        commitment: b64(32),
      };
      const pairing = await rawCall(w.server, "keys.pairing.init", { input: request, token: w.memberOther.accessToken });
      return { pairingId: pairing.body.result.data.pairingId, deviceId: deviceOf(w, a).keys.deviceId, ephemeralKey: p256Point() };
    },
    expect: { ...signedIn("FORBIDDEN"), ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "FORBIDDEN" }) },
    actors: withDevices,
    fresh: deviceActorNames,
  },
  "keys.pairing.reveal": {
    input: () => ({ pairingId: unknownId("pair"), ephemeralKey: p256Point() }),
    expect: asMember(signedIn("NOT_FOUND")),
    actors: withDevices,
  },
  "keys.pairing.confirm": {
    input: () => ({ pairingId: unknownId("pair"), side: "existing", mac: b64(32), headSeq: 0 }),
    expect: asMember(signedIn("NOT_FOUND")),
    actors: withDevices,
  },
  "keys.pairing.abort": {
    input: () => ({ pairingId: unknownId("pair"), reason: "cancelled" }),
    expect: asMember(signedIn("NOT_FOUND")),
    actors: withDevices,
  },
  "keys.pairing.onUpdate": {
    input: () => ({ pairingId: unknownId("pair") }),
    expect: asMember(signedIn("NOT_FOUND")),
    actors: withDevices,
  },

  // ---- shares ----
  "shares.unread": { input: () => undefined, expect: asMember(signedIn("ok")), actors: withDevices },
  "shares.listTeam": {
    input: (w) => ({ teamId: w.teamId }),
    expect: asMember(team({ member: "ok", admin: "ok", owner: "ok" })),
    actors: withDevices,
  },
  // Only the shares between the caller and that user: anyone may ask, and sees only their own.
  "shares.listDirect": { input: (w) => ({ userId: w.target.user.id }), expect: asMember(signedIn("ok")), actors: withDevices },
  "shares.markRead": {
    input: (w) => ({ teamId: w.teamId }),
    expect: asMember(team({ member: "ok", admin: "ok", owner: "ok" })),
    actors: withDevices,
  },
  // The world's share, asked for by the actor's device: a revoked device gets no key although it
  // holds one; another user's device id is not the caller's to ask with.
  "shares.get": {
    input: (w, a) => ({ id: w.shareId, deviceId: deviceOf(w, a).keys.deviceId }),
    expect: {
      ...team({ member: "ok", admin: "ok", owner: "ok" }),
      ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "FORBIDDEN" }),
    },
    actors: withDevices,
  },
  "shares.delete": { input: () => ({ id: unknownId("shr") }), expect: asMember(signedIn("NOT_FOUND")), actors: withDevices },
  // Backfill work of one of the caller's own active devices; any other device id is refused.
  "shares.needingForward": {
    input: (w, a) => ({ deviceId: deviceOf(w, a).keys.deviceId }),
    expect: { ...signedIn("ok"), ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "FORBIDDEN" }) },
    actors: withDevices,
  },
  // A forward of the world's share to a new device of the member's, signed by the actor's device:
  // the author may add anyone's devices, a member their own, an admin who is not the author nobody
  // else's, a revoked device nothing. A forward names its forwarding user, and another user's
  // device can only sign as that user, so a forward made by it (strangers send the owner's;
  // `otherUsersDevice` is the member sending it) is BAD_REQUEST before any share is looked up.
  "shares.addRecipients": {
    input: async (w, a) =>
      forwardToNewMemberDevice(w, signedInActor(a) && a !== "nonMember" && a !== "otherUser" ? deviceOf(w, a) : w.devices.owner, a),
    expect: {
      ...refusedSession,
      otherUser: "BAD_REQUEST",
      nonMember: "BAD_REQUEST",
      member: "ok",
      admin: "FORBIDDEN",
      owner: "ok",
      ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "BAD_REQUEST" }),
    },
    actors: withDevices,
    fresh: true,
  },
  // An envelope sealed by the actor's device for the team's active devices: members share,
  // strangers are told the team does not exist, a revoked device cannot sign one, and an envelope
  // another user's device signed (as that user) is BAD_REQUEST from anyone else.
  "shares.create": {
    input: async (w, a) => {
      const target = { teamId: w.teamId };
      const sealed = await sealShare({
        sender: { userId: signerUserId(w, a), keys: deviceOf(w, a).keys, log: await signerLog(w, a) },
        target,
        shareId: newShareId(),
        recipients: await targetLogs(w.server, w.devices.owner, target),
        plaintext: new TextEncoder().encode("matrix"),
        expiresAt: null,
      });
      return { target, envelope: sealed.envelope, recipients: sealed.wraps };
    },
    expect: {
      ...team({ member: "ok", admin: "ok", owner: "ok" }),
      ...devices({ activeDevice: "ok", revokedDevice: "FORBIDDEN", otherUsersDevice: "BAD_REQUEST" }),
    },
    actors: withDevices,
  },
};
