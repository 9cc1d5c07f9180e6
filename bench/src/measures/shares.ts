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
import { randomBytes } from "node:crypto";
import { listTeamShares, schema } from "@osmynt/db";
import {
  createAddDeviceLink,
  createRootLink,
  type DeviceKeys,
  type DeviceLogState,
  generateDeviceKeys,
  sealShare,
  verifyDeviceLog,
} from "@osmynt/sdk/crypto";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { freshDatabase, postgresReachable } from "../lib/database.js";
import { type BenchUser, call, pool, signUp } from "../lib/engine-client.js";
import type { Measure, Row } from "../lib/measure.js";
import { startServerProcess } from "../lib/processes.js";
import { median, percentile, sleep } from "../lib/stats.js";
import { BENCH_JWT_SECRET } from "./rpc.js";

const USERS = 5;
const DEVICES_PER_USER = 2;
const PAGE = 50;
/** Shares in the feed that is paged. */
const FEED = 500;

interface Member {
  user: BenchUser;
  devices: DeviceKeys[];
}

/** Registers a first device and adds the rest, signed by it, through the real keys.* procedures. */
async function withDevices(url: string, user: BenchUser): Promise<Member> {
  const devices = await Promise.all(Array.from({ length: DEVICES_PER_USER }, () => generateDeviceKeys()));
  const [first, ...rest] = devices as [DeviceKeys, ...DeviceKeys[]];
  await call(url, "keys.register", { link: await createRootLink(user.id, first, { name: "bench 0" }) }, user.token);
  for (const [i, device] of rest.entries()) {
    const mine = await call(url, "keys.mine", undefined, user.token, "query");
    const state = await verifyDeviceLog(mine.links, { userId: user.id });
    await call(url, "keys.addDevice", { link: await createAddDeviceLink(state, first, device, { name: `bench ${i + 1}` }) }, user.token);
  }
  return { user, devices };
}

const newShareId = () => `shr_${randomBytes(15).toString("base64url")}`;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export const shares: Measure = {
  name: "shares",
  title: "(f) shares.create (10 recipient devices) and feed paging vs the raw SQL (PostgreSQL)",
  async run(options) {
    if (!(await postgresReachable(options.databaseUrl))) {
      options.log(`skipped: no PostgreSQL at ${options.databaseUrl} (BENCH_DATABASE_URL)`);
      return [];
    }
    const database = await freshDatabase(options.databaseUrl);
    const engine = await startServerProcess("engine", {
      DATABASE_URL: database.url,
      JWT_SECRET: BENCH_JWT_SECRET,
      DATABASE_POOL_SIZE: "5",
    });
    const raw = postgres(database.url, { max: 1, onnotice: () => {} });
    const perBatch = options.quick ? 10 : 30;
    try {
      const users = await pool(
        Array.from({ length: USERS }, (_, i) => i),
        USERS,
        (i) => signUp(engine.url, `sharer-${i}-${randomBytes(3).toString("hex")}`),
      );
      const [owner, ...others] = users as [BenchUser, ...BenchUser[]];
      const team = await call(engine.url, "teams.create", { name: "bench shares" }, owner.token);
      const invite = await call(engine.url, "teams.invites.create", { teamId: team.id, maxUses: others.length }, owner.token);
      for (const u of others) await call(engine.url, "teams.invites.accept", { token: invite.token }, u.token);
      const members = await pool(users, USERS, (u) => withDevices(engine.url, u));
      const author = members[0] as Member;
      const forTeam = await call(engine.url, "keys.forTeam", { teamId: team.id }, owner.token, "query");
      const logs: DeviceLogState[] = await Promise.all(
        forTeam.members.map((m: { userId: string; links: unknown[] }) => verifyDeviceLog(m.links, { userId: m.userId })),
      );
      const authorLog = logs.find((l) => l.userId === author.user.id) as DeviceLogState;
      const sender = { userId: author.user.id, keys: author.devices[0] as DeviceKeys, log: authorLog };
      const plaintext = new TextEncoder().encode(JSON.stringify({ title: "bench", code: "x".repeat(1000) }));
      const sealOne = async () => {
        const shareId = newShareId();
        const sealed = await sealShare({ sender, target: { teamId: team.id }, shareId, recipients: logs, plaintext });
        return { target: { teamId: team.id }, envelope: sealed.envelope, recipients: sealed.wraps };
      };
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
      const rawCreate = async (input: Awaited<ReturnType<typeof sealOne>>) => {
        const id = newShareId();
        const e = input.envelope;
        await raw.begin(async (tx) => {
          await tx`insert into shares (id, team_id, author_id, author_device_id, suite, nonce, ciphertext, manifest, signature, ciphertext_bytes)
            values (${id}, ${team.id}, ${author.user.id}, ${sender.keys.deviceId}, ${e.suite}, ${e.nonce}, ${e.ciphertext},
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
            values (${team.id}, ${author.user.id}, 'share.created', 'share', ${id}, ${tx.json({ recipients: input.recipients.length })})`;
          await tx`insert into events (type, team_id, user_id, payload)
            values ('share.created', ${team.id}, ${null}, ${tx.json({ shareId: id, teamId: team.id, authorId: author.user.id })})`;
        });
      };

      const created = { engine: [] as number[], raw: [] as number[] };
      let next = 0;
      for (let r = 0; r < options.runs; r++) {
        const batch = envelopes.slice(next, next + perBatch);
        next += perBatch;
        const steps = [
          async () => {
            for (const input of batch) created.engine.push(await timed(() => call(engine.url, "shares.create", input, author.user.token)));
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
      const reader = members[1] as Member;
      const capture: { query: string; params: unknown[] }[] = [];
      const capturing = postgres(database.url, { max: 1, onnotice: () => {} });
      const logged = drizzle(capturing, { schema, logger: { logQuery: (query, params) => void capture.push({ query, params }) } });
      const first = await listTeamShares(logged as never, { teamId: team.id, userId: reader.user.id, cursor: null, limit: PAGE });
      const secondCursor = Number(first.nextCursor);
      await listTeamShares(logged as never, { teamId: team.id, userId: reader.user.id, cursor: secondCursor, limit: PAGE });
      await capturing.end({ timeout: 5 });
      const [firstSql, secondSql] = capture as [(typeof capture)[number], (typeof capture)[number]];
      const engineInputs = [
        { teamId: team.id, limit: PAGE },
        { teamId: team.id, limit: PAGE, cursor: String(secondCursor) },
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
      await engine.stop();
      await database.drop();
    }
  },
};
