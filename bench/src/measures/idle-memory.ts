/**
 * (d) Idle subscriptions: N authenticated `events.subscribe` streams held open on the engine
 * (embedded) against N sockets on a raw `ws` server. Memory per subscription is the server's RSS
 * after a full GC with them open minus before, over N; then idle CPU over a few seconds, and the
 * time one event takes to reach all of them (last receipt).
 */
import { type BenchUser, call, type Subscriber, seedTeam, subscribe } from "../lib/engine-client.js";
import type { Measure, Row } from "../lib/measure.js";
import { type ServerProcess, startServerProcess } from "../lib/processes.js";
import { medianOf, sleep, waitFor } from "../lib/stats.js";

type Sample = { rssPerSub: number; heapPerSub: number; idleCpuPercent: number; oneEventToAll: number };

async function openAll(wsUrl: string, tokens: (string | null)[], onEvent: (event: any) => void): Promise<Subscriber[]> {
  const out: Subscriber[] = [];
  for (let start = 0; start < tokens.length; start += 200) {
    const wave = tokens.slice(start, start + 200).map((t) => subscribe(wsUrl, t, onEvent));
    await Promise.all(wave.map((s) => s.started));
    out.push(...wave);
  }
  return out;
}

async function sample(
  server: ServerProcess,
  n: number,
  tokens: (string | null)[],
  publish: () => Promise<void>,
  isTarget: (e: any) => boolean,
  idleSeconds: number,
): Promise<Sample> {
  const wsUrl = `${server.url.replace("http", "ws")}/trpc`;
  await sleep(500);
  const before = await server.usage(true);
  let received = 0;
  const subs = await openAll(wsUrl, tokens, (e) => {
    if (isTarget(e)) received++;
  });
  await sleep(1000);
  const open = await server.usage(true);
  const cpu0 = await server.usage();
  await sleep(idleSeconds * 1000);
  const cpu1 = await server.usage();
  const t0 = Date.now();
  await publish();
  await waitFor(() => received >= n, 30_000, 5);
  const oneEventToAll = Date.now() - t0;
  for (const s of subs) s.close();
  return {
    rssPerSub: (open.rss - before.rss) / n,
    heapPerSub: (open.heapUsed + open.external - before.heapUsed - before.external) / n,
    idleCpuPercent: ((cpu1.cpuMicros - cpu0.cpuMicros) / (idleSeconds * 1e6)) * 100,
    oneEventToAll,
  };
}

export const idleMemory: Measure = {
  name: "idle",
  title: "(d) memory and idle CPU per open subscription vs raw ws (embedded)",
  async run(options) {
    const n = options.quick ? 200 : 2000;
    const idleSeconds = options.quick ? 1 : 10;
    const samples = { engine: [] as Sample[], raw: [] as Sample[] };
    for (let r = 0; r < options.runs; r++) {
      const order: ("engine" | "raw")[] = r % 2 === 0 ? ["engine", "raw"] : ["raw", "engine"];
      for (const side of order) {
        options.log(`idle: run ${r + 1}/${options.runs}, ${side}, ${n} subscriptions`);
        const server = await startServerProcess(side === "engine" ? "engine" : "raw-ws");
        try {
          if (side === "engine") {
            // Streams of one team's members (a user may hold at most 1000 connections per instance);
            // one rename of the team is the event that must reach every stream.
            const seeded = await seedTeam(server.url, Math.ceil(n / 1000) - 1, "idle");
            const users = [seeded.owner, ...seeded.members];
            const tokens = Array.from({ length: n }, (_, i) => (users[i % users.length] as BenchUser).token);
            const publish = async () => {
              await call(server.url, "teams.rename", { teamId: seeded.teamId, name: "idle probe" }, seeded.owner.token);
            };
            samples.engine.push(await sample(server, n, tokens, publish, (e) => e.type === "team.renamed", idleSeconds));
          } else {
            const publish = async () => {
              await (await fetch(`${server.url}/publish`, { method: "POST" })).arrayBuffer();
            };
            samples.raw.push(await sample(server, n, Array(n).fill(null), publish, (e) => e.type === "team.renamed", idleSeconds));
          }
        } finally {
          await server.stop();
        }
      }
    }
    const e = medianOf(samples.engine);
    const b = medianOf(samples.raw);
    const setting = `${n} open, embedded`;
    const base = "raw ws";
    return [
      {
        measure: `memory per idle subscription, RSS (${setting})`,
        engine: e.rssPerSub / 1024,
        baseline: b.rssPerSub / 1024,
        baselineName: base,
        unit: "KiB",
        better: "lower",
      },
      {
        measure: `memory per idle subscription, JS heap + external (${setting})`,
        engine: e.heapPerSub / 1024,
        baseline: b.heapPerSub / 1024,
        baselineName: base,
        unit: "KiB",
        better: "lower",
      },
      {
        measure: `server CPU while idle (${setting})`,
        engine: e.idleCpuPercent,
        baseline: b.idleCpuPercent,
        baselineName: base,
        unit: "% of a core",
        better: "lower",
      },
      {
        measure: `one event to all, last receipt (${setting})`,
        engine: e.oneEventToAll,
        baseline: b.oneEventToAll,
        baselineName: base,
        unit: "ms",
        better: "lower",
      },
    ] satisfies Row[];
  },
};
