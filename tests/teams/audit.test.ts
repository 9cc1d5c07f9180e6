import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, ok, teamFixture } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

interface Entry {
  id: number;
  action: string;
  actor: { id: string; login: string | null } | null;
  targetType: string | null;
  targetId: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}

async function wholeTrail(who: Parameters<typeof call>[2], teamId: string, limit = 3): Promise<Entry[]> {
  const entries: Entry[] = [];
  let cursor: number | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await ok(call(server, "teams.audit", who, { teamId, limit, ...(cursor ? { cursor } : {}) }));
    expect(page.entries.length).toBeLessThanOrEqual(limit);
    entries.push(...page.entries);
    if (page.nextCursor === null) return entries;
    cursor = page.nextCursor;
  }
  throw new Error("audit pagination did not end");
}

describe("teams.audit", () => {
  it("records every change of the team, pages newest first without gaps or repeats, and holds no secret", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId, maxUses: 3 }));
    await ok(call(server, "teams.invites.revoke", f.admin, { teamId: f.teamId, inviteId: invite.inviteId }));
    await ok(call(server, "teams.rename", f.owner, { teamId: f.teamId, name: "Audited" }));
    await ok(call(server, "teams.members.setRole", f.admin, { teamId: f.teamId, userId: f.member.user.id, role: "admin" }));
    await ok(call(server, "teams.members.remove", f.admin, { teamId: f.teamId, userId: f.target.user.id }));
    await ok(call(server, "teams.leave", f.member, { teamId: f.teamId }));
    await ok(call(server, "teams.transferOwnership", f.owner, { teamId: f.teamId, userId: f.admin.user.id }));

    const trail = await wholeTrail(f.admin, f.teamId);
    const ids = trail.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect(trail.map((e) => e.action).reverse()).toEqual([
      "team.created",
      "team.inviteCreated",
      "team.inviteAccepted",
      "team.inviteCreated",
      "team.inviteAccepted",
      "team.inviteCreated",
      "team.inviteAccepted",
      "team.inviteCreated",
      "team.inviteRevoked",
      "team.renamed",
      "team.memberRoleChanged",
      "team.memberRemoved",
      "team.memberLeft",
      "team.ownershipTransferred",
    ]);
    expect(trail[0]).toMatchObject({
      actor: { id: f.owner.user.id, login: f.owner.user.login },
      targetType: "user",
      targetId: f.admin.user.id,
      metadata: { from: f.owner.user.id, to: f.admin.user.id },
    });
    const shown = JSON.stringify(trail);
    for (const secret of [invite.token, invite.token.slice(4), f.owner.accessToken, f.owner.refreshToken])
      expect(shown).not.toContain(secret);
  });

  it("holds team actions only: members' sign-ins and sessions stay in their own session list", async () => {
    const f = await teamFixture(server);
    const second = await signUp(server, f.member.user.login);
    await ok(rawCall(server, "auth.logout", { token: second.accessToken }));
    const trail = await wholeTrail(f.owner, f.teamId, 100);
    expect(trail.filter((e) => !e.action.startsWith("team."))).toEqual([]);
    const shown = JSON.stringify(trail);
    expect(shown).not.toContain('"auth.');
    expect(shown).not.toMatch(/ses_/);
    // the member still sees their own sessions
    const sessions = await ok(rawCall(server, "auth.sessions.list", { kind: "query", token: f.member.accessToken }));
    expect(JSON.stringify(sessions)).toContain("ses_");
  });

  it("is for owners and admins only, and an admin demoted loses it at once", async () => {
    const f = await teamFixture(server);
    expectError(
      await call(server, "teams.audit", f.member, { teamId: f.teamId }),
      "FORBIDDEN",
      /only owner or admin may read the audit trail/,
    );
    await ok(call(server, "teams.audit", f.admin, { teamId: f.teamId }));
    await ok(call(server, "teams.members.setRole", f.owner, { teamId: f.teamId, userId: f.admin.user.id, role: "member" }));
    expectError(await call(server, "teams.audit", f.admin, { teamId: f.teamId }), "FORBIDDEN");
    expectError(await call(server, "teams.audit", f.outsider, { teamId: f.teamId }), "NOT_FOUND");
  });
});
