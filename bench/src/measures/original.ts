/**
 * (g) The endpoints the original Osmynt engine (Bun + Hono + Prisma) also has, on PostgreSQL,
 * closed-loop over HTTP: `shares.create` (each request a different envelope, sealed beforehand),
 * the team feed (`shares.listTeam`, first page) and list my teams (`teams.mine`). The original
 * cannot be fetched and run here, so the baseline column is the figure issue 13 records for it on
 * this kind of machine: NOT measured in the same run, and the ratio only a rough guide.
 */
import { call, pool, seedTeam } from "../lib/engine-client.js";
import { httpLoad } from "../lib/load.js";
import type { Measure, Row } from "../lib/measure.js";
import { withPostgresEngine } from "../lib/postgres-engine.js";
import { seedShareTeam } from "../lib/share-team.js";
import { median } from "../lib/stats.js";

const CONNECTIONS = 10;
/** Issue 13's figures for the original engine on a 2-core machine of this kind (req/s). */
const ORIGINAL = { shareCreate: 277, teamFeed: 163, listMyTeams: 169 };
const base = "original engine, issue 13's figure (not this run)";

export const original: Measure = {
  name: "original",
  title: "(g) share create, team feed and list my teams req/s, beside the original engine's recorded figures (PostgreSQL)",
  async run(options) {
    const rows = await withPostgresEngine(options, { poolSize: 10, label: "original" }, async ({ engine }) => {
      const seconds = options.quick ? 3 : 10;
      const creates = options.quick ? 100 : 2000;
      const team = await seedShareTeam(engine.url, 3, 1);
      const mine = await seedTeam(engine.url, 9, "original");
      options.log(`original: sealing ${creates * options.runs} envelopes for 3 recipient devices`);
      const sealed = await pool(
        Array.from({ length: creates * options.runs }, (_, i) => i),
        4,
        () => team.sealOne(),
      );
      const author = { authorization: `Bearer ${team.author.user.token}`, "content-type": "application/json" };
      const reader = { authorization: `Bearer ${team.members[1]?.user.token}` };
      const feedUrl = `${engine.url}/trpc/shares.listTeam?input=${encodeURIComponent(JSON.stringify({ teamId: team.teamId, limit: 50 }))}`;
      const s = { create: [] as number[], feed: [] as number[], mine: [] as number[], createCpu: [] as number[] };
      let next = 0;
      await engine.usage(); // the measured window starts here (--profile)
      for (let r = 0; r < options.runs; r++) {
        options.log(`original: run ${r + 1}/${options.runs}, shares.create`);
        // Engine CPU per create: the figure that load on a shared machine moves least (req/s moves a lot).
        const cpuBefore = await engine.usage();
        const create = await httpLoad({
          url: `${engine.url}/trpc/shares.create`,
          method: "POST",
          connections: CONNECTIONS,
          seconds,
          amount: creates,
          perConnection: () => ({ headers: author, body: JSON.stringify(sealed[next++ % sealed.length]) }),
        });
        if (create.errors > 0) throw new Error(`original: shares.create answered ${create.errors} errors`);
        s.create.push(create.requestsPerSecond);
        s.createCpu.push(((await engine.usage()).cpuMicros - cpuBefore.cpuMicros) / 1000 / creates);
        options.log(`original: run ${r + 1}/${options.runs}, team feed and list my teams`);
        const feed = await httpLoad({ url: feedUrl, connections: CONNECTIONS, seconds, perConnection: () => ({ headers: reader }) });
        const teams = await httpLoad({
          url: `${engine.url}/trpc/teams.mine`,
          connections: CONNECTIONS,
          seconds,
          perConnection: () => ({ headers: { authorization: `Bearer ${mine.owner.token}` } }),
        });
        if (feed.errors + teams.errors > 0) throw new Error("original: team feed or list my teams answered errors");
        s.feed.push(feed.requestsPerSecond);
        s.mine.push(teams.requestsPerSecond);
      }
      const check = await call(engine.url, "shares.listTeam", { teamId: team.teamId, limit: 50 }, team.members[1]?.user.token, "query");
      const note = "target ≥ 3× the original";
      return [
        {
          measure: `share create req/s (${CONNECTIONS} connections, ${creates} creates, 3 recipient devices, PostgreSQL)`,
          engine: median(s.create),
          baseline: ORIGINAL.shareCreate,
          baselineName: base,
          unit: "req/s",
          better: "higher",
          note: `${note}; engine CPU ${median(s.createCpu).toFixed(2)} ms per create`,
        },
        {
          measure: `team feed req/s (shares.listTeam, page of ${check.items.length}, ${CONNECTIONS} connections, ${seconds} s, PostgreSQL)`,
          engine: median(s.feed),
          baseline: ORIGINAL.teamFeed,
          baselineName: base,
          unit: "req/s",
          better: "higher",
          note,
        },
        {
          measure: `list my teams req/s (teams.mine, 4 teams / 13 members, ${CONNECTIONS} connections, ${seconds} s, PostgreSQL)`,
          engine: median(s.mine),
          baseline: ORIGINAL.listMyTeams,
          baselineName: `${base}; 169–260`,
          unit: "req/s",
          better: "higher",
          note,
        },
      ] satisfies Row[];
    });
    return rows ?? [];
  },
};
