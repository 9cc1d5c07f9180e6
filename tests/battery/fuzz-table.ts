/**
 * The fuzz battery's table: for every procedure of the router, a valid input aimed at the fuzz
 * world, which tests/battery/input-fuzz.test.ts corrupts in 200+ ways (see fuzz-cases.ts). The
 * battery fails for any procedure without an entry here, and for any entry whose procedure is gone.
 *
 * HOW TO ADD AN ENTRY (a new procedure):
 *   `"<path>": { valid: (w) => input }` in the section of its router. `valid` may be async and is
 *   called right before that procedure's batch, so it can make what the input needs (a share, a
 *   device, a pairing in the right state: see fuzz-world.ts). Aim it at something the owner may
 *   act on, so corrupted inputs get past authorization to the deep checks; if a successful call
 *   spends it (deletes, leaves, revokes), make a new one in `valid` rather than spending the
 *   world's. A procedure without input: `valid: () => undefined`.
 *   `caller: "freshSession"` if the call ends the session it is made with.
 *   `refusalsThatWrite` only for a refusal that writes by design (say why).
 */
import { randomBytes } from "node:crypto";
import {
  createAddDeviceLink,
  createRevokeLink,
  createRootLink,
  createRotateKemLink,
  generateDeviceKeys,
  generateKemKey,
  generateRecoveryCode,
} from "@osmynt/sdk/crypto";
import { randomLogin, rawCall, signUp } from "../helpers/factories.js";
import { sessionIdOf } from "../helpers/tokens.js";
import { addDevice, forward, logOf, ok, seal, share } from "../shares/helpers.js";
import { type FuzzWorld, pairingAt, pairingRequest, point } from "./fuzz-world.js";

export interface FuzzEntry {
  valid: (w: FuzzWorld) => unknown;
  /** "owner" (default): the world owner's session. "freshSession": a new session of the owner per case. */
  caller?: "owner" | "freshSession";
  /** Refusals that write to the database by design: those cases skip the unchanged-database check. */
  refusalsThatWrite?: { outcomes: string[]; why: string };
}

const b64 = (n: number) => randomBytes(n).toString("base64url");
const p256 = point;

async function spareTeam(w: FuzzWorld): Promise<string> {
  const team = await ok(rawCall(w.server, "teams.create", { input: { name: `spare ${randomLogin("t")}` }, token: w.owner.accessToken }));
  const invite = await ok(rawCall(w.server, "teams.invites.create", { input: { teamId: team.id }, token: w.owner.accessToken }));
  await ok(rawCall(w.server, "teams.invites.accept", { input: { token: invite.token }, token: w.target.accessToken }));
  return team.id;
}

const ownerLog = (w: FuzzWorld) => logOf(w.server, w.owner, w.owner.user.id);

