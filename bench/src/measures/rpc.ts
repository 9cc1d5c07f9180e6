/**
 * (b) RPC overhead on PostgreSQL: `teams.mine` and `shares.listTeam` (first page of 50) over HTTP,
 * each against a bare Fastify route doing the same work (token check, same query functions,
 * byte-identical JSON), closed-loop load from this process, both servers on the same fresh database.
 */
import { call, pool, seedTeam } from "../lib/engine-client.js";
import { httpLoad, type LoadResult } from "../lib/load.js";
import type { Measure, Row } from "../lib/measure.js";
import { withPostgresEngine } from "../lib/postgres-engine.js";
import { startServerProcess } from "../lib/processes.js";
import { seedShareTeam } from "../lib/share-team.js";
import { medianOf, sleep } from "../lib/stats.js";

const CONNECTIONS = 10;
const PAGE = 50;

interface Endpoint {
  name: string;
  setting: string;
  engineUrl: string;
  rawUrl: string;
  headers: Record<string, string>;
}

export const rpc: Measure = {
  name: "rpc",
  title: "(b) teams.mine and shares.listTeam over HTTP vs raw Fastify routes (PostgreSQL)",
  async run(options) {
    const rows = await withPostgresEngine(options, { poolSize: 10, label: "rpc" }, async ({ engine, env }) => {
      const raw = await startServerProcess("raw-fastify", env);
      try {
        // teams.mine's caller: their personal team, one team of 10, and two more teams of their own.
        const seeded = await seedTeam(engine.url, 9, "rpc");
        for (const name of ["second", "third"]) await call(engine.url, "teams.create", { name }, seeded.owner.token);
        // shares.listTeam's caller: a member (not the author) of a team with more than a page of shares.
        const shareTeam = await seedShareTeam(engine.url, 3, 1);
        const shareCount = options.quick ? PAGE + 10 : 200;
        options.log(`rpc: creating ${shareCount} shares`);
        await pool(
          Array.from({ length: shareCount }, (_, i) => i),
          4,
          async () => call(engine.url, "shares.create", await shareTeam.sealOne(), shareTeam.author.user.token),
        );
        const reader = shareTeam.members[1]?.user.token as string;
        const listInput = { teamId: shareTeam.teamId, limit: PAGE };
        const endpoints: Endpoint[] = [
          {
            name: "teams.mine",
            setting: "4 teams / 13 members",
            engineUrl: `${engine.url}/trpc/teams.mine`,
            rawUrl: `${raw.url}/raw/teams.mine`,
            headers: { authorization: `Bearer ${seeded.owner.token}` },
          },
          {
            name: "shares.listTeam",
            setting: `first page of ${PAGE}, feed of ${shareCount}`,
            engineUrl: `${engine.url}/trpc/shares.listTeam?input=${encodeURIComponent(JSON.stringify(listInput))}`,
            rawUrl: `${raw.url}/raw/shares.listTeam?teamId=${shareTeam.teamId}&limit=${PAGE}`,
            headers: { authorization: `Bearer ${reader}` },
          },
        ];
        const seconds = options.quick ? 3 : 10;
        await engine.usage(); // the measured window starts here (--profile)
        const out: Row[] = [];
        for (const endpoint of endpoints) {
          const { headers } = endpoint;
          const [a, b] = await Promise.all([endpoint.engineUrl, endpoint.rawUrl].map((u) => fetch(u, { headers }).then((r) => r.text())));
          const identical = a === b;
          if (!identical)
            options.log(`note: ${endpoint.name} answers differ\n     engine ${a?.slice(0, 300)}\n     raw    ${b?.slice(0, 300)}`);
          const samples: Record<"engine" | "raw", LoadResult[]> = { engine: [], raw: [] };
          for (let r = 0; r < options.runs; r++) {
            const order: ("engine" | "raw")[] = r % 2 === 0 ? ["engine", "raw"] : ["raw", "engine"];
            for (const side of order) {
              options.log(`rpc: ${endpoint.name} run ${r + 1}/${options.runs}, ${side}`);
              const url = side === "engine" ? endpoint.engineUrl : endpoint.rawUrl;
              const result = await httpLoad({ url, connections: CONNECTIONS, seconds, perConnection: () => ({ headers }) });
              if (result.errors > 0) throw new Error(`rpc: ${endpoint.name} on ${side} answered ${result.errors} requests with errors`);
              samples[side].push(result);
              await sleep(300);
            }
          }
          const e = medianOf(samples.engine);
          const b2 = medianOf(samples.raw);
          const setting = `${CONNECTIONS} connections, ${seconds} s, PostgreSQL, ${endpoint.setting}`;
          const base = "raw Fastify route";
          out.push(
            {
              measure: `${endpoint.name} req/s (${setting})`,
              engine: e.requestsPerSecond,
              baseline: b2.requestsPerSecond,
              baselineName: base,
              unit: "req/s",
              better: "higher",
              note: identical ? "byte-identical answers" : "answers differ (see log)",
            },
            {
              measure: `${endpoint.name} latency p99 (${setting})`,
              engine: e.p99,
              baseline: b2.p99,
              baselineName: base,
              unit: "ms",
              better: "lower",
            },
          );
        }
        return out;
      } finally {
        await raw.stop();
      }
    });
    return rows ?? [];
  },
};
