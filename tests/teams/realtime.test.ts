import { schema } from "@osmynt/db";
import { max } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, wsClient } from "../helpers/trpc.js";
import { call, ok, teamFixture } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const opened: { close(): void; unsubscribe(): void }[] = [];
afterAll(() => {
  for (const o of opened) {
    o.unsubscribe();
    o.close();
  }
});

async function subscribe(who: TestSession) {
  const c = wsClient(server, who.accessToken);
  const sub = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
  opened.push({ close: c.close, unsubscribe: sub.unsubscribe });
  // let the subscription register before anything happens
  await new Promise((r) => setTimeout(r, 300));
  // A fresh stream starts at its instance's hub position, which may trail the fixture's own
  // events (routers/events/stream.ts), and under load they may arrive after this wait: they are
  // set-up, not what these tests are about, and all of them are in the log by now.
  const [last] = await server.deps.db.select({ id: max(schema.events.id) }).from(schema.events);
  sub.ignoreThrough(last?.id ?? 0);
  return sub;
}

const of = (teamId: string) => (e: { teamId: string | null; payload: Record<string, unknown> }) =>
  e.teamId === teamId || e.payload.teamId === teamId;

describe("membership changes reach subscribers at once", () => {
  it("a removed member hears the removal, then nothing more of the team; the others go on hearing it", async () => {
    const f = await teamFixture(server);
    const removed = await subscribe(f.member);
    const stays = await subscribe(f.admin);
    await ok(call(server, "teams.members.remove", f.owner, { teamId: f.teamId, userId: f.member.user.id }));
    await removed.until(() => removed.events.some((e) => e.type === "team.memberLeft"));
    await ok(call(server, "teams.rename", f.owner, { teamId: f.teamId, name: "after the removal" }));
    await stays.until(() => stays.events.some((e) => e.type === "team.renamed"));
    await new Promise((r) => setTimeout(r, 300));
    expect(removed.events.filter(of(f.teamId)).map((e) => e.type)).toEqual(["team.memberLeft"]);
    expect(removed.events[0]).toMatchObject({ teamId: null, userId: f.member.user.id, payload: { reason: "removed" } });
    expect(stays.events.filter(of(f.teamId)).map((e) => e.type)).toEqual(["team.memberLeft", "team.renamed"]);
  });

  it("a new member starts hearing the team from their join on", async () => {
    const f = await teamFixture(server);
    const newcomer = await subscribe(f.outsider);
    const invite = await ok(call(server, "teams.invites.create", f.admin, { teamId: f.teamId }));
    await ok(call(server, "teams.invites.accept", f.outsider, { token: invite.token }));
    await ok(call(server, "teams.rename", f.owner, { teamId: f.teamId, name: "welcome" }));
    await newcomer.until(() => newcomer.events.some((e) => e.type === "team.renamed"));
    expect(newcomer.events.filter(of(f.teamId)).map((e) => e.type)).toEqual(["team.memberJoined", "invite.accepted", "team.renamed"]);
  });

  it("deleting a team tells each member once and ends their team subscription", async () => {
    const f = await teamFixture(server);
    const subs = await Promise.all([f.admin, f.member, f.target].map(subscribe));
    await ok(call(server, "teams.delete", f.owner, { teamId: f.teamId }));
    for (const sub of subs) await sub.until(() => sub.events.some((e) => e.type === "team.deleted"));
    await new Promise((r) => setTimeout(r, 300));
    for (const sub of subs) expect(sub.events.filter(of(f.teamId)).map((e) => e.type)).toEqual(["team.deleted"]);
  });
});