export const fuzzTable: Record<string, FuzzEntry> = {
  // ---- auth ----
  "auth.devLogin": { valid: () => ({ login: randomLogin("fz") }) },
  "auth.handshake.init": { valid: async () => ({ publicKey: await p256() }) },
  "auth.handshake.retrieve": { valid: (w) => w.handshake },
  "auth.handshake.onComplete": { valid: (w) => w.handshake },
  "auth.loginWithGitHubToken": { valid: () => ({ githubToken: `gho_${b64(27)}` }) },
  "auth.refresh": {
    valid: async (w) => ({ refreshToken: (await signUp(w.server, w.owner.user.login)).refreshToken }),
    refusalsThatWrite: {
      outcomes: ["UNAUTHORIZED"],
      why: "presenting a refresh token already rotated (the valid input sent again) revokes its session: token-theft detection",
    },
  },
  "auth.logout": { valid: () => undefined, caller: "freshSession" },
  "auth.me": { valid: () => undefined },
  "auth.sessions.list": { valid: () => undefined },
  "auth.sessions.revoke": {
    valid: async (w) => ({ sessionId: sessionIdOf((await signUp(w.server, w.owner.user.login)).accessToken) }),
  },

  // ---- events ----
  "events.subscribe": { valid: () => ({ lastEventId: "1" }) },

  // ---- keys ----
  "keys.mine": { valid: () => undefined },
  "keys.forTeam": { valid: (w) => ({ teamId: w.teamId }) },
  "keys.forUser": { valid: (w) => ({ userId: w.member.user.id }) },
  // a well-signed root for an account that has one: CONFLICT, after every check of the link itself
  "keys.register": { valid: async (w) => ({ link: await createRootLink(w.owner.user.id, await generateDeviceKeys(), { name: "fuzz" }) }) },
  "keys.addDevice": {
    valid: async (w) => ({
      link: await createAddDeviceLink(await ownerLog(w), w.ownerDevice.keys, await generateDeviceKeys(), { name: "fuzz" }),
    }),
  },
  "keys.addRecovery": {
    valid: async (w) => ({ link: await createAddDeviceLink(await ownerLog(w), w.ownerDevice.keys, (await generateRecoveryCode()).keys) }),
  },
  "keys.revoke": {
    valid: async (w) => {
      const spare = await addDevice(w.server, w.ownerDevice);
      return { link: await createRevokeLink(await ownerLog(w), w.ownerDevice.keys, spare.keys.deviceId) };
    },
  },
  "keys.rotate": {
    valid: async (w) => {
      const spare = await addDevice(w.server, w.ownerDevice);
      return { link: await createRotateKemLink(await ownerLog(w), spare.keys, (await generateKemKey()).kemPublicKey) };
    },
  },
  "keys.pairing.init": { valid: () => pairingRequest() },
  "keys.pairing.pending": { valid: () => undefined },
  "keys.pairing.get": { valid: async (w) => ({ pairingId: await pairingAt(w, "initiated", "ownerOther") }) },
  "keys.pairing.onUpdate": { valid: async (w) => ({ pairingId: await pairingAt(w, "initiated", "ownerOther") }) },
  "keys.pairing.respond": {
    valid: async (w) => ({
      pairingId: await pairingAt(w, "initiated", "ownerOther"),
      deviceId: w.ownerDevice.keys.deviceId,
      ephemeralKey: await p256(),
    }),
  },
  "keys.pairing.reveal": { valid: async (w) => ({ pairingId: await pairingAt(w, "responded", "owner"), ephemeralKey: await p256() }) },
  "keys.pairing.confirm": {
    valid: async (w) => ({ pairingId: await pairingAt(w, "revealed", "ownerOther"), side: "existing", mac: b64(32), headSeq: 0 }),
  },
  "keys.pairing.abort": { valid: async (w) => ({ pairingId: await pairingAt(w, "initiated", "ownerOther"), reason: "cancelled" }) },

  // ---- shares ----
  "shares.create": {
    valid: async (w) => {
      const target = { teamId: w.teamId };
      const { envelope, wraps } = await seal(w.server, w.ownerDevice, target, { code: "x = 1", title: "fuzzed" });
      return { target, envelope, recipients: wraps };
    },
  },
  "shares.get": { valid: (w) => ({ id: w.shareId, deviceId: w.ownerDevice.keys.deviceId }) },
  "shares.listTeam": { valid: (w) => ({ teamId: w.teamId, authorId: w.owner.user.id, cursor: "999", limit: 10 }) },
  "shares.listDirect": { valid: (w) => ({ userId: w.member.user.id, cursor: "999", limit: 10 }) },
  "shares.markRead": { valid: (w) => ({ shareIds: [w.shareId] }) },
  "shares.unread": { valid: () => undefined },
  "shares.needingForward": { valid: (w) => ({ deviceId: w.ownerDevice.keys.deviceId, cursor: "999", limit: 10 }) },
  "shares.delete": {
    valid: async (w) => ({ id: await share(w.server, w.ownerDevice, { teamId: w.teamId }, { code: "bye", title: "bye" }) }),
  },
  // a new device of the owner's lacks a key of the world's share; the owner's first device forwards it
  "shares.addRecipients": {
    valid: async (w) => {
      await addDevice(w.server, w.ownerDevice);
      const built = await forward(w.server, w.ownerDevice, w.shareId, [w.owner.user.id]);
      return { id: w.shareId, forward: built.forward, recipients: built.wraps };
    },
  },

  // ---- teams ----
  "teams.mine": { valid: () => undefined },
  "teams.create": { valid: () => ({ name: `fuzz ${randomLogin("t")}` }) },
  "teams.rename": { valid: (w) => ({ teamId: w.teamId, name: "Fuzzed team" }) },
  "teams.delete": { valid: async (w) => ({ teamId: await spareTeam(w) }) },
  // the owner cannot leave: PRECONDITION_FAILED after every check of the input
  "teams.leave": { valid: (w) => ({ teamId: w.teamId }) },
  "teams.transferOwnership": { valid: async (w) => ({ teamId: await spareTeam(w), userId: w.target.user.id }) },
  "teams.members.remove": { valid: async (w) => ({ teamId: await spareTeam(w), userId: w.target.user.id }) },
  "teams.members.setRole": { valid: (w) => ({ teamId: w.teamId, userId: w.target.user.id, role: "admin" }) },
  "teams.invites.create": { valid: (w) => ({ teamId: w.teamId, role: "member", maxUses: 5, expiresInHours: 1.5 }) },
  "teams.invites.list": { valid: (w) => ({ teamId: w.teamId, cursor: w.inviteId, limit: 10 }) },
  "teams.invites.revoke": {
    valid: async (w) => {
      const invite = await ok(rawCall(w.server, "teams.invites.create", { input: { teamId: w.teamId }, token: w.owner.accessToken }));
      return { teamId: w.teamId, inviteId: invite.inviteId };
    },
  },
  // the owner holding their own team's invite: a member accepting again spends nothing
  "teams.invites.accept": { valid: (w) => ({ token: w.inviteToken }) },
  "teams.audit": { valid: (w) => ({ teamId: w.teamId, cursor: 1_000_000, limit: 10 }) },
};
