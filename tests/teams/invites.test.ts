import { createHash } from "node:crypto";
import { schema } from "@osmynt/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, ok, teamEventRows, teamFixture, teamState } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const signUpMany = (n: number) => Promise.all(Array.from({ length: n }, () => signUp(server)));

async function everythingStored() {
  const db = server.deps.db;
  const dump = await Promise.all([
    db.select().from(schema.teamInvites),
    db.select().from(schema.auditLog),
    db.select().from(schema.events),
  ]);
  return JSON.stringify(dump);
}

describe("create and accept", () => {
  it("shows the token once, stores only its hash, and never logs or records it", async () => {
    const f = await teamFixture(server);
    const before = Date.now();
    const invite = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId }));
    expect(invite).toMatchObject({ role: "member", maxUses: 1, token: expect.stringMatching(/^osi_[\w-]{43}$/) });
    expect(invite.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/invite/${invite.token}$`));
    const hours = (Date.parse(invite.expiresAt) - before) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThan(24.1);
    const [row] = await server.deps.db.select().from(schema.teamInvites).where(eq(schema.teamInvites.id, invite.inviteId));
    expect(row?.tokenHash).toBe(createHash("sha256").update(invite.token).digest("hex"));
    await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.token }));
    const secret = invite.token.slice(4);
    expect(await everythingStored()).not.toContain(secret);
    expect(server.logs.join("\n")).not.toContain(secret);
    const listed = await ok(call(server, "teams.invites.list", f.owner, { teamId: f.teamId }));
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it("accepts the raw token or the URL; accepting again as a member is idempotent", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, role: "admin", maxUses: 2 }));
    const joined = await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.url }));
    expect(joined).toMatchObject({ id: f.teamId, myRole: "admin", joined: true });
    const again = await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.token }));
    expect(again).toMatchObject({ id: f.teamId, myRole: "admin", joined: false });
    const [listed] = (await ok(call(server, "teams.invites.list", f.owner, { teamId: f.teamId, limit: 1 }))).invites;
    expect(listed).toMatchObject({ id: invite.inviteId, uses: 1, maxUses: 2, status: "active" });
    const events = (await teamEventRows(server, f.teamId)).slice(-2);
    expect(events.map((e) => [e.type, e.teamId, e.userId])).toEqual([
      ["team.memberJoined", f.teamId, null],
      ["invite.accepted", f.teamId, null],
    ]);
    expect(events[0]?.payload).toEqual({ teamId: f.teamId, userId: f.outsider.user.id, role: "admin", via: "invite" });
    expect(events[1]?.payload).toEqual({ teamId: f.teamId, inviteId: invite.inviteId, userId: f.outsider.user.id });
  });

  it("honours maxUses and a per-invite expiry, then says clearly why it refuses", async () => {
    const f = await teamFixture(server);
    const before = Date.now();
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, maxUses: 2, expiresInHours: 2 }));
    expect(Math.round((Date.parse(invite.expiresAt) - before) / 60_000)).toBe(120);
    const [a, b, c] = (await signUpMany(3)) as [TestSession, TestSession, TestSession];
    await ok(call(server, "teams.invites.accept", a, { token: invite.token }));
    await ok(call(server, "teams.invites.accept", b, { token: invite.token }));
    const refused = expectError(
      await call(server, "teams.invites.accept", c, { token: invite.token }),
      "PRECONDITION_FAILED",
      /already been used/,
    );
    expect(refused.data.details).toEqual({ reason: "usedUp" });
    const [listed] = (await ok(call(server, "teams.invites.list", f.owner, { teamId: f.teamId, limit: 1 }))).invites;
    expect(listed).toMatchObject({ uses: 2, status: "usedUp" });
  });

  it("refuses expired and revoked invites; revoking twice is harmless", async () => {
    const f = await teamFixture(server);
    const expired = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId }));
    await server.deps.db
      .update(schema.teamInvites)
      .set({ expiresAt: sql`now() - interval '1 minute'` })
      .where(eq(schema.teamInvites.id, expired.inviteId));
    expectError(await call(server, "teams.invites.accept", f.outsider, { token: expired.token }), "PRECONDITION_FAILED", /expired/);

    const revoked = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId }));
    expect(await ok(call(server, "teams.invites.revoke", f.admin, { teamId: f.teamId, inviteId: revoked.inviteId }))).toEqual({
      inviteId: revoked.inviteId,
      changed: true,
    });
    expect((await ok(call(server, "teams.invites.revoke", f.owner, { teamId: f.teamId, inviteId: revoked.inviteId }))).changed).toBe(false);
    const before = await teamState(server, f.teamId);
    expectError(await call(server, "teams.invites.accept", f.outsider, { token: revoked.token }), "PRECONDITION_FAILED", /revoked/);
    expect(await teamState(server, f.teamId)).toEqual(before);
    const statuses = (await ok(call(server, "teams.invites.list", f.owner, { teamId: f.teamId, limit: 2 }))).invites.map(
      (i: { status: string }) => i.status,
    );
    expect(statuses).toEqual(["revoked", "expired"]);
  });

  it("pages through the invite list newest first without repeats", async () => {
    const f = await teamFixture(server);
    for (let i = 0; i < 5; i++) await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ok(call(server, "teams.invites.list", f.admin, { teamId: f.teamId, limit: 2, ...(cursor ? { cursor } : {}) }));
      expect(page.invites.length).toBeLessThanOrEqual(2);
      seen.push(...page.invites.map((i: { id: string }) => i.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const all = (await teamState(server, f.teamId)).invites.map((i) => i.id);
    expect([...seen].sort()).toEqual([...all].sort());
    expect(new Set(seen).size).toBe(8);
  });
});

describe("concurrency", () => {
  it("a one-use invite accepted by 20 users at once lets exactly one in", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId }));
    const users = await signUpMany(20);
    const membersBefore = (await teamState(server, f.teamId)).members.length;
    const answers = await Promise.all(users.map((u) => call(server, "teams.invites.accept", u, { token: invite.token })));
    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((a) => a.status !== 200)) expectError(loser, "PRECONDITION_FAILED", /already been used/);
    const state = await teamState(server, f.teamId);
    expect(state.members.length).toBe(membersBefore + 1);
    expect(state.invites.find((i) => i.id === invite.inviteId)?.uses).toBe(1);
    const joins = (await teamEventRows(server, f.teamId)).filter((e) => e.type === "team.memberJoined" && e.payload.via === "invite");
    expect(joins).toHaveLength(4); // admin, member and target of the fixture, and the one winner
  });

  it("the same user accepting twice at once joins once and spends one use", async () => {
    const f = await teamFixture(server);
    const invite = await ok(call(server, "teams.invites.create", f.owner, { teamId: f.teamId, maxUses: 5 }));
    const user: TestSession = await signUp(server);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => ok(call(server, "teams.invites.accept", user, { token: invite.token }))),
    );
    expect(answers.filter((a) => a.joined)).toHaveLength(1);
    expect((await teamState(server, f.teamId)).invites.find((i) => i.id === invite.inviteId)?.uses).toBe(1);
  });
});
