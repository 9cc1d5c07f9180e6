import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp } from "../helpers/factories.js";
import { emitUserEvents } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, wsClient } from "../helpers/trpc.js";
import { addDevice, call, firstDevice, join, ok } from "../shares/helpers.js";

// Review finding: `keys.changed` was written once per team of the user plus a personal copy, so a
// teammate in N shared teams heard the same change N times (and the user N+2 times, counting the
// personal team). Each affected person now gets exactly one.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe("keys.changed reaches each affected user once", () => {
  it("two users sharing three teams: one add_device gives one event on each stream", async () => {
    const [a, b, c] = await Promise.all([
      signUp(server, randomLogin("alice")),
      signUp(server, randomLogin("bob")),
      signUp(server, randomLogin("carol")),
    ]);
    for (const name of ["one", "two", "three"]) {
      const team = await ok(call(server, "teams.create", a, { name }));
      await join(server, team.id, a, b);
    }
    const alice = await firstDevice(server, a);

    const streams = [a, b, c].map((who) => {
      const ws = wsClient(server, who.accessToken);
      return { who, ws, sub: collect((h) => ws.client.events.subscribe.subscribe(undefined, h)) };
    });
    for (const s of streams) await s.sub.until(() => s.sub.checkpoints > 0);

    const added = await addDevice(server, alice);
    // A marker written after the change committed: once it arrives, every copy would have too.
    for (const s of streams) await emitUserEvents(server, s.who.user.id, 1, 1, "marker");
    for (const s of streams) await s.sub.until(() => s.sub.events.some((e) => (e.payload as { tag?: string }).tag === "marker"));

    const copies = (events: { type: string; payload: unknown }[]) =>
      events.filter((e) => e.type === "keys.changed" && (e.payload as { deviceId?: string }).deviceId === added.keys.deviceId);
    const [forAlice = [], forBob = [], forCarol = []] = streams.map((s) => copies(s.sub.events));
    expect(forAlice).toHaveLength(1);
    expect(forBob).toHaveLength(1);
    expect(forBob[0]?.payload).toEqual({ userId: a.user.id, seq: 1, type: "add_device", deviceId: added.keys.deviceId });
    expect(forCarol).toHaveLength(0); // shares no team with Alice
    for (const s of streams) {
      s.sub.unsubscribe();
      s.ws.close();
    }
  });
});
