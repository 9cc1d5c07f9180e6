import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { startFlakyProxy } from "../helpers/flaky-proxy.js";
import { emitUserEvents } from "../helpers/load.js";
import { startPrivateRedis } from "../helpers/redis-process.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, type Received, wsClient } from "../helpers/trpc.js";

// Multi-instance behaviour needs a shared PostgreSQL and Redis: this file runs on test:services.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = { WS_MAX_CONNECTIONS_PER_USER: "200" };

function expectExactlyInOrder(events: Received[], expected: number) {
  const ns = events.map((e) => e.payload.n as number);
  expect(ns).toEqual(Array.from({ length: expected }, (_, i) => i));
  const ids = events.map((e) => Number(e.id));
  expect(new Set(ids).size).toBe(ids.length);
}

/** Every one of `total` events, each once, in log order (ids are the log's order). */
function expectIdsOnceInOrder(events: Received[], total: number) {
  const ids = events.map((e) => Number(e.id));
  expect(ids.length).toBe(total);
  expect(new Set(ids).size).toBe(total);
  expect([...ids].sort((x, y) => x - y)).toEqual(ids);
}

describe("two instances on one database and Redis", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startServer({ env });
    b = await startServer({ env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("a subscriber on A receives, in order and exactly once, 1,000 events caused through B", async () => {
    const user = await signUp(a);
    const c = wsClient(a, user.accessToken);
    const sub = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
    await sleep(300);
    const started = Date.now();
    await emitUserEvents(b, user.user.id, 1000);
    await sub.until(() => sub.events.length >= 1000, 60_000);
    console.log(`1000 events through B reached A's subscriber in ${Date.now() - started} ms`);
    await sleep(200);
    expectExactlyInOrder(sub.events, 1000);
    sub.unsubscribe();
    c.close();
  });

  it("clients dropped for 2 s at random moments get every event, once, in order", async () => {
    const user = await signUp(a);
    const proxy = await startFlakyProxy(Number(new URL(a.url).port));
    const clients = Array.from({ length: 5 }, () => wsClient(proxy, user.accessToken));
    const subs = clients.map((c) => collect((h) => c.client.events.subscribe.subscribe(undefined, h)));
    await sleep(500);
    const total = 300;
    const emitting = (async () => {
      for (let i = 0; i < total; i += 10) {
        await emitUserEvents(b, user.user.id, 10, 10, "x").then(() => undefined);
        await sleep(40);
      }
    })();
    // Fault injection: three blips at random moments while the stream runs.
    for (let k = 0; k < 3; k++) {
      await sleep(300 + Math.random() * 900);
      proxy.drop(2000);
    }
    await emitting;
    for (const s of subs) await s.until(() => s.events.length >= total, 30_000);
    await sleep(300);
    expect(proxy.drops()).toBe(3);
    for (const s of subs) expectIdsOnceInOrder(s.events, total);
    for (const s of subs) s.unsubscribe();
    for (const c of clients) c.close();
    await proxy.close();
  });
});

describe("an instance shut down mid-stream", () => {
  it("its clients reconnect to the other instance and miss nothing", async () => {
    const a = await startServer({ env });
    const b = await startServer({ env });
    try {
      const user = await signUp(a);
      let target = a;
      const clients = Array.from({ length: 10 }, () => wsClient(a, user.accessToken, { url: () => target.wsUrl }));
      const subs = clients.map((c) => collect((h) => c.client.events.subscribe.subscribe(undefined, h)));
      await sleep(500);
      const total = 200;
      const emitting = (async () => {
        for (let i = 0; i < total; i++) {
          await emitUserEvents(b, user.user.id, 1, 1, "s");
          await sleep(10);
        }
      })();
      await sleep(700);
      target = b;
      await a.close();
      await emitting;
      for (const s of subs) await s.until(() => s.events.length >= total, 30_000);
      await sleep(300);
      for (const s of subs) expectIdsOnceInOrder(s.events, total);
      for (const s of subs) s.unsubscribe();
      for (const c of clients) c.close();
    } finally {
      await a.close().catch(() => {});
      await b.close();
    }
  });
});

describe("Redis down for 5 s", () => {
  it("50 subscribers on 2 instances still get every event exactly once, in order", async () => {
    const redis = await startPrivateRedis();
    const a = await startServer({ env: { ...env, REDIS_URL: redis.url } });
    const b = await startServer({ env: { ...env, REDIS_URL: redis.url } });
    try {
      const user = await signUp(a);
      const clients = Array.from({ length: 50 }, (_, i) => wsClient(i % 2 === 0 ? a : b, user.accessToken));
      const subs = clients.map((c) => collect((h) => c.client.events.subscribe.subscribe(undefined, h)));
      // Each fresh stream starts "now": wait until all 50 are live (their first checkpoint), not a fixed
      // time, which a loaded machine can overrun (one late stream then rightly misses the first event).
      for (const s of subs) await s.until(() => s.checkpoints > 0);
      const total = 300;
      const emitting = (async () => {
        for (let i = 0; i < total; i++) {
          await emitUserEvents(i % 2 === 0 ? a : b, user.user.id, 1, 1, "r");
          await sleep(25);
        }
      })();
      await sleep(1000);
      await redis.stop();
      const down = await fetch(`${a.url}/ready`);
      expect(down.status).toBe(503);
      await sleep(5000);
      await redis.start();
      await emitting;
      for (const s of subs) await s.until(() => s.events.length >= total, 30_000);
      await sleep(300);
      for (const s of subs) expectIdsOnceInOrder(s.events, total);
      for (const s of subs) s.unsubscribe();
      for (const c of clients) c.close();
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  });
});

describe("a rolling restart: both instances restarted one after the other", () => {
  it("50 subscribers get every event once, in order, through two graceful restarts", async () => {
    let a = await startServer({ env });
    let b = await startServer({ env });
    const live = new Set<TestServer>([a, b]);
    try {
      const user = await signUp(a);
      // Like a load balancer: each (re)connection goes to an instance that is up, in turn.
      let turn = 0;
      const next = () => {
        const up = [...live];
        turn++;
        return (up[turn % up.length] ?? a).wsUrl;
      };
      const clients = Array.from({ length: 50 }, () => wsClient(a, user.accessToken, { url: next }));
      const subs = clients.map((c) => collect((h) => c.client.events.subscribe.subscribe(undefined, h)));
      for (const s of subs) await s.until(() => s.checkpoints > 0, 30_000);

      let emitter = b;
      let stop = false;
      let total = 0;
      const emitting = (async () => {
        while (!stop) {
          await emitUserEvents(emitter, user.user.id, 1, 1, "roll");
          total++;
          await sleep(20);
        }
      })();
      await sleep(1000);
      // Restart A: it tells its clients to reconnect (1012) and drains; they land on B.
      live.delete(a);
      await a.close();
      a = await startServer({ env });
      live.add(a);
      await sleep(1000);
      // Then B, while A (restarted) carries the load.
      emitter = a;
      live.delete(b);
      await b.close();
      b = await startServer({ env });
      live.add(b);
      await sleep(1000);
      stop = true;
      await emitting;

      for (const s of subs) await s.until(() => s.events.length >= total, 60_000);
      await sleep(300);
      for (const s of subs) expectIdsOnceInOrder(s.events, total);
      console.log(`rolling restart: ${total} events to each of 50 subscribers through two restarts, none lost or repeated`);
      for (const s of subs) s.unsubscribe();
      for (const c of clients) c.close();
    } finally {
      await a.close().catch(() => {});
      await b.close().catch(() => {});
    }
  }, 180_000);
});
