import { randomBytes } from "node:crypto";
import { type Database, type EventRow, readEvents, recordEvents, schema } from "@osmynt/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend } from "../helpers/backend.js";
import { isolatedDatabase } from "../helpers/isolated-db.js";
import { startServer, type TestServer } from "../helpers/server.js";

// Writers held open on purpose hold back the whole log's horizon (and the raw inserts below skip
// the writers' marks), so this file runs on a database of its own, like retention.
let server: TestServer;
let db: Database;
let iso: Awaited<ReturnType<typeof isolatedDatabase>>;
beforeAll(async () => {
  iso = await isolatedDatabase();
  server = await startServer({ env: iso.env });
  db = server.deps.db;
});
afterAll(async () => {
  await server?.close();
  await iso?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A gate a transaction waits on, so a test decides exactly when it commits. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/** Reads everything after `cursor` the way a subscriber does, page by page. */
async function drain(cursor: number, marker: string): Promise<{ cursor: number; rows: EventRow[] }> {
  const rows: EventRow[] = [];
  for (;;) {
    const page = await readEvents(db, { after: cursor, limit: 200 });
    if (page.length === 0) return { cursor, rows };
    cursor = page[page.length - 1]?.id ?? cursor;
    rows.push(...page.filter((r) => r.payload.marker === marker));
  }
}

async function startCursor(): Promise<number> {
  const [row] = await db.select({ id: sql<string>`coalesce(max(${schema.events.id}), 0)` }).from(schema.events);
  return Number(row?.id ?? 0);
}

describe("event log: the commit-order trap", () => {
  // PGlite is one connection: its transactions cannot overlap, so the hazard exists only on PostgreSQL.
  it.runIf(backend === "services")(
    "a plain sequence insert really can commit out of id order (the hazard this guards against)",
    async () => {
      const marker = randomBytes(6).toString("hex");
      const cursor = await startCursor();
      const firstInserted = gate();
      const releaseFirst = gate();
      const first = db.transaction(async (tx) => {
        const [row] = await tx.insert(schema.events).values({ type: "test.raw", payload: { marker } }).returning();
        firstInserted.open();
        await releaseFirst.opened;
        return row;
      });
      await firstInserted.opened;
      const second = await db.transaction(async (tx) => {
        const [row] = await tx.insert(schema.events).values({ type: "test.raw", payload: { marker } }).returning();
        return row;
      });
      const seen = await drain(cursor, marker);
      releaseFirst.open();
      const firstRow = await first;
      expect(firstRow?.id).toBeLessThan(second?.id ?? 0);
      // A reader resuming "after" the second id would never see the first: exactly the trap.
      expect(seen.rows.map((r) => r.id)).toEqual([second?.id]);
      expect(seen.cursor).toBeGreaterThan(firstRow?.id ?? 0);
    },
  );

  it("a later writer's event is held back until an earlier writer with a smaller id commits", async () => {
    const marker = randomBytes(6).toString("hex");
    const cursor = await startCursor();
    const firstInserted = gate();
    const releaseFirst = gate();
    const first = db.transaction(async (tx) => {
      const [row] = await recordEvents(tx, [{ type: "test.guarded", teamId: null, userId: null, payload: { marker, n: 1 } }]);
      firstInserted.open();
      await releaseFirst.opened;
      return row;
    });
    await firstInserted.opened;
    const second = db.transaction(async (tx) => {
      const [row] = await recordEvents(tx, [{ type: "test.guarded", teamId: null, userId: null, payload: { marker, n: 2 } }]);
      return row;
    });
    await sleep(200);
    // The second writer does not wait for the first (on PostgreSQL it has committed by now), but a
    // reader reads only up to the first one's mark: nothing of either, so nothing can be skipped.
    // (PGlite is a single connection: there the second transaction waits for the first instead.)
    if (backend === "services") expect((await drain(cursor, marker)).rows).toEqual([]);
    releaseFirst.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a?.id).toBeLessThan(b?.id ?? 0);
    const seen = await drain(cursor, marker);
    expect(seen.rows.map((r) => r.payload.n)).toEqual([1, 2]);
  });

  it("a polling reader misses nothing while many writers commit concurrently with random delays", async () => {
    const marker = randomBytes(6).toString("hex");
    let cursor = await startCursor();
    const writers = 16;
    const perWriter = 20;
    const committed: number[] = [];
    let writing = true;
    const delivered: number[] = [];

    const reader = (async () => {
      while (writing) {
        const page = await drain(cursor, marker);
        cursor = page.cursor;
        delivered.push(...page.rows.map((r) => r.id));
        await sleep(2);
      }
      const tail = await drain(cursor, marker);
      delivered.push(...tail.rows.map((r) => r.id));
    })();

    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const rows = await db.transaction(async (tx) => {
            // Other work first (takes a transaction id and time), then the event as the last write,
            // then a random pause before commit: the window in which ids could commit out of order.
            await tx.execute(sql`select pg_sleep(${Math.random() * 0.004})`);
            const inserted = await recordEvents(tx, [{ type: "test.stress", teamId: null, userId: null, payload: { marker, w, i } }]);
            await sleep(Math.random() * 4);
            return inserted;
          });
          committed.push(...rows.map((r) => r.id));
        }
      }),
    );
    writing = false;
    await reader;

    expect(committed).toHaveLength(writers * perWriter);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect([...delivered].sort((a, b) => a - b)).toEqual(delivered);
    expect([...delivered].sort((a, b) => a - b)).toEqual([...committed].sort((a, b) => a - b));
  });
});
