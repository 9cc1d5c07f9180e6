import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, type ErrorCode, expectError, ok, type TeamFixture, teamFixture, teamState } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

type Caller = "anonymous" | "outsider" | "member" | "admin" | "owner";
type Outcome = "ok" | ErrorCode;

interface Case {
  path: string;
  input: (f: TeamFixture & { inviteId: string; token: string }) => unknown;
  expect: Record<Caller, Outcome>;
  /** Checks that an allowed call did what it says (the caller's session is given). */
  after?: (f: TeamFixture, state: Awaited<ReturnType<typeof teamState>>, caller: Caller) => void;
}

const roleOf = (state: Awaited<ReturnType<typeof teamState>>, userId: string) => state.members.find((m) => m.userId === userId)?.role;

// Every teams.* procedure × every kind of caller. NOT_FOUND for outsiders: a team you are not in
// is a team that does not exist, as far as you can tell.
const matrix: Case[] = [
  {
    path: "teams.mine",
    input: () => undefined,
    expect: { anonymous: "UNAUTHORIZED", outsider: "ok", member: "ok", admin: "ok", owner: "ok" },
  },
  {
    path: "teams.create",
    input: () => ({ name: "another team" }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "ok", member: "ok", admin: "ok", owner: "ok" },
  },
  {
    path: "teams.rename",
    input: (f) => ({ teamId: f.teamId, name: "renamed" }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "ok", owner: "ok" },
    after: (_f, s) => expect(s.team?.name).toBe("renamed"),
  },
  {
    path: "teams.delete",
    input: (f) => ({ teamId: f.teamId }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "FORBIDDEN", owner: "ok" },
    after: (_f, s) => expect(s.team?.deletedAt).toBeInstanceOf(Date),
  },
  {
    path: "teams.leave",
    input: (f) => ({ teamId: f.teamId }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "ok", admin: "ok", owner: "PRECONDITION_FAILED" },
    after: (_f, s) => expect(s.members).toHaveLength(3),
  },
  {
    path: "teams.transferOwnership",
    input: (f) => ({ teamId: f.teamId, userId: f.target.user.id }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "FORBIDDEN", owner: "ok" },
    after: (f, s) => {
      expect(roleOf(s, f.target.user.id)).toBe("owner");
      expect(roleOf(s, f.owner.user.id)).toBe("admin");
    },
  },
  {
    path: "teams.members.remove",
    input: (f) => ({ teamId: f.teamId, userId: f.target.user.id }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "ok", owner: "ok" },
    after: (f, s) => expect(roleOf(s, f.target.user.id)).toBeUndefined(),
  },
  {
    path: "teams.members.setRole",
    input: (f) => ({ teamId: f.teamId, userId: f.target.user.id, role: "admin" }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "ok", owner: "ok" },
    after: (f, s) => expect(roleOf(s, f.target.user.id)).toBe("admin"),
  },
  {
    path: "teams.audit",
    input: (f) => ({ teamId: f.teamId }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "ok", owner: "ok" },
  },
  {
    path: "teams.invites.create",
    input: (f) => ({ teamId: f.teamId }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "ok", owner: "ok" },
    after: (_f, s) => expect(s.invites).toHaveLength(5),
  },
  {
    path: "teams.invites.list",
    input: (f) => ({ teamId: f.teamId }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "ok", owner: "ok" },
  },
  {
    path: "teams.invites.revoke",
    input: (f) => ({ teamId: f.teamId, inviteId: f.inviteId }),
    expect: { anonymous: "UNAUTHORIZED", outsider: "NOT_FOUND", member: "FORBIDDEN", admin: "ok", owner: "ok" },
    after: (f, s) =>
      expect(s.invites.find((i) => i.id === (f as TeamFixture & { inviteId: string }).inviteId)?.revokedAt).toBeInstanceOf(Date),
  },
  {
    path: "teams.invites.accept",
    input: (f) => ({ token: f.token }),
    // anyone holding the token may join; a member accepting again changes nothing
    expect: { anonymous: "UNAUTHORIZED", outsider: "ok", member: "ok", admin: "ok", owner: "ok" },
    after: (f, s, caller) => {
      expect(s.members).toHaveLength(caller === "outsider" ? 5 : 4);
      if (caller !== "outsider") expect(roleOf(s, f[caller as "member"].user.id)).toBe(caller);
    },
  },
];

const callers: Caller[] = ["anonymous", "outsider", "member", "admin", "owner"];

describe.each(matrix)("$path", (c) => {
  it.each(callers)("as %s", async (caller) => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, maxUses: 10 }));
    const fixture = { ...f, inviteId: invite.inviteId, token: invite.token };
    const before = await teamState(server, f.teamId);
    const who = caller === "anonymous" ? null : f[caller];
    const response = await call(server, c.path, who, c.input(fixture));
    const outcome = c.expect[caller];
    const after = await teamState(server, f.teamId);
    if (outcome === "ok") {
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      c.after?.(fixture, after, caller);
    } else {
      expectError(response, outcome);
      expect(after, "a refused call changes nothing").toEqual(before);
    }
  });
});
