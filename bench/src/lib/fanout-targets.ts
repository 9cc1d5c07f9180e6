/**
 * The two sides of every delivery measure (fanout, peak, redis, idle): the engine with N members
 * of one team subscribed to `events.subscribe`, and a raw `ws` server broadcasting the same
 * message shape to N sockets. Subscribers live in client processes (lib/fleet.ts).
 */
import { call, seedTeam } from "./engine-client.js";
import { type Fleet, type FleetTally, openFleet } from "./fleet.js";
import { type ServerProcess, startServerProcess } from "./processes.js";
import { sleep } from "./stats.js";

export interface Target {
  name: "engine" | "raw ws";
  /** The server whose CPU is counted (the one the subscribers are on). */
  server: ServerProcess;
  fleet: Fleet;
  filter: { type: string; teamId?: string };
  /** Writes (engine: renames the team) or broadcasts (raw) one event. */
  publish(i: number): Promise<void>;
  close(): Promise<void>;
}

export interface SeededTeam {
  ownerToken: string;
  teamId: string;
  memberTokens: string[];
}

const wsOf = (url: string) => `${url.replace("http", "ws")}/trpc`;

/** Seeds a team of `n` members through `server` (they join as real members do). */
export async function seedFanoutTeam(server: ServerProcess, n: number, tag: string): Promise<SeededTeam> {
  const seeded = await seedTeam(server.url, n, tag);
  return { ownerToken: seeded.owner.token, teamId: seeded.teamId, memberTokens: seeded.members.map((m) => m.token) };
}

/**
 * The engine side: `tokens` subscribed on `subscribeOn`, the team renamed through `writeOn` (the
 * same server unless a measure spreads them over two instances). Closing stops neither server.
 */
export async function engineTarget(
  team: SeededTeam,
  subscribeOn: ServerProcess,
  writeOn: ServerProcess = subscribeOn,
  tokens: string[] = team.memberTokens,
): Promise<Target> {
  const fleet = await openFleet(wsOf(subscribeOn.url), tokens);
  return {
    name: "engine",
    server: subscribeOn,
    fleet,
    filter: { type: "team.renamed", teamId: team.teamId },
    async publish(i) {
      await call(writeOn.url, "teams.rename", { teamId: team.teamId, name: `renamed ${i}` }, team.ownerToken);
    },
    close: () => fleet.close(),
  };
}

/** The raw side: its own `ws` server process and `n` unauthenticated sockets; closing stops both. */
export async function rawTarget(n: number): Promise<Target> {
  const server = await startServerProcess("raw-ws");
  const fleet = await openFleet(wsOf(server.url), Array(n).fill(null));
  return {
    name: "raw ws",
    server,
    fleet,
    filter: { type: "team.renamed" },
    async publish() {
      const response = await fetch(`${server.url}/publish`, { method: "POST" });
      await response.arrayBuffer();
    },
    async close() {
      await fleet.close();
      await server.stop();
    },
  };
}

export type DeliverySample = {
  p50: number;
  p99: number;
  lost: number;
  duplicated: number;
  /** Streams the server ended during the run (their later events count as lost). */
  ended: number;
  /** Server CPU (its own process.cpuUsage) per distinct delivery, µs. */
  cpuPerDelivery: number;
  /** Events written a second, over the time the writes took (the rate asked for when it kept up). */
  keptUp: number;
  /** Distinct deliveries a second, from the first write to the last receipt. */
  deliveriesPerSecond: number;
};

function sampleOf(tally: FleetTally, n: number, total: number, cpuMicros: number, start: number, keptUp: number): DeliverySample {
  return {
    p50: tally.p50,
    p99: tally.p99,
    lost: total * n - tally.unique,
    duplicated: tally.receipts - tally.unique,
    ended: endedOf(tally),
    cpuPerDelivery: cpuMicros / Math.max(1, tally.unique),
    keptUp,
    deliveriesPerSecond: tally.unique / Math.max(0.001, (tally.lastReceiptAt - start) / 1000),
  };
}

/** Steady load: `rate` events a second for `seconds`, open loop (a slow write does not delay the next). */
export async function steadyRun(target: Target, rate: number, seconds: number): Promise<DeliverySample> {
  await target.fleet.begin(target.filter);
  const before = await target.server.usage();
  const total = Math.round(rate * seconds);
  const start = Date.now();
  let lastDone = start;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    sends.push(
      target.publish(i).then(() => {
        lastDone = Date.now();
      }),
    );
  }
  await Promise.all(sends);
  const keptUp = total / Math.max(seconds, (lastDone - start) / 1000);
  await target.fleet.waitAll(total, 30_000);
  const after = await target.server.usage();
  return sampleOf(await target.fleet.collect(), target.fleet.size, total, after.cpuMicros - before.cpuMicros, start, keptUp);
}

/** Peak: `writers` writers publishing back to back (closed loop) for `seconds`; then every delivery is awaited. */
export async function peakRun(target: Target, writers: number, seconds: number): Promise<DeliverySample> {
  await target.fleet.begin(target.filter);
  const before = await target.server.usage();
  const start = Date.now();
  const until = start + seconds * 1000;
  let total = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (Date.now() < until) {
        await target.publish(total++);
      }
    }),
  );
  const keptUp = total / ((Date.now() - start) / 1000);
  await target.fleet.waitAll(total, 60_000);
  const after = await target.server.usage();
  return sampleOf(await target.fleet.collect(), target.fleet.size, total, after.cpuMicros - before.cpuMicros, start, keptUp);
}

/** How many streams the server ended, with the reasons on stderr (a lost delivery needs its cause). */
function endedOf(tally: FleetTally): number {
  const ended = Object.values(tally.ends).reduce((sum, n) => sum + n, 0);
  if (ended > 0) console.error(`streams ended by the server: ${JSON.stringify(tally.ends)}`);
  return ended;
}
