import { pruneEventsBatch, schema } from "@osmynt/db";
import { and, count, gte, inArray, lte, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { isolatedDatabase } from "../helpers/isolated-db.js";
import { emitUserEvents } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, wsClient } from "../helpers/trpc.js";
import { waitFor } from "../helpers/wait.js";

// Retention acts on the whole log, so this file runs on a database of its own.
let server: TestServer;
let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
beforeAll(async () => {
  iso = await isolatedDatabase();
  server = await startServer({ env: { ...iso.env, EVENT_RETENTION_DAYS: "30", EVENT_RETENTION_BATCH_SIZE: "4" } });
});
afterAll(async () => {
  await server?.close();
  await iso?.drop();
});

const events = schema.events;

async function eventCount(): Promise<number> {
  const [row] = await server.deps.db.select({ n: count() }).from(events);
  return row?.n ?? 0;
}

/** Moves events back in time, past the 30-day retention. */
async function age(ids: number[]) {
  await server.deps.db.update(events).set({ createdAt: sql`now() - interval '40 days'` }).where(inArray(events.id, ids));
}

async function userEventIds(userId: string, tag?: string): Promise<number[]> {
  const rows = await server.deps.db.select({ id: events.id, payload: events.payload, userId: events.userId }).from(events);
  return rows
    .filter((r) => r.userId === userId && (tag === undefined || r.payload.tag === tag))
    .map((r) => r.id)
    .sort((a, b) => a - b);
}

function subscribeFrom(token: string, lastEventId: string | undefined) {
  const c = wsClient(server, token);
  const sub = collect((h) => c.client.events.subscribe.subscribe(lastEventId === undefined ? undefined : { lastEventId }, h));
  return { ...sub, close: () => c.close() };
}

describe("event retention", () => {
  it("the scheduled run prunes past retention on this backend, and a fully pruned log still tells stale cursors to resync", async () => {
    const alice = await signUp(server);
    await emitUserEvents(server, alice.user.id, 6);
    const before = await server.deps.db.select({ id: events.id }).from(events);
    const ids = before.map((r) => r.id).sort((a, b) => a - b);
    await age(ids);

    // The first run comes five seconds after start; every event is past retention.
    await waitFor("the scheduled retention run to empty the log", async () => (await eventCount()) === 0, { timeoutMs: 15_000 });
    expect(server.logs.join("")).not.toMatch(/pruning the event log failed/);

    const stale = subscribeFrom(alice.accessToken, String(ids[0]));
    await stale.until(() => stale.errors.length > 0);
    expect(String(stale.errors[0])).toMatch(/resync required/);
    expect((stale.errors[0] as { data?: { code?: string; details?: unknown } }).data).toMatchObject({
      code: "PRECONDITION_FAILED",
      details: { resyncRequired: true, prunedThroughEventId: String(ids.at(-1)) },
    });
    expect(stale.events).toEqual([]);
    stale.close();

    // A client that had everything up to the last pruned event is neither stale nor "from the future".
    const current = subscribeFrom(alice.accessToken, String(ids.at(-1)));
    await new Promise((r) => setTimeout(r, 300));
    await emitUserEvents(server, alice.user.id, 1, 1, "after");
    await current.until(() => current.events.length >= 1);
    expect(current.errors).toEqual([]);
    expect(current.events.map((e) => e.payload.tag)).toEqual(["after"]);
    current.close();
  });

  it("prunes in bounded batches, only the oldest stretch of the log, and resumes cleanly from the mark", async () => {
    const bob = await signUp(server);
    await emitUserEvents(server, bob.user.id, 10, 1, "old");
    await emitUserEvents(server, bob.user.id, 1, 1, "recent");
    await emitUserEvents(server, bob.user.id, 1, 1, "old-but-after-recent");
    const old = await userEventIds(bob.user.id, "old");
    const [recent] = await userEventIds(bob.user.id, "recent");
    const [late] = await userEventIds(bob.user.id, "old-but-after-recent");
    // Everything before the recent event is old (the sign-up's own events too).
    await age([
      ...(
        await server.deps.db
          .select({ id: events.id })
          .from(events)
          .where(lte(events.id, old.at(-1) ?? 0))
      ).map((r) => r.id),
      late ?? 0,
    ]);

    // One batch deletes at most its limit.
    expect((await pruneEventsBatch(server.deps.db, { olderThan: new Date(Date.now() - 30 * 86_400_000), limit: 3 })).removed).toBe(3);
    // A run goes batch after batch (4 a batch here) until it meets an event within retention.
    await server.deps.retention.run();
    const left = await server.deps.db
      .select({ id: events.id })
      .from(events)
      .where(and(gte(events.id, old[0] ?? 0)));
    expect(left.map((r) => r.id)).toEqual([recent, late]);

    const stale = subscribeFrom(bob.accessToken, String(old[3]));
    await stale.until(() => stale.errors.length > 0);
    expect(String(stale.errors[0])).toMatch(/resync required/);
    stale.close();

    const resumed = subscribeFrom(bob.accessToken, String(old.at(-1)));
    await resumed.until(() => resumed.events.length >= 2);
    expect(resumed.errors).toEqual([]);
    expect(resumed.events.map((e) => e.payload.tag)).toEqual(["recent", "old-but-after-recent"]);
    resumed.close();
  });
});
