import { schema } from "@osmynt/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, ok, teamFixture } from "./helpers.js";

// Review findings 1 and 2 of issue 9: an invite carries no more authority than its creator has
// now, and a removal is not undone by an invite that existed before it.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

async function statusOf(teamId: string, inviteId: string, viewer: Parameters<typeof call>[2]) {
  const { invites } = await ok(call(server, "teams.invites.list", viewer, { teamId, limit: 100 }));
  return invites.find((i: { id: string }) => i.id === inviteId)?.status;
}

describe("invites lose their creator's lost authority", () => {
  it("a removed admin cannot rejoin, nor bring a second account in, through their own invite", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId, role: "admin", maxUses: 1000 }));
    await ok(call(server, "teams.members.remove", f.owner, { teamId: f.teamId, userId: f.admin.user.id }));
    expect(await statusOf(f.teamId, invite.inviteId, f.owner)).toBe("revoked");
    expectError(await call(server, "teams.invites.accept", f.admin, { token: invite.token }), "PRECONDITION_FAILED", /revoked/);
    const secondAccount = await signUp(server);
    expectError(await call(server, "teams.invites.accept", secondAccount, { token: invite.token }), "PRECONDITION_FAILED", /revoked/);
    const { members } = (await ok(call(server, "teams.mine", f.owner))).find((t: { id: string }) => t.id === f.teamId);
    expect(members.map((m: { id: string }) => m.id)).not.toContain(secondAccount.user.id);
    const trail = await ok(call(server, "teams.audit", f.owner, { teamId: f.teamId, limit: 3 }));
    expect(trail.entries[0]).toMatchObject({
      action: "team.inviteRevoked",
      targetId: invite.inviteId,
      metadata: { reason: "creatorRemoved" },
    });
  });

  it("an admin demoted to member: their invites are revoked, other admins' invites stay", async () => {
    const f = await teamFixture(server);
    const theirs = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId, role: "admin", maxUses: 10 }));
    const owners = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, role: "admin", maxUses: 10 }));
    await ok(call(server, "teams.members.setRole", f.owner, { teamId: f.teamId, userId: f.admin.user.id, role: "member" }));
    expect(await statusOf(f.teamId, theirs.inviteId, f.owner)).toBe("revoked");
    expect(await statusOf(f.teamId, owners.inviteId, f.owner)).toBe("active");
    expectError(await call(server, "teams.invites.accept", f.outsider, { token: theirs.token }), "PRECONDITION_FAILED", /revoked/);
    const joined = await ok(call(server, "teams.invites.accept", f.outsider, { token: owners.token }));
    expect(joined.myRole).toBe("admin");
  });

  it("an admin who leaves takes their invites with them", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId, maxUses: 5 }));
    await ok(call(server, "teams.leave", f.admin, { teamId: f.teamId }));
    expect(await statusOf(f.teamId, invite.inviteId, f.owner)).toBe("revoked");
    expectError(await call(server, "teams.invites.accept", f.outsider, { token: invite.token }), "PRECONDITION_FAILED", /revoked/);
  });

  it("an owner who hands over ownership keeps their invites: an admin may still invite", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, role: "admin", maxUses: 5 }));
    await ok(call(server, "teams.transferOwnership", f.owner, { teamId: f.teamId, userId: f.admin.user.id }));
    expect(await statusOf(f.teamId, invite.inviteId, f.admin)).toBe("active");
    expect((await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.token }))).myRole).toBe("admin");
  });

  it("acceptance re-checks the creator's current role even when the invite was never revoked", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId, role: "admin", maxUses: 5 }));
    // a demotion that bypassed the procedures (an operator's SQL, a future code path)
    await server.deps.db.update(schema.teamMembers).set({ role: "member" }).where(eq(schema.teamMembers.userId, f.admin.user.id));
    const refused = expectError(
      await call(server, "teams.invites.accept", f.outsider, { token: invite.token }),
      "PRECONDITION_FAILED",
      /no longer allowed to invite/,
    );
    expect(refused.data.details).toEqual({ reason: "creatorLostAccess" });
    const { uses } = (await server.deps.db.select().from(schema.teamInvites).where(eq(schema.teamInvites.id, invite.inviteId)))[0] ?? {};
    expect(uses).toBe(0);
  });
});

describe("a removal sticks", () => {
  it("a removed member cannot come back through an invite from before the removal, and is told why", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, maxUses: 10 }));
    await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.token }));
    await ok(call(server, "teams.members.remove", f.owner, { teamId: f.teamId, userId: f.outsider.user.id }));
    const refused = expectError(
      await call(server, "teams.invites.accept", f.outsider, { token: invite.token }),
      "FORBIDDEN",
      /removed from this team after this invite was created/,
    );
    expect(refused.data.details).toEqual({ reason: "removedAfterInvite" });
    // the invite itself still works for others
    const newcomer = await signUp(server);
    await ok(call(server, "teams.invites.accept", newcomer, { token: invite.token }));
    // and an invite made after the removal lets them back in
    const fresh = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId }));
    expect((await ok(call(server, "teams.invites.accept", f.outsider, { token: fresh.token }))).joined).toBe(true);
  });

  it("someone who left on their own may rejoin through the same invite", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, maxUses: 10 }));
    await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.token }));
    await ok(call(server, "teams.leave", f.outsider, { teamId: f.teamId }));
    expect((await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.token }))).joined).toBe(true);
  });
});
