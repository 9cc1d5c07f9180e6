/**
 * (d) Idle subscriptions: N authenticated `events.subscribe` streams held open on one engine
 * instance (PostgreSQL; embedded when there is none) against N sockets on a raw `ws` server, the
 * subscribers spread over client processes. Memory per subscription is the server's RSS (and JS
 * heap + external) after a full GC with them open minus before, over N; then the server's CPU over
 * an idle window, and the time one event takes to reach all of them (publish to last receipt).
 * At full size N is 20,000, or what the open-file limit leaves (`ulimit -n`; the server holds one
 * descriptor a socket).
 */
import { readFileSync } from "node:fs";
import { postgresReachable } from "../lib/database.js";
import { type BenchUser, call, seedTeam } from "../lib/engine-client.js";
import { openFleet } from "../lib/fleet.js";
import type { Measure, Row } from "../lib/measure.js";
import { withEngine } from "../lib/postgres-engine.js";
import { type ServerProcess, startServerProcess } from "../lib/processes.js";
import { medianOf, sleep } from "../lib/stats.js";

type Sample = { rssPerSub: number; heapPerSub: number; idleCpuPercent: number; oneEventToAll: number };

/** The soft limit on open files this process (and the servers it forks) may hold. */
function openFileLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8").match(/Max open files\s+(\d+)/);
  return line ? Number(line[1]) : Number.POSITIVE_INFINITY;
}

async function sample(
  server: ServerProcess,
  tokens: (string | null)[],
  filter: { type: string; teamId?: string },
  publish: () => Promise<void>,
  idleSeconds: number,
): Promise<Sample> {
  const n = tokens.length;
  await sleep(500);
  const before = await server.usage(true);
  const fleet = await openFleet(`${server.url.replace("http", "ws")}/trpc`, tokens);
  try {
    await sleep(1000);
    const open = await server.usage(true);
    const cpu0 = await server.usage();
    await sleep(idleSeconds * 1000);
    const cpu1 = await server.usage();
    await fleet.begin(filter);
    const t0 = Date.now();
    await publish();
    const all = await fleet.waitAll(1, 60_000);
    const tally = await fleet.collect();
    if (!all) throw new Error(`idle: the event reached ${tally.unique} of ${n} subscribers within 60 s (${tally.receipts} receipts)`);
    return {
      rssPerSub: (open.rss - before.rss) / n,
      heapPerSub: (open.heapUsed + open.external - before.heapUsed - before.external) / n,
      idleCpuPercent: ((cpu1.cpuMicros - cpu0.cpuMicros) / (idleSeconds * 1e6)) * 100,
      oneEventToAll: tally.lastReceiptAt - t0,
    };
  } finally {
    await fleet.close();
  }
}

export const idleMemory: Measure = {
  name: "idle",
  title: "(d) memory, idle CPU and one event to all, per open subscription vs raw ws (PostgreSQL)",
  async run(options) {
    const n = options.quick ? 200 : Math.min(20_000, openFileLimit() - 100);
    const idleSeconds = options.quick ? 1 : 10;
    const backend = (await postgresReachable(options.databaseUrl)) ? "postgres" : "embedded";
    const samples = { engine: [] as Sample[], raw: [] as Sample[] };
    for (let r = 0; r < options.runs; r++) {
      for (const side of r % 2 === 0 ? (["engine", "raw"] as const) : (["raw", "engine"] as const)) {
        options.log(`idle: run ${r + 1}/${options.runs}, ${side}, ${n} subscriptions`);
        if (side === "engine") {
          await withEngine(options, { backend, label: "idle" }, async ({ engine }) => {
            // A user may hold at most 1,000 connections an instance: the streams belong to
            // ceil(N / 1000) members of one team, and one rename of it must reach every stream.
            const seeded = await seedTeam(engine.url, Math.ceil(n / 1000) - 1, "idle");
            const users = [seeded.owner, ...seeded.members];
            const tokens = Array.from({ length: n }, (_, i) => (users[i % users.length] as BenchUser).token);
            const publish = async () => {
              await call(engine.url, "teams.rename", { teamId: seeded.teamId, name: "idle probe" }, seeded.owner.token);
            };
            samples.engine.push(await sample(engine, tokens, { type: "team.renamed", teamId: seeded.teamId }, publish, idleSeconds));
          });
        } else {
          const server = await startServerProcess("raw-ws");
          try {
            const publish = async () => {
              await (await fetch(`${server.url}/publish`, { method: "POST" })).arrayBuffer();
            };
            samples.raw.push(await sample(server, Array(n).fill(null), { type: "team.renamed" }, publish, idleSeconds));
          } finally {
            await server.stop();
          }
        }
      }
    }
    const e = medianOf(samples.engine);
    const b = medianOf(samples.raw);
    const setting = `${n} open, ${backend === "postgres" ? "PostgreSQL" : "embedded"}`;
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
        measure: `server CPU while idle, ${idleSeconds} s (${setting})`,
        engine: e.idleCpuPercent,
        baseline: b.idleCpuPercent,
        baselineName: base,
        unit: "% of a core",
        better: "lower",
      },
      {
        measure: `one event to all, publish to last receipt (${setting})`,
        engine: e.oneEventToAll,
        baseline: b.oneEventToAll,
        baselineName: base,
        unit: "ms",
        better: "lower",
      },
    ] satisfies Row[];
  },
};
