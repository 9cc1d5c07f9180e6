/**
 * (f) Shares on PostgreSQL, each against the raw database work it stands for, measured in the
 * same run, interleaved (engine batch, raw batch, then the other way round):
 * - `shares.create` of a team share sealed for 10 recipient devices (5 users × 2 devices), over
 *   HTTP, one call at a time: validation, the crypto core's envelope and signature checks, the
 *   exact-recipient-set query, and one transaction (share row, 10 wrapped keys, audit row, event
 *   row under the event writers' lock); against a raw postgres.js transaction inserting the same
 *   rows (share, 10 wraps, audit, event) with none of the checks. Envelopes are sealed beforehand:
 *   client-side crypto is not in either figure (`pnpm bench:crypto` has it).
 * - feed paging: `shares.listTeam` pages of 50 over HTTP (the first page and the one after it);
 *   against the very SQL text and parameters the query function sends (captured from drizzle),
 *   run raw on postgres.js.
 * Latency medians and p99 of every call of the runs; asserts nothing.
 */
import { listTeamShares, schema } from "@osmynt/db";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { call, pool } from "../lib/engine-client.js";
import type { Measure, Row } from "../lib/measure.js";
import { withPostgresEngine } from "../lib/postgres-engine.js";
import { newShareId, type SealedShare, seedShareTeam } from "../lib/share-team.js";
import { median, percentile, sleep } from "../lib/stats.js";

