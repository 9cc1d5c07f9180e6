import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { rawCall, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { wsClient } from "../helpers/trpc.js";
import { waitFor } from "../helpers/wait.js";

// A stream learns its user's teams from its first backlog page; team events the instance's hub
// routed while that page was being read must still reach it. Writes on A and streams opening on B
// make the window wide: B's hub hears of A's commits at once, while B's page read is in flight.
// (Before the fix, 4 of 4 bench runs lost 12-25 of 3,000 deliveries this way.)
const SUBSCRIBERS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let a: TestServer;
let b: TestServer;
let admin: postgres.Sql;

beforeAll(async () => {
  const databaseUrl = inject("databaseUrl");
  if (!databaseUrl) throw new Error("this file runs on test:services");
  admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  a = await startServer({ env: { WS_MAX_CONNECTIONS_PER_USER: "200" } });
  b = await startServer({ env: { WS_MAX_CONNECTIONS_PER_USER: "200" } });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await admin?.end({ timeout: 5 });
});

describe("streams opening while their team's events are written on another instance", () => {
  it("each receives every team event after its starting checkpoint, once and in order", async () => {
    const owner = await signUp(a);
    const created = await rawCall(a, "teams.create", { input: { name: "opening" }, token: owner.accessToken });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const teamId: string = created.body.result.data.id;

    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        await rawCall(a, "teams.rename", { input: { teamId, name: `opening ${n}` }, token: owner.accessToken });
        written++;
        await sleep(10);
      }
    })();

    const streams: { start: number | null; ids: number[]; close(): void }[] = [];
    try {
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const c = wsClient(b, owner.accessToken);
        const stream = { start: null as number | null, ids: [] as number[], close: () => c.close() };
        c.client.events.subscribe.subscribe(undefined, {
          onData: ({ id, data }) => {
            if (data.type === "sync.checkpoint") stream.start ??= Number(id);
            else if (data.type === "team.renamed") stream.ids.push(Number(id));
          },
        });
        streams.push(stream);
        await waitFor(`stream ${i} to start`, async () => stream.start !== null, { timeoutMs: 30_000 });
      }
      // Writes go on a little after the last opening; a loaded machine writes slowly, so count them.
      const target = written + 5;
      await waitFor("a few more renames", async () => written >= Math.max(target, SUBSCRIBERS + 1), { timeoutMs: 60_000 });
    } finally {
      writing = false;
      await writer;
    }

    const committed = (await admin`select id from events where team_id = ${teamId} and type = 'team.renamed' order by id`).map((r) =>
      Number(r.id),
    );
    const expected = (s: (typeof streams)[number]) => committed.filter((id) => id > (s.start ?? 0));
    await waitFor("every stream to catch up", async () => streams.every((s) => s.ids.length >= expected(s).length), {
      timeoutMs: 30_000,
    }).catch(() => {});
    const missing = streams.map((s) => expected(s).filter((id) => !s.ids.includes(id)));
    expect(missing.flat(), `missing per stream: ${JSON.stringify(missing)}`).toEqual([]);
    for (const s of streams) expect(s.ids).toEqual(expected(s));
    expect(committed.length).toBeGreaterThan(SUBSCRIBERS);
    for (const s of streams) s.close();
  }, 180_000);
});
