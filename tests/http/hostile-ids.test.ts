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

const queries = new Set(["teams.audit", "teams.invites.list", "keys.forUser"]);

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
