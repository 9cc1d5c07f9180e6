/**
 * (a) Fan-out: N subscribers in one team, K team renames a second (each a `team.renamed` event to
 * the whole team), against a raw `ws` server broadcasting K events a second to N sockets.
 * Latency is receipt time minus the event's `createdAt` (the writing transaction's start on the
 * engine, the broadcast on the baseline; one clock, one machine). Server CPU per delivery is the
 * server process's own cpuUsage over the run divided by the events delivered.
 */
import type { AppRouter } from "@osmynt/server";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import WebSocket from "ws";
import { freshDatabase, postgresReachable } from "../lib/database.js";
import { call, type Subscriber, seedTeam, subscribe } from "../lib/engine-client.js";
import type { Measure, MeasureOptions, Row } from "../lib/measure.js";
import { type ServerProcess, startServerProcess } from "../lib/processes.js";
import { medianOf, percentile, sleep, waitFor } from "../lib/stats.js";

interface Target {
  name: string;
  server: ServerProcess;
  publish(i: number): Promise<void>;
  matches(event: any): boolean;
  subscribers: Subscriber[];
  /** Each subscriber's handler reads this run's state through here. */
  onEvent(index: number, event: any): void;
  /** The engine's: subscriber 0's token and the team, for the @trpc/client check. */
  check?: { token: string; teamId: string };
  close(): Promise<void>;
}

interface RunState {
  seen: Set<string>[];
  receipts: number;
  latencies: number[];
}

type Sample = { p50: number; p99: number; lostOrDuplicated: number; cpuPerDelivery: number; keptUp: number };

function makeSink() {
  let state: RunState | null = null;
  return {
    begin(n: number) {
      state = { seen: Array.from({ length: n }, () => new Set<string>()), receipts: 0, latencies: [] };
      return state;
    },
    end() {
      state = null;
    },
    record(index: number, event: any) {
      if (!state) return;
      state.receipts++;
      state.seen[index]?.add(event.id);
      state.latencies.push(Date.now() - Date.parse(event.createdAt));
    },
  };
}

async function connectAll(wsUrl: string, tokens: (string | null)[], onEvent: (i: number, e: any) => void): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  // In waves, so the connection storm does not dominate the setup.
  for (let start = 0; start < tokens.length; start += 100) {
    const wave = tokens.slice(start, start + 100).map((token, k) => subscribe(wsUrl, token, (event) => onEvent(start + k, event)));
    await Promise.all(wave.map((s) => s.started));
    subscribers.push(...wave);
  }
  return subscribers;
}

async function engineTarget(n: number, env: Record<string, string>, sink: ReturnType<typeof makeSink>): Promise<Target> {
  const server = await startServerProcess("engine", env);
  const seeded = await seedTeam(server.url, n, "fanout");
  const wsUrl = `${server.url.replace("http", "ws")}/trpc`;
  const matches = (event: any) => event.type === "team.renamed" && event.teamId === seeded.teamId;
  const subscribers = await connectAll(
    wsUrl,
    seeded.members.map((m) => m.token),
    (i, event) => matches(event) && sink.record(i, event),
  );
  return {
    name: "engine",
    server,
    subscribers,
    matches,
    onEvent: (i, event) => sink.record(i, event),
    check: { token: seeded.members[0]?.token ?? "", teamId: seeded.teamId },
    async publish(i) {
      await call(server.url, "teams.rename", { teamId: seeded.teamId, name: `renamed ${i}` }, seeded.owner.token);
    },
    async close() {
      for (const s of subscribers) s.close();
      await server.stop();
    },
  };
}

async function rawTarget(n: number, sink: ReturnType<typeof makeSink>): Promise<Target> {
  const server = await startServerProcess("raw-ws");
  const subscribers = await connectAll(`${server.url.replace("http", "ws")}/trpc`, Array(n).fill(null), (i, event) =>
    sink.record(i, event),
  );
  return {
    name: "raw ws",
    server,
    subscribers,
    matches: () => true,
    onEvent: (i, event) => sink.record(i, event),
    async publish() {
      const response = await fetch(`${server.url}/publish`, { method: "POST" });
      await response.arrayBuffer();
    },
    async close() {
      for (const s of subscribers) s.close();
      await server.stop();
    },
  };
}

/** One run: K events a second for `seconds`, open loop (a slow publish does not delay the next one). */
async function runOnce(target: Target, sink: ReturnType<typeof makeSink>, n: number, rate: number, seconds: number): Promise<Sample> {
  const state = sink.begin(n);
  const before = await target.server.usage();
  const total = Math.round(rate * seconds);
  const start = Date.now();
  let lastDone = start;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    sends.push(
      target.publish(i).then(() => {
        lastDone = Date.now();
      }),
    );
  }
  await Promise.all(sends);
  const keptUp = total / Math.max(seconds, (lastDone - start) / 1000);
  await waitFor(() => state.seen.every((s) => s.size >= total), 15_000);
  const after = await target.server.usage();
  sink.end();
  const unique = state.seen.reduce((sum, s) => sum + s.size, 0);
  const lost = total * n - unique;
  const duplicated = state.receipts - unique;
  return {
    p50: percentile(state.latencies, 50),
    p99: percentile(state.latencies, 99),
    lostOrDuplicated: lost + duplicated,
    cpuPerDelivery: (after.cpuMicros - before.cpuMicros) / Math.max(1, unique),
    keptUp,
  };
}

