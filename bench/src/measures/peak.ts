/**
 * (a2) Peak deliveries a second on one instance: N members of one team subscribed, writers
 * renaming the team back to back (closed loop), against the raw `ws` server broadcasting back to
 * back to N sockets. Deliveries a second are the distinct deliveries from the first write to the
 * last receipt; every event is awaited on every subscriber, so nothing dropped is counted.
 */
import { type DeliverySample, engineTarget, peakRun, rawTarget, seedFanoutTeam } from "../lib/fanout-targets.js";
import type { Measure, MeasureOptions, Row } from "../lib/measure.js";
import { withEngine } from "../lib/postgres-engine.js";
import { medianOf, sleep } from "../lib/stats.js";

const WRITERS = 4;

async function peakOn(backend: "embedded" | "postgres", options: MeasureOptions): Promise<Row[]> {
  const n = options.quick ? 50 : 1000;
  const seconds = options.quick ? 3 : 10;
  const rows = await withEngine(options, { backend, label: `peak-${backend}` }, async ({ engine: server }) => {
    options.log(`peak/${backend}: seeding ${n} members and connecting them`);
    const team = await seedFanoutTeam(server, n, "peak");
    const engine = await engineTarget(team, server);
    const raw = await rawTarget(n);
    try {
      const samples = { engine: [] as DeliverySample[], raw: [] as DeliverySample[] };
      for (let r = 0; r < options.runs; r++) {
        for (const target of r % 2 === 0 ? [engine, raw] : [raw, engine]) {
          options.log(`peak/${backend}: run ${r + 1}/${options.runs}, ${target.name}`);
          samples[target === engine ? "engine" : "raw"].push(await peakRun(target, WRITERS, seconds));
          await sleep(500);
        }
      }
      const e = medianOf(samples.engine);
      const b = medianOf(samples.raw);
      const setting = `${n} subscribers, ${WRITERS} writers back to back, ${seconds} s, ${backend}`;
      const base = "raw ws broadcast";
      return [
        {
          measure: `peak deliveries/s, one instance (${setting})`,
          engine: e.deliveriesPerSecond,
          baseline: b.deliveriesPerSecond,
          baselineName: base,
          unit: "deliveries/s",
          better: "higher",
          note: `events/s written: ${e.keptUp.toFixed(0)} vs ${b.keptUp.toFixed(0)}; lost ${e.lost}, duplicated ${e.duplicated}`,
        },
        {
          measure: `peak server CPU per delivery (${setting})`,
          engine: e.cpuPerDelivery,
          baseline: b.cpuPerDelivery,
          baselineName: base,
          unit: "µs",
          better: "lower",
        },
        { measure: `peak latency p99 (${setting})`, engine: e.p99, baseline: b.p99, baselineName: base, unit: "ms", better: "lower" },
      ] satisfies Row[];
    } finally {
      await engine.close();
      await raw.close();
    }
  });
  return rows ?? [];
}

export const peak: Measure = {
  name: "peak",
  title: "(a2) peak deliveries/s on one instance vs a raw ws broadcast",
  async run(options) {
    const rows = await peakOn("embedded", options);
    if (!options.quick) rows.push(...(await peakOn("postgres", options)));
    return rows;
  },
};
