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
 *   3. Device roles: set `actors: [...baseActors, "activeDevice", "revokedDevice",
 *      "otherUsersDevice"]` and give their outcomes in `expect`; build those actors in
 *      `tokenOf`/`deviceActors` in world.ts (a device actor calls with its user's token and puts
 *      its device id in the input: `input(world, actor)` receives the actor for that).
 *   4. Run `pnpm --filter @osmynt/tests exec vitest run battery/authz-matrix.test.ts`.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { randomLogin } from "../helpers/factories.js";
import { type Actor, baseActors, teamActors, type World } from "./world.js";

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
  input: (world: World, actor: Actor) => unknown;
  expect: Partial<Record<Actor, Outcome>>;
  /** Which actors call; `baseActors` unless the entry adds device roles. */
  actors?: readonly Actor[];
  /** Each actor gets a world of their own (the call consumes what it acts on). */
  fresh?: boolean;
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

/** An uncompressed P-256 point (65 bytes from 0x04), base64url: what key fields want. */
function p256Point(): string {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, "base64url"), Buffer.from(jwk.y as string, "base64url")]).toString(
    "base64url",
  );
}

const unknownId = (prefix: string) => `${prefix}_${randomBytes(15).toString("base64url")}`;
const b64 = (n: number) => randomBytes(n).toString("base64url");
const recipient = (w: World) => ({
  userId: w.member.user.id,
  deviceId: unknownId("dev"),
  kemKeyId: b64(16),
  enc: p256Point(),
  wrappedKey: b64(48),
});

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
  "keys.mine": { input: () => undefined, expect: signedIn("ok") },
  "keys.forTeam": { input: (w) => ({ teamId: w.teamId }), expect: team({ member: "ok", admin: "ok", owner: "ok" }) },
  // Only users I share a team with.
  "keys.forUser": { input: (w) => ({ userId: w.target.user.id }), expect: team({ member: "ok", admin: "ok", owner: "ok" }) },
  // Appends to one's own device log: a forged root is refused, and nobody without a log appends to it.
  "keys.register": { input: (w, a) => ({ link: unsignedLink(w, a, "root") }), expect: signedIn("FORBIDDEN") },
  "keys.addDevice": { input: (w, a) => ({ link: unsignedLink(w, a, "add_device") }), expect: signedIn("PRECONDITION_FAILED") },
  "keys.addRecovery": { input: (w, a) => ({ link: unsignedLink(w, a, "add_recovery") }), expect: signedIn("PRECONDITION_FAILED") },
  "keys.revoke": { input: (w, a) => ({ link: unsignedLink(w, a, "revoke_device") }), expect: signedIn("PRECONDITION_FAILED") },
  "keys.rotate": { input: (w, a) => ({ link: unsignedLink(w, a, "rotate_kem") }), expect: signedIn("PRECONDITION_FAILED") },
  "keys.pairing.pending": { input: () => undefined, expect: signedIn("ok") },
  "keys.pairing.init": {
    input: () => ({
      transactionId: b64(16),
      deviceId: unknownId("dev"),
      name: "matrix device",
      signingKey: p256Point(),
      kemKey: p256Point(),
      commitment: b64(32),
    }),
    // only a signed-in user with a registered device may start pairing from a new one
    expect: signedIn("PRECONDITION_FAILED"),
  },
  "keys.pairing.get": { input: () => ({ pairingId: unknownId("pair") }), expect: signedIn("NOT_FOUND") },
  "keys.pairing.respond": {
    input: () => ({ pairingId: unknownId("pair"), deviceId: unknownId("dev"), ephemeralKey: p256Point() }),
    expect: signedIn("FORBIDDEN"),
  },
  "keys.pairing.reveal": { input: () => ({ pairingId: unknownId("pair"), ephemeralKey: p256Point() }), expect: signedIn("NOT_FOUND") },
  "keys.pairing.confirm": {
    input: () => ({ pairingId: unknownId("pair"), side: "existing", mac: b64(32), headSeq: 0 }),
    expect: signedIn("NOT_FOUND"),
  },
  "keys.pairing.abort": { input: () => ({ pairingId: unknownId("pair"), reason: "cancelled" }), expect: signedIn("NOT_FOUND") },
  "keys.pairing.onUpdate": { input: () => ({ pairingId: unknownId("pair") }), expect: signedIn("NOT_FOUND") },

  // ---- shares ----
  "shares.unread": { input: () => undefined, expect: signedIn("ok") },
  "shares.listTeam": { input: (w) => ({ teamId: w.teamId }), expect: team({ member: "ok", admin: "ok", owner: "ok" }) },
  // Only the shares between the caller and that user: anyone may ask, and sees only their own.
  "shares.listDirect": { input: (w) => ({ userId: w.target.user.id }), expect: signedIn("ok") },
  "shares.markRead": { input: (w) => ({ teamId: w.teamId }), expect: team({ member: "ok", admin: "ok", owner: "ok" }) },
  "shares.get": { input: () => ({ id: unknownId("shr"), deviceId: unknownId("dev") }), expect: signedIn("NOT_FOUND") },
  "shares.delete": { input: () => ({ id: unknownId("shr") }), expect: signedIn("NOT_FOUND") },
  // Backfill work of one of the caller's own active devices; any other device id is refused.
  "shares.needingForward": { input: () => ({ deviceId: unknownId("dev") }), expect: signedIn("FORBIDDEN") },
  "shares.addRecipients": {
    input: (w) => ({ id: unknownId("shr"), forward: {}, recipients: [recipient(w)] }),
    // The forward record is checked before the share is looked up, whoever calls. A world with
    // a real sealed share (and devices) would let this entry say NOT_FOUND for strangers.
    expect: signedIn("BAD_REQUEST"),
  },
  "shares.create": {
    input: (w) => ({
      target: { teamId: w.teamId },
      envelope: { suite: "SNIP1-P256", nonce: b64(12), ciphertext: b64(64), manifest: {}, signature: b64(64) },
      recipients: [recipient(w)],
    }),
    // The envelope is checked before the target, whoever calls (no team is revealed by it). A world
    // with devices and a sealed envelope would let this entry tell members from strangers.
    expect: signedIn("BAD_REQUEST"),
  },
};
