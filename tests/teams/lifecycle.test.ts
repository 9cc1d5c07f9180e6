import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, ok, teamEventRows, teamFixture, teamState } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe("personal team", () => {
  it("exists from the first sign-in, once, and cannot be deleted, left, given away or joined", async () => {
    const login = randomLogin("solo");
    const first = await signUp(server, login);
    const again = await signUp(server, login);
    const mine = await ok(call(server, "teams.mine", again));
    expect(mine).toHaveLength(1);
    const [team] = mine;
    expect(team).toMatchObject({ personal: true, myRole: "owner", name: `${login} (personal)` });
    expect(team.members).toEqual([{ id: first.user.id, login, name: login, avatarUrl: null, role: "owner", joinedAt: expect.any(String) }]);
    expectError(await call(server, "teams.delete", first, { teamId: team.id }), "PRECONDITION_FAILED", /personal team cannot be deleted/);
    expectError(await call(server, "teams.leave", first, { teamId: team.id }), "PRECONDITION_FAILED", /personal team/);
    const friend = await signUp(server);
    expectError(
      await call(server, "teams.invites.create", first, { teamId: team.id }),
      "PRECONDITION_FAILED",
      /personal team takes no members/,
    );
    expectError(
      await call(server, "teams.transferOwnership", first, { teamId: team.id, userId: friend.user.id }),
      "PRECONDITION_FAILED",
      /personal team cannot change owner/,
    );
    const audit = await ok(call(server, "teams.audit", first, { teamId: team.id }));
    expect(audit.entries.map((e: { action: string }) => e.action)).toContain("team.created");
  });
});

describe("create, rename, mine", () => {
  it("creates a team owned by its creator, lists it with members and my role, renames it", async () => {
    const f = await teamFixture(server);
    const mine = await ok(call(server, "teams.mine", f.member));
    const team = mine.find((t: { id: string }) => t.id === f.teamId);
    expect(team.myRole).toBe("member");
    expect(team.members.map((m: { id: string; role: string }) => [m.id, m.role])).toEqual([
      [f.owner.user.id, "owner"],
      [f.admin.user.id, "admin"],
      [f.member.user.id, "member"],
      [f.target.user.id, "member"],
    ]);
    expect(Object.keys(team.members[0]).sort()).toEqual(["avatarUrl", "id", "joinedAt", "login", "name", "role"]);
    const renamed = await ok(call(server, "teams.rename", f.admin, { teamId: f.teamId, name: "  Platform  " }));
    expect(renamed).toEqual({
      id: f.teamId,
      name: "Platform",
      personal: false,
      createdAt: team.createdAt,
      myRole: "admin",
      memberCount: team.members.length,
    });
    const events = await teamEventRows(server, f.teamId);
    expect(events.at(-1)).toMatchObject({ type: "team.renamed", teamId: f.teamId, userId: null, payload: { teamId: f.teamId } });
    const audit = await ok(call(server, "teams.audit", f.owner, { teamId: f.teamId, limit: 1 }));
    expect(audit.entries[0]).toMatchObject({ action: "team.renamed", actor: { id: f.admin.user.id }, metadata: { name: "Platform" } });
    expect((await ok(call(server, "teams.mine", f.outsider))).map((t: { id: string }) => t.id)).not.toContain(f.teamId);
  });
});

