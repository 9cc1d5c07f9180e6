import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp, type TestSession } from "../helpers/factories.js";
import { emitUserEvents } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, type Received, wsClient } from "../helpers/trpc.js";
import { call, join, ok } from "../teams/helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { SUBSCRIPTION_BUFFER_EVENTS: "10" } });
});
afterAll(async () => {
  await server?.close();
});

const opened: (() => void)[] = [];
afterAll(() => {
  for (const close of opened) close();
});

function subscribe(who: TestSession, lastEventId?: string) {
  const closes: (number | undefined)[] = [];
  const c = wsClient(server, who.accessToken, { onClose: (code) => closes.push(code) });
  const sub = collect((h) => c.client.events.subscribe.subscribe(lastEventId === undefined ? undefined : { lastEventId }, h));
  opened.push(() => {
    sub.unsubscribe();
    c.close();
  });
  return Object.assign(sub, { closes });
}

const settle = () => new Promise((r) => setTimeout(r, 400));
const ofTeam = (teamId: string) => (e: Received) => e.teamId === teamId || e.payload.teamId === teamId;

/** Everything the user's stream replays from the start of the log, up to an event of their own marking the end. */
async function replayFromStart(who: TestSession): Promise<Received[]> {
  await emitUserEvents(server, who.user.id, 1, 1, "end-of-replay");
  const sub = subscribe(who, "0");
  await sub.until(() => sub.events.some((e) => e.payload.tag === "end-of-replay"));
  expect(sub.errors).toEqual([]);
  return sub.events;
}

describe("a team's events reach a user only while they are a member", () => {
  it("a newcomer replaying from cursor 0 sees nothing of the team from before their join", async () => {
    const [owner, early, promoted, removed, newcomer] = await Promise.all(
      ["own", "early", "prom", "rem", "new"].map((p) =>
        signUp(server, `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`),
      ),
    );
    const team = await ok(call(server, "teams.create", owner as TestSession, { name: "history" }));
    const o = owner as TestSession;
    await join(server, team.id, o, early as TestSession);
    await join(server, team.id, o, promoted as TestSession);
    await ok(call(server, "teams.members.setRole", o, { teamId: team.id, userId: (promoted as TestSession).user.id, role: "admin" }));
    await join(server, team.id, o, removed as TestSession);
    await ok(call(server, "teams.members.remove", o, { teamId: team.id, userId: (removed as TestSession).user.id }));
    await ok(call(server, "teams.rename", o, { teamId: team.id, name: "before the newcomer" }));
    await join(server, team.id, o, newcomer as TestSession);
    await ok(call(server, "teams.rename", o, { teamId: team.id, name: "after the newcomer" }));

    const seen = (await replayFromStart(newcomer as TestSession)).filter(ofTeam(team.id));
    const types = seen.map((e) => e.type);
    // Their own join first (and what came with it), then only what followed.
    expect(seen[0]).toMatchObject({ type: "team.memberJoined", payload: { userId: (newcomer as TestSession).user.id } });
    expect(types).toContain("team.renamed");
    expect(seen.filter((e) => e.type === "team.renamed")).toHaveLength(1);
    expect(seen.some((e) => e.type === "team.roleChanged" || e.type === "team.memberLeft")).toBe(false);
    expect(seen.filter((e) => e.type === "team.memberJoined").map((e) => e.payload.userId)).toEqual([(newcomer as TestSession).user.id]);

    // The early member, replaying the same log, sees all of it from their own join.
    const earlySeen = (await replayFromStart(early as TestSession)).filter(ofTeam(team.id)).map((e) => e.type);
    expect(earlySeen.filter((t) => t === "team.renamed")).toHaveLength(2);
    expect(earlySeen).toContain("team.roleChanged");
  });

  it("someone who left still gets, on resuming from an older cursor, what happened while they were a member", async () => {
    const owner = await signUp(server);
    const leaver = await signUp(server);
    const team = await ok(call(server, "teams.create", owner, { name: "leaving" }));
    await join(server, team.id, owner, leaver);

    const first = subscribe(leaver);
    await settle();
    await emitUserEvents(server, leaver.user.id, 1, 1, "cursor");
    await first.until(() => first.events.some((e) => e.payload.tag === "cursor"));
    const cursor = first.events.find((e) => e.payload.tag === "cursor")?.id as string;
    opened.pop()?.();

    // While away: a rename while still a member, the removal, then a rename after it.
    await ok(call(server, "teams.rename", owner, { teamId: team.id, name: "while a member" }));
    await ok(call(server, "teams.members.remove", owner, { teamId: team.id, userId: leaver.user.id }));
    await ok(call(server, "teams.rename", owner, { teamId: team.id, name: "after leaving" }));
    await emitUserEvents(server, leaver.user.id, 1, 1, "end");

    const resumed = subscribe(leaver, cursor);
    await resumed.until(() => resumed.events.some((e) => e.payload.tag === "end"));
    expect(resumed.errors).toEqual([]);
    const seen = resumed.events.filter(ofTeam(team.id));
    expect(seen.map((e) => e.type)).toEqual(["team.renamed", "team.memberLeft"]);
    // The removal reaches them as their own copy; the team's copy and later team events do not.
    expect(seen[1]).toMatchObject({ teamId: null, userId: leaver.user.id });
  });

  it("live: a member hears the team from their join to their removal, and a rejoin opens a new window", async () => {
    const owner = await signUp(server);
    const member = await signUp(server);
    const team = await ok(call(server, "teams.create", owner, { name: "live" }));
    const sub = subscribe(member);
    await settle();
    await ok(call(server, "teams.rename", owner, { teamId: team.id, name: "before joining" }));
    await join(server, team.id, owner, member);
    await ok(call(server, "teams.rename", owner, { teamId: team.id, name: "as a member" }));
    await ok(call(server, "teams.members.remove", owner, { teamId: team.id, userId: member.user.id }));
    await ok(call(server, "teams.rename", owner, { teamId: team.id, name: "after removal" }));
    // A removed user may rejoin only through a new invite; the window opens again from that join.
    await join(server, team.id, owner, member);
    await ok(call(server, "teams.rename", owner, { teamId: team.id, name: "member again" }));
    await emitUserEvents(server, member.user.id, 1, 1, "end");
    await sub.until(() => sub.events.some((e) => e.payload.tag === "end"));
    const seen = sub.events.filter(ofTeam(team.id)).map((e) => e.type);
    expect(seen.filter((t) => t === "team.renamed")).toHaveLength(2);
    expect(seen[0]).toBe("team.memberJoined");
    expect(sub.errors).toEqual([]);
  });
});

describe("fan-out by audience", () => {
  it("a stream's buffer holds only what its user may see: a burst of others' events does not make it a slow consumer", async () => {
    const quiet = await signUp(server);
    const busy = await signUp(server);
    const sub = subscribe(quiet);
    await settle();
    // 200 events of someone else in one transaction: one page for the hub (the buffer here is 10).
    await emitUserEvents(server, busy.user.id, 200, 200);
    await emitUserEvents(server, quiet.user.id, 1, 1, "mine");
    await sub.until(() => sub.events.some((e) => e.payload.tag === "mine"));
    expect(sub.errors).toEqual([]);
    // Not disconnected as a slow consumer (4408) and resumed: never disconnected at all.
    expect(sub.closes).toEqual([]);
    expect(sub.events.every((e) => e.userId === quiet.user.id)).toBe(true);
  });
});
