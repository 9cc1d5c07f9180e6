/**
 * (c) Event writes at 50 concurrent writers on PostgreSQL, two ways:
 * - over HTTP: `teams.rename` (writes a `team.renamed` event) against `teams.invites.create`
 *   (the same shape of work — lock the team, one write, one audit row — and no event), each of the
 *   50 connections its own user renaming its own team, so only the event log is shared;
 * - at the database: one event row a transaction through `recordEvents` (the writers' path,
 *   with whatever ordering it enforces) against a plain insert of the same row.
 */
import { createDb, recordEvents, schema } from "@osmynt/db";
import { sql } from "drizzle-orm";
import { call, pool, signUp } from "../lib/engine-client.js";
import { httpLoad } from "../lib/load.js";
import type { Measure, Row } from "../lib/measure.js";
import { withPostgresEngine } from "../lib/postgres-engine.js";
import { median, sleep } from "../lib/stats.js";

const WRITERS = 50;
const OLD_GLOBAL_LOCK_KEY = 0x6576656e7473;

export const writes: Measure = {
  name: "writes",
  title: "(c) event-writing mutation vs one without events, 50 writers (PostgreSQL)",
  async run(options) {
    // PostgreSQL's 100 connections are shared: the engine gets 20 (its HTTP writers queue for
    // them, as in production) and is stopped before the database-level runs open 50.
    const rows = await withPostgresEngine(options, { poolSize: 20, label: "writes" }, async ({ engine, database }) => {
      let direct: Awaited<ReturnType<typeof createDb>> | undefined;
      const seconds = options.quick ? 3 : 10;
      try {
        const writers = await pool(
          Array.from({ length: WRITERS }, (_, i) => i),
          8,
          async (i) => {
            const user = await signUp(engine.url, `writer-${i}`);
            const team = await call(engine.url, "teams.create", { name: `writer ${i}` }, user.token);
            return { token: user.token, teamId: team.id as string };
          },
        );
        const http = (path: string, body: (teamId: string, n: number) => unknown) =>
          httpLoad({
            url: `${engine.url}/trpc/${path}`,
            method: "POST",
            connections: WRITERS,
            seconds,
            perConnection: (c, n) => {
              const w = writers[c % WRITERS] as { token: string; teamId: string };
              return {
                headers: { authorization: `Bearer ${w.token}`, "content-type": "application/json" },
                body: JSON.stringify(body(w.teamId, n)),
              };
            },
          });
        const insertLoop = async (path: "recordEvents" | "globalLock" | "plain") => {
          let count = 0;
          const until = Date.now() + seconds * 1000;
          await Promise.all(
            Array.from({ length: WRITERS }, async (_, w) => {
              while (Date.now() < until) {
                const row = { type: "bench.write", teamId: null, userId: null, payload: { w } };
                await direct?.db.transaction(async (tx) => {
                  if (path === "recordEvents") await recordEvents(tx, [row]);
                  else {
                    // The writers' path before the visibility horizon: one lock for every writer, held to commit.
                    if (path === "globalLock") await tx.execute(sql`select pg_advisory_xact_lock(${OLD_GLOBAL_LOCK_KEY})`);
                    await tx.insert(schema.events).values(row).returning();
                  }
                });
                count++;
              }
            }),
          );
          return count / seconds;
        };
        const s = {
          rename: [] as number[],
          invite: [] as number[],
          logged: [] as number[],
          plain: [] as number[],
          globalLock: [] as number[],
          renameP99: [] as number[],
          inviteP99: [] as number[],
          renameCpu: [] as number[],
          inviteCpu: [] as number[],
        };
        /** The engine's own CPU per answered request over a load step and its tail (the hub's read after the last commit). */
        const measured = async (load: () => ReturnType<typeof http>) => {
          const before = await engine.usage();
          const result = await load();
          await sleep(300);
          const after = await engine.usage();
          return { ...result, cpu: (after.cpuMicros - before.cpuMicros) / Math.max(1, result.requests) };
        };
        await engine.usage(); // the measured window starts here (--profile)
        for (let r = 0; r < options.runs; r++) {
          const flip = r % 2 === 1;
          const steps: (() => Promise<void>)[] = [
            async () => {
              const x = await measured(() => http("teams.rename", (teamId, n) => ({ teamId, name: `renamed ${n}` })));
              s.renameCpu.push(x.cpu);
              if (x.errors > 0) throw new Error(`writes: teams.rename answered ${x.errors} errors`);
              s.rename.push(x.requestsPerSecond);
              s.renameP99.push(x.p99);
            },
            async () => {
              const x = await measured(() => http("teams.invites.create", (teamId) => ({ teamId })));
              s.inviteCpu.push(x.cpu);
              if (x.errors > 0) throw new Error(`writes: teams.invites.create answered ${x.errors} errors`);
              s.invite.push(x.requestsPerSecond);
              s.inviteP99.push(x.p99);
            },
          ];
          for (const step of flip ? [...steps].reverse() : steps) {
            options.log(`writes: HTTP run ${r + 1}/${options.runs}`);
            await step();
          }
        }
        await engine.stop();
        direct = await createDb({ url: database.url, maxConnections: WRITERS });
        // Open all 50 connections before timing anything (the first path measured would pay for them).
        await Promise.all(Array.from({ length: WRITERS }, () => direct?.db.execute(sql`select pg_sleep(0.2)`)));
        for (let r = 0; r < options.runs; r++) {
          const dbSteps = [
            async () => void s.logged.push(await insertLoop("recordEvents")),
            async () => void s.plain.push(await insertLoop("plain")),
            async () => void s.globalLock.push(await insertLoop("globalLock")),
          ];
          options.log(`writes: database run ${r + 1}/${options.runs}`);
          for (const step of r % 2 === 1 ? [...dbSteps].reverse() : dbSteps) {
            await step();
            await sleep(300);
          }
        }
        const setting = `${WRITERS} writers, ${seconds} s, PostgreSQL`;
        return [
          {
            measure: `teams.rename (writes an event) req/s (${setting})`,
            engine: median(s.rename),
            baseline: median(s.invite),
            baselineName: "teams.invites.create, no event",
            unit: "req/s",
            better: "higher",
          },
          {
            measure: `teams.rename latency p99 (${setting})`,
            engine: median(s.renameP99),
            baseline: median(s.inviteP99),
            baselineName: "teams.invites.create, no event",
            unit: "ms",
            better: "lower",
          },
          {
            measure: `teams.rename server CPU per request (${setting})`,
            engine: median(s.renameCpu),
            baseline: median(s.inviteCpu),
            baselineName: "teams.invites.create, no event",
            unit: "µs",
            better: "lower",
            note: "the engine process's own CPU, the hub's reads included; steadier than req/s on a loaded machine",
          },
          {
            measure: `event row through recordEvents, tx/s (${setting})`,
            engine: median(s.logged),
            baseline: median(s.plain),
            baselineName: "plain insert of the same row, returning it",
            unit: "tx/s",
            better: "higher",
          },
          {
            measure: `event row with the old global advisory lock, tx/s (${setting})`,
            engine: median(s.globalLock),
            baseline: median(s.plain),
            baselineName: "plain insert of the same row, returning it",
            unit: "tx/s",
            better: "higher",
            note: "the writers' path before the visibility horizon, for comparison",
          },
        ] satisfies Row[];
      } finally {
        await direct?.close();
      }
    });
    return rows ?? [];
  },
};