describe("leave, remove, set role, transfer", () => {
  it("a member leaves: the team is gone from their list and they hear it personally", async () => {
    const f = await teamFixture(server);
    await ok(call(server, "teams.leave", f.member, { teamId: f.teamId }));
    expect((await ok(call(server, "teams.mine", f.member))).map((t: { id: string }) => t.id)).not.toContain(f.teamId);
    const left = (await teamEventRows(server, f.teamId)).filter((e) => e.type === "team.memberLeft");
    expect(left).toEqual([
      expect.objectContaining({ teamId: f.teamId, userId: null, payload: { teamId: f.teamId, userId: f.member.user.id, reason: "left" } }),
      expect.objectContaining({
        teamId: null,
        userId: f.member.user.id,
        payload: { teamId: f.teamId, userId: f.member.user.id, reason: "left" },
      }),
    ]);
    expectError(await call(server, "teams.leave", f.member, { teamId: f.teamId }), "NOT_FOUND");
  });

  it("an admin removes a member, who at once can no longer see anything of the team", async () => {
    const f = await teamFixture(server);
    await ok(call(server, "teams.members.setRole", f.owner, { teamId: f.teamId, userId: f.target.user.id, role: "admin" }));
    await ok(call(server, "teams.members.remove", f.admin, { teamId: f.teamId, userId: f.target.user.id }));
    expect((await ok(call(server, "teams.mine", f.target))).map((t: { id: string }) => t.id)).not.toContain(f.teamId);
    expectError(await call(server, "teams.audit", f.target, { teamId: f.teamId }), "NOT_FOUND");
    expectError(await call(server, "teams.invites.list", f.target, { teamId: f.teamId }), "NOT_FOUND");
    expectError(await call(server, "teams.leave", f.target, { teamId: f.teamId }), "NOT_FOUND");
    const personal = (await teamEventRows(server, f.teamId)).filter((e) => e.userId === f.target.user.id);
    expect(personal.map((e) => [e.type, e.payload.reason])).toEqual([["team.memberLeft", "removed"]]);
  });

  it("nobody removes the owner; removing yourself points to leave", async () => {
    const f = await teamFixture(server);
    expectError(await call(server, "teams.members.remove", f.admin, { teamId: f.teamId, userId: f.owner.user.id }), "FORBIDDEN", /owner/);
    expectError(
      await call(server, "teams.members.remove", f.admin, { teamId: f.teamId, userId: f.admin.user.id }),
      "BAD_REQUEST",
      /teams\.leave/,
    );
    expectError(await call(server, "teams.leave", f.owner, { teamId: f.teamId }), "PRECONDITION_FAILED", /transfer ownership first/);
  });

  it("sets roles; the same role again changes nothing; the owner's role only moves by transfer", async () => {
    const f = await teamFixture(server);
    const promoted = await ok(
      call(server, "teams.members.setRole", f.admin, { teamId: f.teamId, userId: f.member.user.id, role: "admin" }),
    );
    expect(promoted).toEqual({ userId: f.member.user.id, role: "admin", previousRole: "member", changed: true });
    const eventsBefore = (await teamEventRows(server, f.teamId)).length;
    const again = await ok(call(server, "teams.members.setRole", f.admin, { teamId: f.teamId, userId: f.member.user.id, role: "admin" }));
    expect(again.changed).toBe(false);
    expect((await teamEventRows(server, f.teamId)).length).toBe(eventsBefore);
    const roleEvent = (await teamEventRows(server, f.teamId)).filter((e) => e.type === "team.roleChanged");
    expect(roleEvent.map((e) => e.payload)).toEqual([
      { teamId: f.teamId, userId: f.member.user.id, role: "admin", previousRole: "member" },
    ]);
    expectError(
      await call(server, "teams.members.setRole", f.admin, { teamId: f.teamId, userId: f.owner.user.id, role: "member" }),
      "PRECONDITION_FAILED",
      /transferOwnership/,
    );
    expectError(
      await call(server, "teams.members.setRole", f.owner, { teamId: f.teamId, userId: f.member.user.id, role: "owner" }),
      "BAD_REQUEST",
    );
  });

  it("transfers ownership to a member; the old owner stays as admin and may then leave", async () => {
    const f = await teamFixture(server);
    const team = await ok(call(server, "teams.transferOwnership", f.owner, { teamId: f.teamId, userId: f.member.user.id }));
    // The answer is the team without its member list (mutation answers stay small).
    expect(team).toMatchObject({ id: f.teamId, myRole: "admin", memberCount: 4 });
    expect(team).not.toHaveProperty("members");
    const [listed] = (await ok(call(server, "teams.mine", f.owner))).filter((t: { id: string }) => t.id === f.teamId);
    const roles = Object.fromEntries(listed.members.map((m: { id: string; role: string }) => [m.id, m.role]));
    expect(roles[f.member.user.id]).toBe("owner");
    const changes = (await teamEventRows(server, f.teamId)).filter((e) => e.type === "team.roleChanged").map((e) => e.payload);
    expect(changes).toEqual([
      { teamId: f.teamId, userId: f.owner.user.id, role: "admin", previousRole: "owner" },
      { teamId: f.teamId, userId: f.member.user.id, role: "owner", previousRole: "member" },
    ]);
    expectError(await call(server, "teams.transferOwnership", f.owner, { teamId: f.teamId, userId: f.target.user.id }), "FORBIDDEN");
    expectError(
      await call(server, "teams.transferOwnership", f.member, { teamId: f.teamId, userId: f.outsider.user.id }),
      "NOT_FOUND",
      /not a member/,
    );
    expectError(
      await call(server, "teams.transferOwnership", f.member, { teamId: f.teamId, userId: f.member.user.id }),
      "BAD_REQUEST",
      /already own/,
    );
    await ok(call(server, "teams.leave", f.owner, { teamId: f.teamId }));
    expect((await teamState(server, f.teamId)).members.filter((m) => m.role === "owner")).toEqual([
      { userId: f.member.user.id, role: "owner" },
    ]);
  });
});

