import { schema } from "@osmynt/db";
import { asc, eq, inArray, or, sql } from "drizzle-orm";
import { expect } from "vitest";
import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import type { TestServer } from "../helpers/server.js";

export type Kind = "query" | "mutation";

const queries = new Set(["teams.mine", "teams.audit", "teams.invites.list"]);

/** One teams.* call over HTTP as `who` (or anonymously). */
export function call(server: TestServer, path: string, who: TestSession | null, input?: unknown) {
  return rawCall(server, path, { kind: queries.has(path) ? "query" : "mutation", input, ...(who ? { token: who.accessToken } : {}) });
}

/** The `data` of a successful call; fails the test with the whole answer otherwise. */
export async function ok<T = any>(promise: Promise<{ status: number; body: any }>): Promise<T> {
  const response = await promise;
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.result.data as T;
}

/** Asserts a clear tRPC error: status, code, a message saying what is wrong, no stack. */
export { type ExpectedCode as ErrorCode, expectTrpcError as expectError } from "../helpers/trpc-errors.js";

export interface TeamFixture {
  teamId: string;
  owner: TestSession;
  admin: TestSession;
  member: TestSession;
  /** A second plain member, the target of actions on members. */
  target: TestSession;
  outsider: TestSession;
}

/** Invites `who` into the team as `role` through the real invite flow. */
export async function join(
  server: TestServer,
  teamId: string,
  inviter: TestSession,
  who: TestSession,
  role: "admin" | "member" = "member",
) {
  const invite = await ok(call(server, "teams.invites.create", inviter, { teamId, role }));
  await ok(call(server, "teams.invites.accept", who, { token: invite.token }));
}

/** A fresh team with one user in each role, plus an outsider: new users every time. */
export async function teamFixture(server: TestServer): Promise<TeamFixture> {
  const [owner, admin, member, target, outsider] = (await Promise.all(
    ["own", "adm", "mem", "tgt", "out"].map((p) => signUp(server, randomLogin(p))),
  )) as [TestSession, TestSession, TestSession, TestSession, TestSession];
  const team = await ok(call(server, "teams.create", owner, { name: `team ${randomLogin("t")}` }));
  await join(server, team.id, owner, admin, "admin");
  await join(server, team.id, owner, member);
  await join(server, team.id, owner, target);
  return { teamId: team.id, owner, admin, member, target, outsider };
}

const db = (server: TestServer) => server.deps.db;

/** Everything stored about one team, to prove that a refused call changed nothing. */
export async function teamState(server: TestServer, teamId: string) {
  const [team] = await db(server)
    .select({ name: schema.teams.name, deletedAt: schema.teams.deletedAt })
    .from(schema.teams)
    .where(eq(schema.teams.id, teamId));
  const members = await db(server)
    .select({ userId: schema.teamMembers.userId, role: schema.teamMembers.role })
    .from(schema.teamMembers)
    .where(eq(schema.teamMembers.teamId, teamId))
    .orderBy(asc(schema.teamMembers.userId));
  const invites = await db(server)
    .select({ id: schema.teamInvites.id, uses: schema.teamInvites.uses, revokedAt: schema.teamInvites.revokedAt })
    .from(schema.teamInvites)
    .where(eq(schema.teamInvites.teamId, teamId))
    .orderBy(asc(schema.teamInvites.id));
  const [audit] = await db(server)
    .select({ n: sql<number>`count(*)::int` })
    .from(schema.auditLog)
    .where(eq(schema.auditLog.teamId, teamId));
  return { team, members, invites, audit: audit?.n, events: (await teamEventRows(server, teamId)).length };
}

/**
 * Everything stored that touches these teams or users: a refused call must leave all of it alone.
 * Scoped rather than global because on the services backend other test files share the database.
 */
export async function scopedState(server: TestServer, scope: { teamIds: string[]; userIds: string[] }) {
  const { teamIds, userIds } = scope;
  const t = schema.teams;
  const m = schema.teamMembers;
  const i = schema.teamInvites;
  const e = schema.events;
  const a = schema.auditLog;
  return {
    teams: await db(server)
      .select({ id: t.id, name: t.name, deletedAt: t.deletedAt })
      .from(t)
      .where(or(inArray(t.id, teamIds), inArray(t.createdBy, userIds)))
      .orderBy(asc(t.id)),
    members: await db(server)
      .select({ teamId: m.teamId, userId: m.userId, role: m.role })
      .from(m)
      .where(or(inArray(m.teamId, teamIds), inArray(m.userId, userIds)))
      .orderBy(asc(m.teamId), asc(m.userId)),
    invites: await db(server)
      .select({ id: i.id, uses: i.uses, revokedAt: i.revokedAt })
      .from(i)
      .where(or(inArray(i.teamId, teamIds), inArray(i.createdBy, userIds)))
      .orderBy(asc(i.id)),
    events: await db(server)
      .select({ id: e.id })
      .from(e)
      .where(or(inArray(e.teamId, teamIds), inArray(e.userId, userIds), inArray(sql`${e.payload}->>'teamId'`, teamIds)))
      .orderBy(asc(e.id)),
    audit: await db(server)
      .select({ id: a.id })
      .from(a)
      .where(or(inArray(a.teamId, teamIds), inArray(a.actorId, userIds)))
      .orderBy(asc(a.id)),
  };
}

/** Event rows that concern a team: addressed to it, or personal copies about it. */
export async function teamEventRows(server: TestServer, teamId: string) {
  return db(server)
    .select({
      id: schema.events.id,
      type: schema.events.type,
      teamId: schema.events.teamId,
      userId: schema.events.userId,
      payload: schema.events.payload,
    })
    .from(schema.events)
    .where(sql`${schema.events.teamId} = ${teamId} or ${schema.events.payload}->>'teamId' = ${teamId}`)
    .orderBy(asc(schema.events.id));
}