const USERS = 5;
const DEVICES_PER_USER = 2;
const PAGE = 50;
/** Shares in the feed that is paged. */
const FEED = 500;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export const shares: Measure = {
  name: "shares",
  title: "(f) shares.create (10 recipient devices) and feed paging vs the raw SQL (PostgreSQL)",
  async run(options) {
    const rows = await withPostgresEngine(options, { poolSize: 5, label: "shares" }, async ({ engine, database }) => {
      const raw = postgres(database.url, { max: 1, onnotice: () => {} });
      const perBatch = options.quick ? 10 : 30;
      try {
        const team = await seedShareTeam(engine.url, USERS, DEVICES_PER_USER);
        const { author, members } = team;
        const sealOne = team.sealOne;
        const wrapsPerShare = (await sealOne()).recipients.length;
        options.log(
          `shares: ${USERS} users × ${DEVICES_PER_USER} devices, ${wrapsPerShare} wrapped keys a share; sealing ${perBatch * options.runs} envelopes`,
        );
        const envelopes = await pool(
          Array.from({ length: perBatch * options.runs }, (_, i) => i),
          4,
          () => sealOne(),
        );

        // The raw side of shares.create: the same rows in one transaction, without any check.
        const rawCreate = async (input: SealedShare) => {
          const id = newShareId();
          const e = input.envelope;
          await raw.begin(async (tx) => {
            await tx`insert into shares (id, team_id, author_id, author_device_id, suite, nonce, ciphertext, manifest, signature, ciphertext_bytes)
            values (${id}, ${team.teamId}, ${author.user.id}, ${team.authorDeviceId}, ${e.suite}, ${e.nonce}, ${e.ciphertext},
                    ${tx.json(e.manifest as never)}, ${e.signature}, ${e.manifest.ciphertextLength})`;
            await tx`insert into share_recipients ${tx(
              input.recipients.map((w) => ({
                share_id: id,
                user_id: w.userId,
                device_id: w.deviceId,
                kem_key_id: w.kemKeyId,
                enc: w.enc,
                wrapped_key: w.wrappedKey,
              })),
            )}`;
            await tx`insert into audit_log (team_id, actor_id, action, target_type, target_id, metadata)
            values (${team.teamId}, ${author.user.id}, 'share.created', 'share', ${id}, ${tx.json({ recipients: input.recipients.length })})`;
            await tx`insert into events (type, team_id, user_id, payload)
            values ('share.created', ${team.teamId}, ${null}, ${tx.json({ shareId: id, teamId: team.teamId, authorId: author.user.id })})`;
          });
        };

        await engine.usage(); // the measured window starts here (--profile)
        const created = { engine: [] as number[], raw: [] as number[] };
        let next = 0;
        for (let r = 0; r < options.runs; r++) {
          const batch = envelopes.slice(next, next + perBatch);
          next += perBatch;
          const steps = [
            async () => {
              for (const input of batch)
                created.engine.push(await timed(() => call(engine.url, "shares.create", input, author.user.token)));
            },
            async () => {
              for (const input of batch) created.raw.push(await timed(() => rawCreate(input)));
            },
          ];
          options.log(`shares: create run ${r + 1}/${options.runs}`);
          for (const step of r % 2 === 1 ? [...steps].reverse() : steps) {
            await step();
            await sleep(200);
          }
        }

        // Feed paging, on a feed of FEED shares: those created above (engine and raw alike), topped
        // up with raw inserts of the same envelopes under new ids.
        for (let i = next * 2; i < FEED; i++) await rawCreate(envelopes[i % envelopes.length] as (typeof envelopes)[number]);
        const reader = members[1] as (typeof members)[number];
        const capture: { query: string; params: unknown[] }[] = [];
        const capturing = postgres(database.url, { max: 1, onnotice: () => {} });
        const logged = drizzle(capturing, { schema, logger: { logQuery: (query, params) => void capture.push({ query, params }) } });
        const first = await listTeamShares(logged as never, { teamId: team.teamId, userId: reader.user.id, cursor: null, limit: PAGE });
        const secondCursor = Number(first.nextCursor);
        await listTeamShares(logged as never, { teamId: team.teamId, userId: reader.user.id, cursor: secondCursor, limit: PAGE });
        await capturing.end({ timeout: 5 });
        const [firstSql, secondSql] = capture as [(typeof capture)[number], (typeof capture)[number]];
        const engineInputs = [
          { teamId: team.teamId, limit: PAGE },
          { teamId: team.teamId, limit: PAGE, cursor: String(secondCursor) },
        ];
        const pages = { engine: [] as number[], raw: [] as number[] };
        const pageCalls = options.quick ? 20 : 50;
        for (let r = 0; r < options.runs; r++) {
          const steps = [
            async () => {
              for (let i = 0; i < pageCalls; i++)
                pages.engine.push(await timed(() => call(engine.url, "shares.listTeam", engineInputs[i % 2], reader.user.token, "query")));
            },
            async () => {
              for (let i = 0; i < pageCalls; i++) {
                const q = i % 2 === 0 ? firstSql : secondSql;
                pages.raw.push(await timed(() => raw.unsafe(q.query, q.params as never[])));
              }
            },
          ];
          options.log(`shares: paging run ${r + 1}/${options.runs}`);
          for (const step of r % 2 === 1 ? [...steps].reverse() : steps) {
            await step();
            await sleep(200);
          }
        }
        const check = await call(engine.url, "shares.listTeam", engineInputs[0], reader.user.token, "query");
        if (check.items.length !== PAGE) throw new Error(`shares: a page held ${check.items.length} items, not ${PAGE}`);

        const setting = `${wrapsPerShare} recipient devices, 1 client, PostgreSQL`;
        const feed = `page of ${PAGE}, feed of ${Math.max(FEED, next * 2)} shares, PostgreSQL`;
        return [
          {
            measure: `shares.create latency p50 (${setting})`,
            engine: median(created.engine),
            baseline: median(created.raw),
            baselineName: "raw postgres.js transaction, same rows",
            unit: "ms",
            better: "lower",
          },
          {
            measure: `shares.create latency p99 (${setting})`,
            engine: percentile(created.engine, 99),
            baseline: percentile(created.raw, 99),
            baselineName: "raw postgres.js transaction, same rows",
            unit: "ms",
            better: "lower",
          },
          {
            measure: `shares.listTeam latency p50 (${feed})`,
            engine: median(pages.engine),
            baseline: median(pages.raw),
            baselineName: "the query's SQL run raw",
            unit: "ms",
            better: "lower",
          },
          {
            measure: `shares.listTeam latency p99 (${feed})`,
            engine: percentile(pages.engine, 99),
            baseline: percentile(pages.raw, 99),
            baselineName: "the query's SQL run raw",
            unit: "ms",
            better: "lower",
          },
        ] satisfies Row[];
      } finally {
        await raw.end({ timeout: 5 });
      }
    });
    return rows ?? [];
  },
};
