/**
 * (b) RPC overhead: `teams.mine` over HTTP on PostgreSQL against a bare Fastify route doing the
 * same work (token check, same query function, byte-identical JSON), closed-loop load from this
 * process, both servers on the same fresh database.
 */
import { freshDatabase, postgresReachable } from "../lib/database.js";
import { call, seedTeam } from "../lib/engine-client.js";
import { httpLoad, type LoadResult } from "../lib/load.js";
import type { Measure, Row } from "../lib/measure.js";
import { startServerProcess } from "../lib/processes.js";
import { medianOf, sleep } from "../lib/stats.js";

export const BENCH_JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123456789";

export const rpc: Measure = {
  name: "rpc",
  title: "(b) teams.mine over HTTP vs a raw Fastify route (PostgreSQL)",
  async run(options) {
    if (!(await postgresReachable(options.databaseUrl))) {
      options.log(`skipped: no PostgreSQL at ${options.databaseUrl} (BENCH_DATABASE_URL)`);
      return [];
    }
    const database = await freshDatabase(options.databaseUrl);
    const env = { DATABASE_URL: database.url, JWT_SECRET: BENCH_JWT_SECRET, DATABASE_POOL_SIZE: "10" };
    const engine = await startServerProcess("engine", env);
    const raw = await startServerProcess("raw-fastify", env);
    try {
      // The caller: their personal team, one team of 10, and two more teams of their own.
      const seeded = await seedTeam(engine.url, 9, "rpc");
      for (const name of ["second", "third"]) await call(engine.url, "teams.create", { name }, seeded.owner.token);
      const headers = { authorization: `Bearer ${seeded.owner.token}` };
      const engineUrl = `${engine.url}/trpc/teams.mine`;
      const rawUrl = `${raw.url}/raw/teams.mine`;
      const [a, b] = await Promise.all([engineUrl, rawUrl].map((u) => fetch(u, { headers }).then((r) => r.text())));
      const identical = a === b;
      if (!identical) options.log(`note: answers differ\n     engine ${a?.slice(0, 200)}\n     raw    ${b?.slice(0, 200)}`);
      const connections = 10;
      const seconds = options.quick ? 3 : 10;
      const samples: Record<"engine" | "raw", LoadResult[]> = { engine: [], raw: [] };
      for (let r = 0; r < options.runs; r++) {
        const order: ("engine" | "raw")[] = r % 2 === 0 ? ["engine", "raw"] : ["raw", "engine"];
        for (const side of order) {
          options.log(`rpc: run ${r + 1}/${options.runs}, ${side}`);
          const result = await httpLoad({
            url: side === "engine" ? engineUrl : rawUrl,
            connections,
            seconds,
            perConnection: () => ({ headers }),
          });
          if (result.errors > 0) throw new Error(`rpc: ${side} answered ${result.errors} requests with errors`);
          samples[side].push(result);
          await sleep(300);
        }
      }
      const e = medianOf(samples.engine as any) as unknown as LoadResult;
      const b2 = medianOf(samples.raw as any) as unknown as LoadResult;
      const setting = `${connections} connections, ${seconds} s, PostgreSQL, 4 teams / 13 members`;
      const base = "raw Fastify route";
      const note = identical ? "byte-identical answers" : "answers differ (see log)";
      return [
        {
          measure: `teams.mine req/s (${setting})`,
          engine: e.requestsPerSecond,
          baseline: b2.requestsPerSecond,
          baselineName: base,
          unit: "req/s",
          better: "higher",
          note,
        },
        {
          measure: `teams.mine latency p99 (${setting})`,
          engine: e.p99,
          baseline: b2.p99,
          baselineName: base,
          unit: "ms",
          better: "lower",
        },
      ] satisfies Row[];
    } finally {
      await engine.stop();
      await raw.stop();
      await database.drop();
    }
  },
};