describe("delete", () => {
  it("hides the team from every member, tells each of them personally, and its events stop", async () => {
    const f = await teamFixture(server);
    const open = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId, maxUses: 5 }));
    await ok(call(server, "teams.delete", f.owner, { teamId: f.teamId }));
    for (const who of [f.owner, f.admin, f.member, f.target]) {
      expect((await ok(call(server, "teams.mine", who))).map((t: { id: string }) => t.id)).not.toContain(f.teamId);
    }
    const events = await teamEventRows(server, f.teamId);
    const deleted = events.filter((e) => e.type === "team.deleted");
    expect(deleted.map((e) => e.userId ?? `team:${e.teamId}`).sort()).toEqual(
      [`team:${f.teamId}`, f.owner.user.id, f.admin.user.id, f.member.user.id, f.target.user.id].sort(),
    );
    expect(events.at(-1)?.type).toBe("team.deleted");
    const state = await teamState(server, f.teamId);
    expect(state.invites.every((i) => i.revokedAt instanceof Date)).toBe(true);

    // Nothing about a deleted team works any more, and nothing new is written about it.
    expectError(await call(server, "teams.rename", f.owner, { teamId: f.teamId, name: "ghost" }), "NOT_FOUND");
    expectError(await call(server, "teams.delete", f.owner, { teamId: f.teamId }), "NOT_FOUND");
    expectError(await call(server, "teams.invites.create", f.owner, { teamId: f.teamId }), "NOT_FOUND");
    expectError(await call(server, "teams.invites.list", f.admin, { teamId: f.teamId }), "NOT_FOUND");
    expectError(await call(server, "teams.members.remove", f.owner, { teamId: f.teamId, userId: f.member.user.id }), "NOT_FOUND");
    expectError(
      await call(server, "teams.members.setRole", f.admin, { teamId: f.teamId, userId: f.member.user.id, role: "admin" }),
      "NOT_FOUND",
    );
    expectError(await call(server, "teams.leave", f.member, { teamId: f.teamId }), "NOT_FOUND");
    expectError(await call(server, "teams.audit", f.owner, { teamId: f.teamId }), "NOT_FOUND");
    const late = await signUp(server);
    expectError(await call(server, "teams.invites.accept", late, { token: open.token }), "NOT_FOUND", /no longer exists/);
    expect(await teamState(server, f.teamId)).toEqual(state);
    expect(await teamEventRows(server, f.teamId)).toEqual(events);
  });
});
