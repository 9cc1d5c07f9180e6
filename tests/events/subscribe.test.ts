import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { rawCall, signUp } from "../helpers/factories.js";
import { emitUserEvents } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, sseClient, wsClient } from "../helpers/trpc.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const ns = (events: { payload: Record<string, unknown> }[]) => events.map((e) => e.payload.n);

describe("events.subscribe over WebSocket", () => {
  it("needs a session: no token and a bad token are refused", async () => {
    const anon = wsClient(server, "not-a-token");
    const sub = collect((h) => anon.client.events.subscribe.subscribe(undefined, h));
    await sub.until(() => sub.errors.length > 0);
    expect(String(sub.errors[0])).toMatch(/access token/);
    sub.unsubscribe();
    anon.close();
  });

  it("delivers the user's own events live, in order, and nobody else's", async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const a = wsClient(server, alice.accessToken);
    const b = wsClient(server, bob.accessToken);
    const subA = collect((h) => a.client.events.subscribe.subscribe(undefined, h));
    const subB = collect((h) => b.client.events.subscribe.subscribe(undefined, h));
    await new Promise((r) => setTimeout(r, 300));
    await emitUserEvents(server, alice.user.id, 25, 5);
    await subA.until(() => subA.events.length >= 25);
    expect(ns(subA.events)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await emitUserEvents(server, bob.user.id, 1, 1, "bob");
    await subB.until(() => subB.events.length >= 1);
    expect(subB.events.every((e) => e.userId === bob.user.id)).toBe(true);
    expect(subA.events.every((e) => e.userId === alice.user.id)).toBe(true);
    subA.unsubscribe();
    subB.unsubscribe();
    a.close();
    b.close();
  });

  it("resumes after lastEventId with the backlog, then live, without gaps or repeats", async () => {
    const user = await signUp(server);
    const c1 = wsClient(server, user.accessToken);
    const first = collect((h) => c1.client.events.subscribe.subscribe(undefined, h));
    await new Promise((r) => setTimeout(r, 300));
    await emitUserEvents(server, user.user.id, 10);
    await first.until(() => first.events.length >= 10);
    first.unsubscribe();
    c1.close();
    const lastId = first.events.at(-1)?.id;

    // While away: 15 more events.
    await emitUserEvents(server, user.user.id, 15, 3, "away");
    const c2 = wsClient(server, user.accessToken);
    const second = collect((h) => c2.client.events.subscribe.subscribe({ lastEventId: lastId }, h));
    await second.until(() => second.events.length >= 15);
    await emitUserEvents(server, user.user.id, 5, 1, "live");
    await second.until(() => second.events.length >= 20);
    const tags = second.events.map((e) => `${e.payload.tag}:${e.payload.n}`);
    expect(tags).toEqual([...Array.from({ length: 15 }, (_, i) => `away:${i}`), ...Array.from({ length: 5 }, (_, i) => `live:${i}`)]);
    const ids = second.events.map((e) => Number(e.id));
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(ids[0]).toBeGreaterThan(Number(lastId));
    second.unsubscribe();
    c2.close();
  });

  it("answers a cursor from the future or from before retention with resync required", async () => {
    const user = await signUp(server);
    const c = wsClient(server, user.accessToken);
    const future = collect((h) => c.client.events.subscribe.subscribe({ lastEventId: "999999999999" }, h));
    await future.until(() => future.errors.length > 0);
    expect(String(future.errors[0])).toMatch(/resync required/);
    // Raised while the stream runs, yet still carrying its own code and details, not INTERNAL_SERVER_ERROR.
    expect((future.errors[0] as { data?: { code?: string; details?: unknown } }).data).toMatchObject({
      code: "PRECONDITION_FAILED",
      details: { resyncRequired: true },
    });
    const bad = collect((h) => c.client.events.subscribe.subscribe({ lastEventId: "12abc" }, h));
    await bad.until(() => bad.errors.length > 0);
    expect(String(bad.errors[0])).toMatch(/lastEventId/);
    c.close();
  });

  it("ends the subscription and closes the socket within a second when the session is revoked", async () => {
    const user = await signUp(server);
    let closedWith: number | undefined;
    const c = wsClient(server, user.accessToken, { onClose: (code) => (closedWith ??= code) });
    const sub = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const out = await rawCall(server, "auth.logout", { token: user.accessToken });
    expect(out.status).toBe(200);
    await sub.until(() => closedWith !== undefined || sub.errors.length > 0, 3000);
    expect(Date.now() - started).toBeLessThan(1500);
    c.close();
  });
});

describe("connection limits", () => {
  it("refuses WebSocket connections past the per-user limit with a clear error", async () => {
    const limited = await startServer({ env: { WS_MAX_CONNECTIONS_PER_USER: "2" }, shareDepsWith: server });
    try {
      const user = await signUp(limited);
      const clients = Array.from({ length: 3 }, () => wsClient(limited, user.accessToken));
      const subs = clients.map((c) => collect((h) => c.client.events.subscribe.subscribe(undefined, h)));
      // The three connect concurrently, so any one of them may be the one over the limit.
      const deadline = Date.now() + 10_000;
      while (subs.every((s) => s.errors.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const refused = subs.filter((s) => s.errors.length > 0);
      expect(refused).toHaveLength(1);
      expect(String(refused[0]?.errors[0])).toMatch(/too many open connections/);
      for (const c of clients) c.close();
    } finally {
      await limited.close();
    }
  });
});

describe("stream and message limits", () => {
  it("refuses event streams past the per-user limit with TOO_MANY_REQUESTS, and frees the slot on unsubscribe", async () => {
    const limited = await startServer({ env: { SUBSCRIPTIONS_PER_USER: "2" }, shareDepsWith: server });
    try {
      const user = await signUp(limited);
      const c = wsClient(limited, user.accessToken);
      const first = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
      const second = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
      await new Promise((r) => setTimeout(r, 300));
      const third = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
      await third.until(() => third.errors.length > 0);
      expect(String(third.errors[0])).toMatch(/too many open event streams/);
      expect((third.errors[0] as { data?: { code?: string } }).data?.code).toBe("TOO_MANY_REQUESTS");
      expect(first.errors).toEqual([]);
      first.unsubscribe();
      await new Promise((r) => setTimeout(r, 300));
      const fourth = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
      await emitUserEvents(limited, user.user.id, 1);
      await fourth.until(() => fourth.events.length === 1);
      expect(fourth.errors).toEqual([]);
      second.unsubscribe();
      fourth.unsubscribe();
      c.close();
    } finally {
      await limited.close();
    }
  });

  it("closes a WebSocket that sends a message over 1 MiB (1009), before parsing it", async () => {
    const ws = new WebSocket(server.wsUrl);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("x".repeat(1024 * 1024 + 1));
    expect(await closed).toBe(1009);
  });
});

describe("events.subscribe over SSE", () => {
  it("authenticates by header and streams with resumable ids", async () => {
    const user = await signUp(server);
    const client = sseClient(server, user.accessToken);
    const sub = collect((h) => client.events.subscribe.subscribe(undefined, h));
    await new Promise((r) => setTimeout(r, 500));
    await emitUserEvents(server, user.user.id, 5);
    await sub.until(() => sub.events.length >= 5);
    expect(ns(sub.events)).toEqual([0, 1, 2, 3, 4]);
    sub.unsubscribe();
  });

  it("refuses a stream without a token", async () => {
    const res = await fetch(`${server.trpcUrl}/events.subscribe`, { headers: { accept: "text/event-stream" } });
    const text = await res.text();
    expect(text).toMatch(/UNAUTHORIZED|access token/);
  });
});
