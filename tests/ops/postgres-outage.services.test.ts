import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type EngineProcess, startEngineProcess, waitReady } from "../helpers/engine-process.js";
import { rawCall, signUp } from "../helpers/factories.js";
import { startFlakyProxy } from "../helpers/flaky-proxy.js";
import { mutate, renamesDelivered, steadyLoad, summarize } from "../helpers/outage-load.js";
import type { TestServer } from "../helpers/server.js";
import { collect, wsClient } from "../helpers/trpc.js";
import { waitFor } from "../helpers/wait.js";

// PostgreSQL cut off for 10 s under load: a TCP proxy between the engine (its own process, so a
// crash shows as an exit) and the run's database stands in for the database going away.
const OUTAGE_MS = 10_000;
const SUBSCRIBERS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let proxy: Awaited<ReturnType<typeof startFlakyProxy>>;
let engine: EngineProcess;
let admin: postgres.Sql;

beforeAll(async () => {
  const databaseUrl = inject("databaseUrl");
  if (!databaseUrl) throw new Error("this file runs on test:services");
  const real = new URL(databaseUrl);
  proxy = await startFlakyProxy(Number(real.port || 5432));
  const proxied = new URL(databaseUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  engine = await startEngineProcess({
    DATABASE_URL: proxied.toString(),
    REDIS_URL: inject("redisUrl") ?? "",
    REDIS_CHANNEL_PREFIX: inject("redisPrefix"),
    DATABASE_CONNECT_TIMEOUT_SECONDS: "3",
    WS_MAX_CONNECTIONS_PER_USER: "100",
  });
  await waitReady(engine);
});

afterAll(async () => {
  if (engine?.exited()) console.log(`engine output:\n${engine.output.join("")}`);
  await engine?.stop();
  await proxy?.close();
  await admin?.end({ timeout: 5 });
});

describe("PostgreSQL unreachable for 10 s under load", () => {
  it("calls fail fast with SERVICE_UNAVAILABLE, /ready names the database, /health stays up, no crash, recovery by itself, no event lost", async () => {
    const server = engine as unknown as TestServer;
    const user = await signUp(server);
    const created = await rawCall(server, "teams.create", { input: { name: "outage" }, token: user.accessToken });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const teamId: string = created.body.result.data.id;

    const clients = Array.from({ length: SUBSCRIBERS }, () => wsClient(engine, user.accessToken));
    const subs = clients.map((c) => collect((h) => c.client.events.subscribe.subscribe(undefined, h)));
    for (const s of subs) await s.until(() => s.checkpoints > 0, 30_000);

    const load = steadyLoad((n) => mutate(engine.trpcUrl, "teams.rename", { teamId, name: `outage ${n}` }, user.accessToken));
    await sleep(3000);

    const cutAt = Date.now();
    // Stopped, as a stopped PostgreSQL is: open connections cut, new ones refused.
    const restarted = proxy.stop(OUTAGE_MS);
    const probes: { ready: number; readyBody: any; health: number }[] = [];
    while (Date.now() - cutAt < OUTAGE_MS - 2500) {
      const ready = await fetch(`${engine.url}/ready`);
      const health = await fetch(`${engine.url}/health`);
      probes.push({ ready: ready.status, readyBody: await ready.json(), health: health.status });
      await sleep(1000);
    }
    const restoredAt = cutAt + OUTAGE_MS;
    await restarted;
    const back = await waitFor(
      "a call answered after the database came back",
      async () => load.records.some((r) => r.startedAt >= restoredAt && r.outcome === "ok"),
      { timeoutMs: 30_000 },
    );
    await waitReady(engine, 30_000);
    await sleep(3000);
    await load.stop();

    const { committed, lost, duplicates, outOfOrder } = await renamesDelivered(admin, teamId, subs);
    const crashes = engine.exited() ? 1 : 0;
    const summary = summarize(load.records, { from: cutAt, to: restoredAt });
    console.log(
      `PostgreSQL outage (${OUTAGE_MS / 1000} s, ${SUBSCRIBERS} live subscribers): calls ${summary.calls}, answered ${summary.answered}, ` +
        `failed fast ${summary.failedFast} (SERVICE_UNAVAILABLE), other ${summary.other}; during the outage ${summary.duringOutage} calls, ` +
        `max answer time ${summary.maxAnswerMsDuringOutage} ms; first call answered ${back.elapsedMs} ms after the database came back; ` +
        `events committed ${committed.length}, events lost ${lost}, duplicates ${duplicates}, crashes ${crashes}`,
    );

    expect(summary.otherSamples).toEqual([]);
    expect(summary.failedFastDuringOutage).toBeGreaterThan(0);
    expect(summary.maxAnswerMsDuringOutage).toBeLessThan(10_000);
    for (const r of load.records.filter((r) => r.outcome === "unavailable"))
      expect(r.message).toBe("The database is unavailable right now; retry in a few seconds");
    expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) {
      expect(p.health).toBe(200);
      expect(p.ready).toBe(503);
      expect(p.readyBody.failed).toContain("database");
    }
    expect(committed.length).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(crashes).toBe(0);
    for (const s of subs) s.unsubscribe();
    for (const c of clients) c.close();
  }, 180_000);
});