/**
 * The hand-written protocol must be what @trpc/client speaks: one more member subscribes through
 * the real wsLink during a run and must see exactly the events the hand-written subscriber 0 saw.
 */
async function checkAgainstTrpcClient(
  server: ServerProcess,
  token: string,
  teamId: string,
  publish: (i: number) => Promise<void>,
  expectedAfter: () => Set<string>,
) {
  const wsClient = createWSClient({
    url: `${server.url.replace("http", "ws")}/trpc`,
    WebSocket: WebSocket as any,
    connectionParams: { token },
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  const seen = new Set<string>();
  let started = false;
  const sub = client.events.subscribe.subscribe(
    {},
    {
      onStarted: () => {
        started = true;
      },
      onData: (tracked: any) => {
        const event = tracked.data ?? tracked;
        if (event.type === "team.renamed" && event.teamId === teamId) seen.add(event.id);
      },
    },
  );
  await waitFor(() => started, 10_000);
  await sleep(200);
  for (let i = 0; i < 3; i++) await publish(1_000_000 + i);
  await waitFor(() => seen.size >= 3, 10_000);
  await sleep(200);
  sub.unsubscribe();
  wsClient.close();
  const raw = expectedAfter();
  const same = [...seen].every((id) => raw.has(id)) && seen.size === 3;
  if (!same) console.error("trpc check", started, [...seen], [...raw]);
  return same;
}

async function fanoutOn(backend: "embedded" | "postgres", options: MeasureOptions): Promise<Row[]> {
  const n = options.quick ? 50 : 1000;
  const rate = 20;
  const seconds = options.quick ? 3 : 15;
  const database = backend === "postgres" ? await freshDatabase(options.databaseUrl) : null;
  const env: Record<string, string> = database ? { DATABASE_URL: database.url, DATABASE_POOL_SIZE: "10" } : {};
  const sink = makeSink();
  options.log(`fanout/${backend}: seeding ${n} members and connecting them`);
  const engine = await engineTarget(n, env, sink);
  const raw = await rawTarget(n, sink);
  try {
    // The wire check: subscriber 0's ids during a short burst, compared with @trpc/client's.
    const tokens = engine.check as { token: string; teamId: string };
    const probe = sink.begin(n);
    const checked = await checkAgainstTrpcClient(
      engine.server,
      tokens.token,
      tokens.teamId,
      engine.publish,
      () => probe.seen[0] ?? new Set(),
    );
    sink.end();
    if (!checked) throw new Error("fanout: @trpc/client's wsLink did not see the events the hand-written protocol client saw");
    await sleep(500);
    const samples: Record<string, Sample[]> = { engine: [], raw: [] };
    for (let r = 0; r < options.runs; r++) {
      const order = r % 2 === 0 ? [engine, raw] : [raw, engine];
      for (const target of order) {
        options.log(`fanout/${backend}: run ${r + 1}/${options.runs}, ${target.name}`);
        samples[target === engine ? "engine" : "raw"]?.push(await runOnce(target, sink, n, rate, seconds));
        await sleep(300);
      }
    }
    const e = medianOf(samples.engine as Sample[]);
    const b = medianOf(samples.raw as Sample[]);
    const setting = `${n} subscribers, ${rate} events/s, ${seconds} s, ${backend}`;
    const base = "raw ws broadcast";
    return [
      {
        measure: `fan-out latency p50 (${setting})`,
        engine: e.p50,
        baseline: b.p50,
        baselineName: base,
        unit: "ms",
        better: "lower",
        note: "wire checked against @trpc/client wsLink",
      },
      { measure: `fan-out latency p99 (${setting})`, engine: e.p99, baseline: b.p99, baselineName: base, unit: "ms", better: "lower" },
      {
        measure: `fan-out lost + duplicated (${setting})`,
        engine: e.lostOrDuplicated,
        baseline: b.lostOrDuplicated,
        baselineName: base,
        unit: "events",
        better: "lower",
      },
      {
        measure: `fan-out server CPU per delivery (${setting})`,
        engine: e.cpuPerDelivery,
        baseline: b.cpuPerDelivery,
        baselineName: base,
        unit: "µs",
        better: "lower",
      },
      {
        measure: `fan-out events/s kept up (${setting})`,
        engine: e.keptUp,
        baseline: b.keptUp,
        baselineName: base,
        unit: "events/s",
        better: "higher",
      },
    ];
  } finally {
    await engine.close();
    await raw.close();
    await database?.drop();
  }
}

export const fanout: Measure = {
  name: "fanout",
  title: "(a) fan-out to one team's subscribers vs a raw ws broadcast",
  async run(options) {
    const rows = await fanoutOn("embedded", options);
    if (!options.quick && (await postgresReachable(options.databaseUrl))) rows.push(...(await fanoutOn("postgres", options)));
    return rows;
  },
};
