import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";
import { call, scopedState, type TeamFixture, teamFixture } from "../teams/helpers.js";

// Review finding 6 of issue 9: a NUL byte in an id gave a 500 and an error log with the full SQL.
// Ids are checked by their format (prefix and alphabet) at the edge, text may not hold control
// characters, and no database error caused by input surfaces as INTERNAL_SERVER_ERROR.

let server: TestServer;
let f: TeamFixture;
beforeAll(async () => {
  server = await startServer();
  f = await teamFixture(server);
});
afterAll(async () => {
  await server?.close();
});

/** An uncompressed P-256 point, base64url: a valid ephemeral key, so that only the id is wrong. */
function p256Point(): string {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, "base64url"), Buffer.from(jwk.y as string, "base64url")]).toString(
    "base64url",
  );
}

type Case = [label: string, path: string, input: () => unknown, message: RegExp];

const cases: Case[] = [
  ["NUL in a team id", "teams.rename", () => ({ teamId: `${f.teamId}\u0000`, name: "x" }), /teamId/],
  ["NUL alone after the prefix", "teams.delete", () => ({ teamId: "tm_\u0000" }), /teamId/],
  ["a user id where a team id belongs", "teams.audit", () => ({ teamId: f.owner.user.id }), /teamId is not a team id \(tm_…\)/],
  ["NUL in a user id", "teams.members.remove", () => ({ teamId: f.teamId, userId: "usr_a\u0000b" }), /userId/],
  ["a line break in a user id", "teams.members.setRole", () => ({ teamId: f.teamId, userId: "usr_a\nb", role: "admin" }), /userId/],
  ["NUL in an invite id", "teams.invites.revoke", () => ({ teamId: f.teamId, inviteId: "inv_\u0000" }), /inviteId/],
  ["NUL in an invite cursor", "teams.invites.list", () => ({ teamId: f.teamId, cursor: "inv_x\u0000" }), /cursor/],
  ["an audit cursor past bigint", "teams.audit", () => ({ teamId: f.teamId, cursor: 1e300 }), /cursor/],
  ["an audit cursor past 2^53", "teams.audit", () => ({ teamId: f.teamId, cursor: 2 ** 63 }), /cursor/],
  ["NUL in a session id", "auth.sessions.revoke", () => ({ sessionId: "ses_\u0000" }), /sessionId/],
  ["a team id where a session id belongs", "auth.sessions.revoke", () => ({ sessionId: f.teamId }), /sessionId is not a session id/],
  ["NUL in a refresh token", "auth.refresh", () => ({ refreshToken: "osr_\u0000" }), /refreshToken/],
  // Found by the fuzz battery: a lone UTF-16 surrogate passed the edge and PostgreSQL refused it
  // (SQLSTATE 22021), which the answer then named.
  ["a lone surrogate in a user id", "keys.forUser", () => ({ userId: "usr_a\ud800b" }), /userId/],
  [
    "a lone surrogate in a pairing device id",
    "keys.pairing.respond",
    () => ({ pairingId: "pair_x", deviceId: "dev_\udfff", ephemeralKey: p256Point() }),
    /deviceId/,
  ],
];

/** A device-log link of the right shape whose ids can be swapped; the signature is never reached. */
function link(ids: Partial<Record<"userId" | "deviceId" | "signerDeviceId", string>>) {
  return {
    link: {
      ...{ v: 1, suite: "SNIP1-P256", userId: f.owner.user.id, seq: 1, prev: "A".repeat(43), type: "revoke_device" },
      ...{ deviceId: "dev_a", signerDeviceId: "rec_b", signingKey: null, kemKey: null, name: "", createdAt: 0 },
      ...{ signature: "AAAA", reverseSignature: null, ...ids },
    },
  };
}

