/**
 * (a) Fan-out: N members of one team subscribed (in client processes of their own), the owner
 * renaming the team K times a second (each a `team.renamed` event to the whole team), against a
 * raw `ws` server broadcasting K events a second to N sockets. Latency is receipt time minus the
 * event's `createdAt` (the writing transaction's start on the engine, the broadcast on the
 * baseline; one clock, one machine). Server CPU per delivery is the server process's own
 * cpuUsage over the run divided by the distinct deliveries. Embedded and PostgreSQL.
 */
import { freshDatabase, postgresReachable } from "../lib/database.js";
import { type DeliverySample, engineTarget, rawTarget, seedFanoutTeam, steadyRun } from "../lib/fanout-targets.js";
import type { Measure, MeasureOptions, Row } from "../lib/measure.js";
import { startServerProcess } from "../lib/processes.js";
import { medianOf, sleep } from "../lib/stats.js";
import { checkAgainstTrpcClient } from "../lib/wire-check.js";

async function fanoutOn(backend: "embedded" | "postgres", options: MeasureOptions): Promise<Row[]> {
  const n = options.quick ? 50 : 1000;
  const rate = 20;
  const seconds = options.quick ? 3 : 15;
  const database = backend === "postgres" ? await freshDatabase(options.databaseUrl) : null;
  const server = await startServerProcess(
    "engine",
    database ? { DATABASE_URL: database.url, DATABASE_POOL_SIZE: "10" } : {},
    `fanout-${backend}`,
  );
  try {
    options.log(`fanout/${backend}: seeding ${n} members and connecting them`);
    const team = await seedFanoutTeam(server, n, "fanout");
    const engine = await engineTarget(team, server);
    const raw = await rawTarget(n);
    try {
      if (!(await checkAgainstTrpcClient(engine, team.memberTokens[0] as string)))
        throw new Error("fanout: @trpc/client's wsLink did not see the events the hand-written protocol client saw");
      await sleep(500);
      const samples = { engine: [] as DeliverySample[], raw: [] as DeliverySample[] };
      for (let r = 0; r < options.runs; r++) {
        for (const target of r % 2 === 0 ? [engine, raw] : [raw, engine]) {
          options.log(`fanout/${backend}: run ${r + 1}/${options.runs}, ${target.name}`);
          samples[target === engine ? "engine" : "raw"].push(await steadyRun(target, rate, seconds));
          await sleep(300);
        }
      }
      const e = medianOf(samples.engine);
      const b = medianOf(samples.raw);
      const setting = `${n} subscribers, ${rate} events/s, ${seconds} s, ${backend}`;
      const base = "raw ws broadcast";
      const row = (what: string, key: keyof DeliverySample, unit: string, better: "higher" | "lower", note?: string): Row => ({
        measure: `fan-out ${what} (${setting})`,
        engine: e[key],
        baseline: b[key],
        baselineName: base,
        unit,
        better,
        ...(note ? { note } : {}),
      });
      return [
        row("latency p50", "p50", "ms", "lower", "wire checked against @trpc/client wsLink"),
        row("latency p99", "p99", "ms", "lower"),
        row("lost", "lost", "deliveries", "lower"),
        row("duplicated", "duplicated", "deliveries", "lower"),
        row("streams ended by the server", "ended", "streams", "lower"),
        row("server CPU per delivery", "cpuPerDelivery", "µs", "lower"),
        row("events/s kept up", "keptUp", "events/s", "higher"),
      ];
    } finally {
      await engine.close();
      await raw.close();
    }
  } finally {
    await server.stop();
    await database?.drop();
  }
}

export const fanout: Measure = {
  name: "fanout",
  title: "(a) fan-out to one team's subscribers vs a raw ws broadcast (embedded and PostgreSQL)",
  async run(options) {
    const rows = await fanoutOn("embedded", options);
    // --quick keeps CI short: the PostgreSQL side runs at full size only.
    if (!options.quick && (await postgresReachable(options.databaseUrl))) rows.push(...(await fanoutOn("postgres", options)));
    return rows;
  },
};
