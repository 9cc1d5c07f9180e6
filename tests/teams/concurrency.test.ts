import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, join, ok, teamEventRows, teamFixture, teamState } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const ROUNDS = 5;

/** A team with two admins besides the owner, and a plain member X. */
async function twoAdmins() {
  const f = await teamFixture(server);
  const second = await signUp(server);
  await join(server, f.teamId, f.owner, second, "admin");
  return { ...f, admin1: f.admin, admin2: second, x: f.member };
}

const roleIn = async (teamId: string, userId: string) => (await teamState(server, teamId)).members.find((m) => m.userId === userId)?.role;

describe("two admins changing the same member at once", () => {
  it("opposite role changes end in the role of the change that committed last", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const t = await twoAdmins();
      const [up, down] = await Promise.all([
        ok(call(server, "teams.members.setRole", t.admin1, { teamId: t.teamId, userId: t.x.user.id, role: "admin" })),
        ok(call(server, "teams.members.setRole", t.admin2, { teamId: t.teamId, userId: t.x.user.id, role: "member" })),
      ]);
      const changes = (await teamEventRows(server, t.teamId)).filter((e) => e.type === "team.roleChanged");
      // Serial orders: up then down (both change), or down (no-op) then up.
      expect(changes.length).toBe([up, down].filter((r) => r.changed).length);
      expect(up.changed).toBe(true);
      expect(await roleIn(t.teamId, t.x.user.id)).toBe(changes.at(-1)?.payload.role);
      const audit = (await ok(call(server, "teams.audit", t.owner, { teamId: t.teamId }))).entries.filter(
        (e: { action: string }) => e.action === "team.memberRoleChanged",
      );
      expect(audit).toHaveLength(changes.length);
    }
  });

  it("one sets a role while the other removes: the member is gone, and the trail matches what was answered", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const t = await twoAdmins();
      const [set, removed] = await Promise.all([
        call(server, "teams.members.setRole", t.admin1, { teamId: t.teamId, userId: t.x.user.id, role: "admin" }),
        call(server, "teams.members.remove", t.admin2, { teamId: t.teamId, userId: t.x.user.id }),
      ]);
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
      expect(await roleIn(t.teamId, t.x.user.id)).toBeUndefined();
      const events = (await teamEventRows(server, t.teamId)).filter((e) => e.payload.userId === t.x.user.id && e.teamId !== null);
      if (set.status === 200) expect(events.slice(-2).map((e) => e.type)).toEqual(["team.roleChanged", "team.memberLeft"]);
      else {
        expectError(set, "NOT_FOUND", /not a member/);
        expect(events.at(-1)?.type).toBe("team.memberLeft");
        expect(events.filter((e) => e.type === "team.roleChanged")).toHaveLength(0);
      }
    }
  });

  it("two removals of the same member: one succeeds, the other is told the member is gone", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const t = await twoAdmins();
      const answers = await Promise.all([
        call(server, "teams.members.remove", t.admin1, { teamId: t.teamId, userId: t.x.user.id }),
        call(server, "teams.members.remove", t.admin2, { teamId: t.teamId, userId: t.x.user.id }),
      ]);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      expectError(answers.find((a) => a.status !== 200) ?? { status: 0, body: {} }, "NOT_FOUND", /not a member/);
      const left = (await teamEventRows(server, t.teamId)).filter((e) => e.type === "team.memberLeft");
      expect(left).toHaveLength(2); // the team's row and the removed member's own copy
    }
  });

  it("two admins demoting each other: exactly one wins, never both (no write skew)", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const t = await twoAdmins();
      const answers = await Promise.all([
        call(server, "teams.members.setRole", t.admin1, { teamId: t.teamId, userId: t.admin2.user.id, role: "member" }),
        call(server, "teams.members.setRole", t.admin2, { teamId: t.teamId, userId: t.admin1.user.id, role: "member" }),
      ]);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      expectError(answers.find((a) => a.status !== 200) ?? { status: 0, body: {} }, "FORBIDDEN", /your role in this team is member/i);
      const roles = [await roleIn(t.teamId, t.admin1.user.id), await roleIn(t.teamId, t.admin2.user.id)].sort();
      expect(roles).toEqual(["admin", "member"]);
    }
  });

  it("a transfer racing a removal of its target: either the target owns the team or is gone, never both", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const t = await twoAdmins();
      const [transfer, removal] = await Promise.all([
        call(server, "teams.transferOwnership", t.owner, { teamId: t.teamId, userId: t.x.user.id }),
        call(server, "teams.members.remove", t.admin2, { teamId: t.teamId, userId: t.x.user.id }),
      ]);
      const state = await teamState(server, t.teamId);
      expect(state.members.filter((m) => m.role === "owner")).toHaveLength(1);
      if (transfer.status === 200) {
        expectError(removal, "FORBIDDEN", /owner/);
        expect(await roleIn(t.teamId, t.x.user.id)).toBe("owner");
      } else {
        expect(removal.status).toBe(200);
        expectError(transfer, "NOT_FOUND", /not a member/);
        expect(await roleIn(t.teamId, t.owner.user.id)).toBe("owner");
      }
    }
  });
});
