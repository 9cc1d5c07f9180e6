import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, type ErrorCode, expectError, ok, scopedState, type TeamFixture, teamFixture } from "./helpers.js";

let server: TestServer;
let f: TeamFixture;
/** A second team, where the fixture's owner and admin are nobody. */
let other: TeamFixture;
let otherInviteId: string;
let myInviteId: string;

beforeAll(async () => {
  server = await startServer();
  f = await teamFixture(server);
  other = await teamFixture(server);
  otherInviteId = (await ok(call(server, "teams.invites.create", other.owner, { teamId: other.teamId }))).inviteId;
  myInviteId = (await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId }))).inviteId;
});
afterAll(async () => {
  await server?.close();
});

/** Both teams and every one of their people: what a refused call must not touch. */
function worldState() {
  const people = [f, other].flatMap((x) => [x.owner, x.admin, x.member, x.target, x.outsider].map((s) => s.user.id));
  return scopedState(server, { teamIds: [f.teamId, other.teamId], userIds: people });
}

type Bad = [label: string, path: string, input: () => unknown, code: ErrorCode, message?: RegExp];

const long = "x".repeat(81);
const validShapeToken = `osi_${"A".repeat(43)}`;

const cases: Bad[] = [
  // names
  ["empty name", "teams.create", () => ({ name: "" }), "BAD_REQUEST", /name must not be empty/],
  ["blank name", "teams.create", () => ({ name: "   " }), "BAD_REQUEST", /name must not be empty/],
  ["oversized name", "teams.create", () => ({ name: long }), "BAD_REQUEST", /at most 80/],
  ["control characters in a name", "teams.create", () => ({ name: "a\u0000b" }), "BAD_REQUEST", /control characters/],
  ["missing name", "teams.create", () => ({}), "BAD_REQUEST", /name/],
  ["name of the wrong type", "teams.create", () => ({ name: 42 }), "BAD_REQUEST", /name/],
  ["empty rename", "teams.rename", () => ({ teamId: f.teamId, name: "" }), "BAD_REQUEST", /name must not be empty/],
  ["oversized rename", "teams.rename", () => ({ teamId: f.teamId, name: long }), "BAD_REQUEST", /at most 80/],
  // team ids
  [
    "unknown team id",
    "teams.rename",
    () => ({ teamId: "tm_doesnotexist000000", name: "x" }),
    "NOT_FOUND",
    /Team tm_doesnotexist000000 not found/,
  ],
  ["another team's id (rename)", "teams.rename", () => ({ teamId: other.teamId, name: "mine now" }), "NOT_FOUND", /not found/],
  ["another team's id (delete)", "teams.delete", () => ({ teamId: other.teamId }), "NOT_FOUND"],
  ["another team's id (audit)", "teams.audit", () => ({ teamId: other.teamId }), "NOT_FOUND"],
  ["another team's id (invites)", "teams.invites.create", () => ({ teamId: other.teamId }), "NOT_FOUND"],
  ["another team's id (leave)", "teams.leave", () => ({ teamId: other.teamId }), "NOT_FOUND"],
  ["empty team id", "teams.delete", () => ({ teamId: "" }), "BAD_REQUEST", /teamId is required/],
  ["oversized team id", "teams.delete", () => ({ teamId: "t".repeat(1000) }), "BAD_REQUEST", /teamId is too long/],
  ["missing team id", "teams.invites.list", () => ({}), "BAD_REQUEST", /teamId/],
  // member ids
  ["unknown user", "teams.members.remove", () => ({ teamId: f.teamId, userId: "usr_nobody" }), "NOT_FOUND", /not a member/],
  [
    "a member of another team",
    "teams.members.remove",
    () => ({ teamId: f.teamId, userId: other.member.user.id }),
    "NOT_FOUND",
    /not a member/,
  ],
  [
    "another team's member, through that team",
    "teams.members.remove",
    () => ({ teamId: other.teamId, userId: other.member.user.id }),
    "NOT_FOUND",
  ],
  [
    "set role of a stranger",
    "teams.members.setRole",
    () => ({ teamId: f.teamId, userId: other.member.user.id, role: "admin" }),
    "NOT_FOUND",
  ],
  [
    "grant ownership by setRole",
    "teams.members.setRole",
    () => ({ teamId: f.teamId, userId: f.member.user.id, role: "owner" }),
    "BAD_REQUEST",
  ],
  ["unknown role", "teams.members.setRole", () => ({ teamId: f.teamId, userId: f.member.user.id, role: "root" }), "BAD_REQUEST"],
  [
    "transfer to a stranger",
    "teams.transferOwnership",
    () => ({ teamId: f.teamId, userId: f.outsider.user.id }),
    "NOT_FOUND",
    /not a member/,
  ],
  ["transfer to yourself", "teams.transferOwnership", () => ({ teamId: f.teamId, userId: f.owner.user.id }), "BAD_REQUEST", /already own/],
  // invites
  [
    "revoke another team's invite through mine",
    "teams.invites.revoke",
    () => ({ teamId: f.teamId, inviteId: otherInviteId }),
    "NOT_FOUND",
    /Invite .* not found/,
  ],
  [
    "revoke another team's invite through it",
    "teams.invites.revoke",
    () => ({ teamId: other.teamId, inviteId: otherInviteId }),
    "NOT_FOUND",
  ],
  ["revoke an unknown invite", "teams.invites.revoke", () => ({ teamId: f.teamId, inviteId: "inv_nothing" }), "NOT_FOUND"],
  [
    "list with another team's invite as cursor",
    "teams.invites.list",
    () => ({ teamId: f.teamId, cursor: otherInviteId }),
    "BAD_REQUEST",
    /cursor/,
  ],
  ["invite granting ownership", "teams.invites.create", () => ({ teamId: f.teamId, role: "owner" }), "BAD_REQUEST"],
  ["invite with zero uses", "teams.invites.create", () => ({ teamId: f.teamId, maxUses: 0 }), "BAD_REQUEST", /maxUses is at least 1/],
  ["invite with fractional uses", "teams.invites.create", () => ({ teamId: f.teamId, maxUses: 1.5 }), "BAD_REQUEST", /maxUses/],
  ["invite that never expires", "teams.invites.create", () => ({ teamId: f.teamId, expiresInHours: 0 }), "BAD_REQUEST", /positive/],
  ["invite valid for a year", "teams.invites.create", () => ({ teamId: f.teamId, expiresInHours: 24 * 365 }), "BAD_REQUEST", /at most 720/],
  // tokens
  ["empty token", "teams.invites.accept", () => ({ token: "" }), "BAD_REQUEST", /token is required/],
  ["garbage token", "teams.invites.accept", () => ({ token: "hello" }), "BAD_REQUEST", /not an invite token/],
  ["truncated token", "teams.invites.accept", () => ({ token: validShapeToken.slice(0, 20) }), "BAD_REQUEST", /not an invite token/],
  ["refresh-token-like token", "teams.invites.accept", () => ({ token: `osr_${"A".repeat(43)}` }), "BAD_REQUEST", /not an invite token/],
  [
    "URL without an invite path",
    "teams.invites.accept",
    () => ({ token: "https://example.com/other/abc" }),
    "BAD_REQUEST",
    /not an invite token/,
  ],
  ["URL with a broken token", "teams.invites.accept", () => ({ token: "http://127.0.0.1:1/invite/osi_%ZZ" }), "BAD_REQUEST"],
  ["oversized token", "teams.invites.accept", () => ({ token: "o".repeat(5000) }), "BAD_REQUEST", /too long/],
  ["token of the wrong type", "teams.invites.accept", () => ({ token: 123 }), "BAD_REQUEST"],
  ["well-formed but unknown token", "teams.invites.accept", () => ({ token: validShapeToken }), "NOT_FOUND", /No invite matches/],
  ["unknown token as URL", "teams.invites.accept", () => ({ token: `https://osmynt.example/invite/${validShapeToken}` }), "NOT_FOUND"],
  // pagination
  ["negative audit cursor", "teams.audit", () => ({ teamId: f.teamId, cursor: -1 }), "BAD_REQUEST"],
  ["audit page too large", "teams.audit", () => ({ teamId: f.teamId, limit: 1000 }), "BAD_REQUEST"],
  ["invite page too large", "teams.invites.list", () => ({ teamId: f.teamId, limit: 101 }), "BAD_REQUEST"],
];

describe("bad input → a clear error and no change", () => {
  it.each(cases)("%s", async (_label, path, input, code, message) => {
    const before = await worldState();
    const error = expectError(await call(server, path, f.owner, input()), code, message);
    if (code === "BAD_REQUEST" && error.data.zodError) expect(error.message).toMatch(/^Invalid input: /);
    expect(await worldState()).toEqual(before);
  });

  it("a revoke that is refused leaves the invite usable", async () => {
    const before = await worldState();
    expectError(await call(server, "teams.invites.revoke", f.member, { teamId: f.teamId, inviteId: myInviteId }), "FORBIDDEN");
    const listed = await ok(call(server, "teams.invites.list", f.owner, { teamId: f.teamId, limit: 1 }));
    expect(listed.invites[0]).toMatchObject({ id: myInviteId, status: "active" });
    expect(await worldState()).toEqual(before);
  });

  it("a driver error never reaches the client: a malformed body gets a parse error, not SQL text", async () => {
    const response = await fetch(`${server.trpcUrl}/teams.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${f.owner.accessToken}` },
      body: '{"name":',
    });
    const body = await response.text();
    expect(response.status).toBe(400);
    expect(body).not.toMatch(/select|insert|postgres|pglite/i);
  });
});
