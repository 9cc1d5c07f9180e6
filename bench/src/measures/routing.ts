/**
 * (a3) Audience routing: the same N subscribers, each the only member of a team of their own
 * and all members of one team of N. Events are written straight into the log by the engine
 * process (`inject`: one transaction, announced on the bus, as a mutation does, without HTTP):
 * a round is one event to each of the N one-member teams (N events, 1 delivery each) or one event
 * to the team of N (1 event, N deliveries). If the hub routes each event only to its audience,
 * a delivery costs the same either way (plus the log's per-row work); if every event went to
 * every subscription to be filtered, the N one-member teams would cost ~N times more.
 */
import { call, pool } from "../lib/engine-client.js";
import { seedFanoutTeam } from "../lib/fanout-targets.js";
import { openFleet } from "../lib/fleet.js";
import type { Measure, Row } from "../lib/measure.js";
import { withEngine } from "../lib/postgres-engine.js";
import { median, sleep } from "../lib/stats.js";

export const routing: Measure = {
  name: "routing",
  title: "(a3) audience routing: N teams of 1 member vs 1 team of N, server CPU per delivery (embedded)",
  async run(options) {
    const n = options.quick ? 50 : 1000;
    const rounds = options.quick ? 2 : 10;
    const rows = await withEngine(options, { backend: "embedded", label: "routing" }, async ({ engine }) => {
      options.log(`routing: seeding ${n} members, each with a team of their own`);
      const team = await seedFanoutTeam(engine, n, "routing");
      const soloTeams = await pool(
        team.memberTokens,
        8,
        async (token, i) => (await call(engine.url, "teams.create", { name: `solo ${i}` }, token)).id as string,
      );
      // Teams nobody subscribed to is in (the owner is in them, unsubscribed): their events cost the log's work and nothing else.
      const unheardTeams = await pool(
        soloTeams,
        8,
        async (_, i) => (await call(engine.url, "teams.create", { name: `unheard ${i}` }, team.ownerToken)).id as string,
      );
      const fleet = await openFleet(`${engine.url.replace("http", "ws")}/trpc`, team.memberTokens);
      try {
        const perDelivery = { solo: [] as number[], shared: [] as number[] };
        /** Server CPU per event of the log's own work (write, announce, read), with no audience. */
        const logPerEvent: number[] = [];
        const unheard = async () => {
          const before = await engine.usage();
          for (let r = 0; r < rounds; r++) await engine.request("inject", { teamIds: unheardTeams });
          await sleep(1000);
          const after = await engine.usage();
          logPerEvent.push((after.cpuMicros - before.cpuMicros) / (n * rounds));
        };
        const round = async (layout: "solo" | "shared") => {
          await fleet.begin({ type: "team.renamed" });
          const before = await engine.usage();
          for (let r = 0; r < rounds; r++) await engine.request("inject", { teamIds: layout === "solo" ? soloTeams : [team.teamId] });
          if (!(await fleet.waitAll(rounds, 60_000))) throw new Error(`routing: ${layout} events did not all arrive`);
          const after = await engine.usage();
          const tally = await fleet.collect();
          if (tally.unique !== n * rounds || tally.receipts !== tally.unique)
            throw new Error(`routing: ${layout} delivered ${tally.receipts} (${tally.unique} distinct), expected ${n * rounds}`);
          perDelivery[layout].push((after.cpuMicros - before.cpuMicros) / tally.unique);
        };
        for (let r = 0; r < options.runs; r++) {
          for (const layout of r % 2 === 0 ? (["solo", "shared"] as const) : (["shared", "solo"] as const)) {
            options.log(`routing: run ${r + 1}/${options.runs}, ${layout}`);
            await round(layout);
            await sleep(300);
          }
          options.log(`routing: run ${r + 1}/${options.runs}, events to teams nobody listens to`);
          await unheard();
        }
        const log = median(logPerEvent);
        const solo = median(perDelivery.solo);
        const shared = median(perDelivery.shared);
        return [
          {
            measure: `server CPU per delivery, ${n} teams of 1 member vs 1 team of ${n} (${n} subscribers, ${rounds} rounds, embedded)`,
            engine: solo,
            baseline: shared,
            baselineName: `1 team of ${n}: 1 event, ${n} deliveries`,
            unit: "µs",
            better: "lower",
            note: `engine side: ${n} events, 1 delivery each (includes writing and reading ${n}× the log rows)`,
          },
          {
            measure: `same, the log's per-event work taken out (${log.toFixed(0)} µs an event with no audience, measured in the run)`,
            engine: solo - log,
            baseline: shared - log / n,
            baselineName: `1 team of ${n}`,
            unit: "µs",
            better: "lower",
            note: "what routing and delivery cost; ≈ 1.0 when each event reaches only its audience",
          },
        ] satisfies Row[];
      } finally {
        await fleet.close();
      }
    });
    return rows ?? [];
  },
};
