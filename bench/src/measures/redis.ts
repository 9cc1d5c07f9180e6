/**
 * (a4) Two instances over Redis (PostgreSQL): N members of one team subscribed on instance B,
 * the team renamed K times a second through instance A (the event crosses Redis to B's hub),
 * against the same renames through B itself (one instance), same subscribers, same run,
 * interleaved. The figure is what the second instance adds to delivery latency.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { call } from "../lib/engine-client.js";
import { type DeliverySample, seedFanoutTeam, steadyRun, type Target } from "../lib/fanout-targets.js";
import { openFleet } from "../lib/fleet.js";
import type { Measure, Row } from "../lib/measure.js";
import { withPostgresEngine } from "../lib/postgres-engine.js";
import { startServerProcess } from "../lib/processes.js";
import { medianOf, sleep } from "../lib/stats.js";

const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Whether Redis answers PING at `url` (the measure says so instead of failing obscurely). */
async function redisReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(String(data).startsWith("+PONG")));
  });
}

export const redis: Measure = {
  name: "redis",
  title: "(a4) two instances via Redis: subscribers on B, writes on A vs on B (PostgreSQL)",
  async run(options) {
    if (!(await redisReachable(redisUrl))) {
      options.log(`skipped: no Redis at ${redisUrl} (BENCH_REDIS_URL)`);
      return [];
    }
    const n = options.quick ? 50 : 1000;
    const rate = 20;
    const seconds = options.quick ? 3 : 15;
    // A prefix of its own, so other users of this Redis neither wake nor are woken by the run.
    const env = { REDIS_URL: redisUrl, REDIS_CHANNEL_PREFIX: `osmynt-bench-${randomBytes(4).toString("hex")}` };
    const rows = await withPostgresEngine(options, { poolSize: 10, env, label: "redis-A" }, async ({ engine: a, env: fullEnv }) => {
      const b = await startServerProcess("engine", fullEnv, "redis-B");
      try {
        options.log(`redis: seeding ${n} members, subscribing them on instance B`);
        const team = await seedFanoutTeam(a, n, "redis");
        const fleet = await openFleet(`${b.url.replace("http", "ws")}/trpc`, team.memberTokens);
        const through = (writer: typeof a, name: "engine" | "raw ws"): Target => ({
          name,
          server: b,
          fleet,
          filter: { type: "team.renamed", teamId: team.teamId },
          publish: async (i) => {
            await call(writer.url, "teams.rename", { teamId: team.teamId, name: `renamed ${i}` }, team.ownerToken);
          },
          close: async () => {},
        });
        const twoInstances = through(a, "engine");
        const oneInstance = through(b, "raw ws");
        try {
          const samples = { two: [] as DeliverySample[], one: [] as DeliverySample[] };
          for (let r = 0; r < options.runs; r++) {
            for (const target of r % 2 === 0 ? [twoInstances, oneInstance] : [oneInstance, twoInstances]) {
              const side = target === twoInstances ? "two" : "one";
              options.log(`redis: run ${r + 1}/${options.runs}, writes on ${side === "two" ? "A" : "B"}`);
              samples[side].push(await steadyRun(target, rate, seconds));
              await sleep(300);
            }
          }
          const e = medianOf(samples.two);
          const o = medianOf(samples.one);
          const setting = `${n} subscribers on B, ${rate} events/s, ${seconds} s, PostgreSQL + Redis`;
          const base = "writes on B (one instance)";
          return [
            {
              measure: `latency p50, writes on A (${setting})`,
              engine: e.p50,
              baseline: o.p50,
              baselineName: base,
              unit: "ms",
              better: "lower",
            },
            {
              measure: `latency p99, writes on A (${setting})`,
              engine: e.p99,
              baseline: o.p99,
              baselineName: base,
              unit: "ms",
              better: "lower",
              note: `added: ${(e.p99 - o.p99).toFixed(1)} ms (target ≤ 5)`,
            },
            {
              measure: `lost, writes on A (${setting})`,
              engine: e.lost,
              baseline: o.lost,
              baselineName: base,
              unit: "deliveries",
              better: "lower",
            },
            {
              measure: `streams ended by the server, writes on A (${setting})`,
              engine: e.ended,
              baseline: o.ended,
              baselineName: base,
              unit: "streams",
              better: "lower",
            },
            {
              measure: `duplicated, writes on A (${setting})`,
              engine: e.duplicated,
              baseline: o.duplicated,
              baselineName: base,
              unit: "deliveries",
              better: "lower",
            },
            {
              measure: `B's CPU per delivery, writes on A (${setting})`,
              engine: e.cpuPerDelivery,
              baseline: o.cpuPerDelivery,
              baselineName: base,
              unit: "µs",
              better: "lower",
              note: "baseline includes the writes B serves itself",
            },
          ] satisfies Row[];
        } finally {
          await fleet.close();
        }
      } finally {
        await b.stop();
      }
    });
    return rows ?? [];
  },
};
