import postgres from "postgres";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type EngineProcess, startEngineProcess, waitReady } from "../helpers/engine-process.js";
import { randomLogin, rawCall, signUp } from "../helpers/factories.js";
import { mutate, renamesDelivered, steadyLoad, summarize } from "../helpers/outage-load.js";
import { startPrivateRedis } from "../helpers/redis-process.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, wsClient } from "../helpers/trpc.js";
import { waitFor } from "../helpers/wait.js";

// Redis killed for 10 s under load: a private redis-server (never the shared one), the engine in a
// process of its own. Events travel through PostgreSQL, so an outage may cost latency, never an event.
const OUTAGE_MS = 10_000;
const SUBSCRIBERS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe("Redis unreachable for 10 s under load", () => {
  it("calls keep being answered, /ready names the bus, /health stays up, no crash, no event lost", async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const databaseUrl = inject("databaseUrl") ?? "";
    const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    cleanups.push(() => admin.end({ timeout: 5 }));
    const engine: EngineProcess = await startEngineProcess({
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      WS_MAX_CONNECTIONS_PER_USER: "100",
    });
    cleanups.push(() => engine.stop());
    await waitReady(engine);

    const server = engine as unknown as TestServer;
    const user = await signUp(server);
    const created = await rawCall(server, "teams.create", { input: { name: "redis outage" }, token: user.accessToken });
    const teamId: string = created.body.result.data.id;
    const clients = Array.from({ length: SUBSCRIBERS }, () => wsClient(engine, user.accessToken));
    const subs = clients.map((c) => collect((h) => c.client.events.subscribe.subscribe(undefined, h)));
    for (const s of subs) await s.until(() => s.checkpoints > 0, 30_000);

    const load = steadyLoad((n) => mutate(engine.trpcUrl, "teams.rename", { teamId, name: `redis ${n}` }, user.accessToken));
    await sleep(3000);
    const cutAt = Date.now();
    await redis.stop();
    const probes: { ready: number; readyBody: any; health: number }[] = [];
    await sleep(1000);
    while (Date.now() - cutAt < OUTAGE_MS - 1500) {
      const ready = await fetch(`${engine.url}/ready`);
      const health = await fetch(`${engine.url}/health`);
      probes.push({ ready: ready.status, readyBody: await ready.json(), health: health.status });
      await sleep(1000);
    }
    await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
    await redis.start();
    const restoredAt = Date.now();
    const back = await waitFor("/ready 200 after Redis came back", async () => (await fetch(`${engine.url}/ready`)).status === 200, {
      timeoutMs: 30_000,
    });
    await sleep(3000);
    await load.stop();

    const { committed, lost, duplicates, outOfOrder } = await renamesDelivered(admin, teamId, subs);
    const crashes = engine.exited() ? 1 : 0;
    const summary = summarize(load.records, { from: cutAt, to: restoredAt });
    console.log(
      `Redis outage (${OUTAGE_MS / 1000} s, ${SUBSCRIBERS} live subscribers): calls ${summary.calls}, answered ${summary.answered}, ` +
        `failed fast ${summary.failedFast}, other ${summary.other}; during the outage ${summary.duringOutage} calls, ${summary.answeredDuringOutage} answered, ` +
        `max answer time ${summary.maxAnswerMsDuringOutage} ms; /ready 200 again ${back.elapsedMs} ms after Redis came back; ` +
        `events committed ${committed.length}, events lost ${lost}, duplicates ${duplicates}, crashes ${crashes}`,
    );

    expect(summary.otherSamples).toEqual([]);
    // PostgreSQL is the source of truth: without Redis calls are still answered (limits counted locally).
    expect(summary.answeredDuringOutage).toBeGreaterThan(0);
    expect(summary.maxAnswerMsDuringOutage).toBeLessThan(10_000);
    expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) {
      expect(p.health).toBe(200);
      expect(p.ready).toBe(503);
      expect(p.readyBody.failed).toEqual(["bus"]);
    }
    expect(committed.length).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(crashes).toBe(0);
    for (const s of subs) s.unsubscribe();
    for (const c of clients) c.close();
  }, 240_000);
});

describe("RATE_LIMIT_ON_REDIS_DOWN: the rate limits while Redis is unreachable", () => {
  const cases = [
    { mode: "local", expected: "each instance counts in its own memory: the budget still holds", statuses: [200, 200, 429, 429] },
    { mode: "open", expected: "every call is allowed", statuses: [200, 200, 200, 200] },
    { mode: "closed", expected: "every counted call is refused with 503", statuses: [503, 503, 503, 503] },
  ] as const;
  for (const { mode, expected, statuses } of cases) {
    it(`${mode}: ${expected}`, async () => {
      const redis = await startPrivateRedis();
      let server: TestServer | undefined;
      try {
        server = await startServer({ env: { REDIS_URL: redis.url, RATE_LIMIT_ON_REDIS_DOWN: mode, RATE_LIMIT_SIGN_IN_PER_MINUTE: "2" } });
        await redis.stop();
        const s = server;
        await waitFor("the bus to notice Redis is gone", async () => s.deps.bus.status() === "down");
        const answers = [];
        for (let i = 0; i < 4; i++) answers.push(await rawCall(s, "auth.devLogin", { input: { login: randomLogin(mode) } }));
        expect(answers.map((a) => a.status)).toEqual(statuses);
        if (mode === "closed") {
          for (const a of answers) expect(a.body.error.data.code).toBe("SERVICE_UNAVAILABLE");
          expect(answers[0]?.body.error.message).toMatch(/RATE_LIMIT_ON_REDIS_DOWN=closed/);
        }
        await redis.start();
      } finally {
        await server?.close();
        await redis.stop();
      }
    }, 60_000);
  }
});