// Review finding: keys.* and shares.* checked an id's characters only, so another kind's id (a
// team id given as a share id) went on to a query. Every id input checks its kind's prefix.
const wrongKinds: Case[] = [
  ["a team id as a share id (get)", "shares.get", () => ({ id: f.teamId, deviceId: "dev_a" }), /id is not a share id \(shr_…\)/],
  ["a team id as a share id (delete)", "shares.delete", () => ({ id: f.teamId }), /id is not a share id \(shr_…\)/],
  ["a team id among markRead's share ids", "shares.markRead", () => ({ shareIds: ["shr_a", f.teamId] }), /not a share id/],
  ["a user id as markRead's team id", "shares.markRead", () => ({ teamId: f.owner.user.id }), /teamId is not a team id \(tm_…\)/],
  ["a team id as markRead's user id", "shares.markRead", () => ({ userId: f.teamId }), /userId is not a user id \(usr_…\)/],
  [
    "a user id as a share's target team",
    "shares.create",
    () => ({ target: { teamId: f.owner.user.id } }),
    /target\.teamId is not a team id/,
  ],
  ["a team id as a share's target user", "shares.create", () => ({ target: { userId: f.teamId } }), /target\.userId is not a user id/],
  ["a user id as listTeam's team", "shares.listTeam", () => ({ teamId: f.owner.user.id }), /teamId is not a team id/],
  ["a team id as listTeam's author", "shares.listTeam", () => ({ teamId: f.teamId, authorId: f.teamId }), /authorId is not a user id/],
  ["a team id as listDirect's user", "shares.listDirect", () => ({ userId: f.teamId }), /userId is not a user id/],
  [
    "a share id as a device id",
    "shares.needingForward",
    () => ({ deviceId: "shr_a" }),
    /deviceId is not a device id \(dev_…\) or recovery key id \(rec_…\)/,
  ],
  ["a team id as keys.forUser's user", "keys.forUser", () => ({ userId: f.teamId }), /userId is not a user id \(usr_…\)/],
  ["a team id as a link's user", "keys.revoke", () => link({ userId: f.teamId }), /userId is not a user id/],
  ["a user id as a link's device", "keys.revoke", () => link({ deviceId: f.owner.user.id }), /deviceId is not a device id/],
  ["a team id as a link's signer", "keys.rotate", () => link({ signerDeviceId: f.teamId }), /signerDeviceId is not a device id/],
  [
    "a team id as addDevice's pairing",
    "keys.addDevice",
    () => ({ ...link({}), pairingId: f.teamId }),
    /pairingId is not a pairing id \(pair_…\)/,
  ],
  [
    "a team id as a pairing id",
    "keys.pairing.abort",
    () => ({ pairingId: f.teamId, reason: "cancelled" }),
    /pairingId is not a pairing id/,
  ],
  [
    "a user id as a pairing device id",
    "keys.pairing.respond",
    () => ({ pairingId: "pair_x", deviceId: f.owner.user.id, ephemeralKey: p256Point() }),
    /deviceId is not a device id/,
  ],
];
cases.push(...wrongKinds);

const queries = new Set([
  "teams.audit",
  "teams.invites.list",
  "keys.forUser",
  "shares.get",
  "shares.listTeam",
  "shares.listDirect",
  "shares.needingForward",
]);

describe("hostile ids and text → BAD_REQUEST naming the field, no error log, no change", () => {
  it.each(cases)("%s", async (_label, path, input, message) => {
    const people = [f.owner, f.admin, f.member, f.target, f.outsider].map((s) => s.user.id);
    const before = await scopedState(server, { teamIds: [f.teamId], userIds: people });
    const logged = server.logs.length;
    const response = path.startsWith("teams.")
      ? await call(server, path, f.owner, input())
      : await rawCall(server, path, { kind: queries.has(path) ? "query" : "mutation", input: input(), token: f.owner.accessToken });
    expectTrpcError(response, "BAD_REQUEST", message);
    expect(JSON.stringify(response.body)).not.toMatch(/select |insert |update |delete from|pglite|postgres|SQLSTATE/i);
    const newLogs = server.logs.slice(logged).map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(newLogs.filter((l) => l.level >= 50)).toEqual([]);
    expect(await scopedState(server, { teamIds: [f.teamId], userIds: people })).toEqual(before);
  });
});
