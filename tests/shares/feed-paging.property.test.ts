import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, type Device, firstDevice, join, ok, share } from "./helpers.js";

// Property: whatever inserts, deletes and expiries happen between the pages of a feed, paging it
// from the top to the end never yields a share twice, never skips a share that existed when
// paging began and still exists at the end, yields nothing inserted after it began, and keeps
// newest-first order. Checked against a model set through the real server, for both feeds.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

type Feed = "team" | "direct";
type Who = "alice" | "bob";
type Op =
  | { kind: "insert"; feed: Feed; author: Who; expiring: boolean }
  | { kind: "delete"; pick: number }
  | { kind: "page"; feed: Feed; limit: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      feed: fc.constantFrom<Feed>("team", "direct"),
      author: fc.constantFrom<Who>("alice", "bob"),
      expiring: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("page" as const),
      feed: fc.constantFrom<Feed>("team", "direct"),
      limit: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

interface World {
  teamId: string;
  devices: Record<Who, Device>;
}

async function world(): Promise<World> {
  const [a, b] = await Promise.all([signUp(server, randomLogin("alice")), signUp(server, randomLogin("bob"))]);
  const team = await ok(call(server, "teams.create", a, { name: "paging" }));
  await join(server, team.id, a, b);
  return { teamId: team.id, devices: { alice: await firstDevice(server, a), bob: await firstDevice(server, b) } };
}

interface ModelShare {
  id: string;
  feed: Feed;
  author: Who;
  /** Insertion order: the feed's order is this, descending. */
  n: number;
  /** Expiring shares may leave the feed at any moment (their expiry is a second away). */
  expiring: boolean;
}

/** One pass through a feed, from its first page to its end. */
interface Walk {
  cursor: string | null;
  seen: string[];
  /** The feed's shares when the walk began. */
  atStart: ModelShare[];
  /** Ids deleted since the walk began, with how many ids the walk had seen then (later pages must not hold them). */
  deleted: Map<string, number>;
  done: boolean;
}

/**
 * How far away an expiring share's expiry is: it may leave the feed in the middle of a walk. Set
 * before sealing (the expiry is signed), so it must outlast a seal and a create on a loaded machine,
 * where 1 s did not ("expiresAt is in the past").
 */
const EXPIRY_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(ops: Op[]): Promise<void> {
  const w = await world();
  const { alice, bob } = w.devices;
  const live: ModelShare[] = [];
  const everInserted = new Map<string, ModelShare>();
  const walks: Record<Feed, Walk | null> = { team: null, direct: null };
  const finished: { feed: Feed; walk: Walk }[] = [];
  let n = 0;
  let lastExpiry = 0;

  // Bob reads both feeds: the team's, and his direct thread with Alice.
  const fetchPage = async (feed: Feed, cursor: string | null, limit: number) => {
    const input = { ...(feed === "team" ? { teamId: w.teamId } : { userId: alice.userId }), limit, ...(cursor ? { cursor } : {}) };
    return ok<{ items: { id: string }[]; nextCursor: string | null }>(
      call(server, feed === "team" ? "shares.listTeam" : "shares.listDirect", bob.session, input),
    );
  };

  const step = async (feed: Feed, limit: number) => {
    let walk = walks[feed];
    if (!walk) {
      walk = { cursor: null, seen: [], atStart: live.filter((s) => s.feed === feed), deleted: new Map(), done: false };
      walks[feed] = walk;
    }
    const page = await fetchPage(feed, walk.cursor, limit);
    walk.seen.push(...page.items.map((i) => i.id));
    walk.cursor = page.nextCursor;
    if (page.nextCursor === null) {
      walk.done = true;
      finished.push({ feed, walk });
      walks[feed] = null;
    }
  };

  for (const op of ops) {
    if (op.kind === "insert") {
      const author = w.devices[op.author];
      const target = op.feed === "team" ? { teamId: w.teamId } : { userId: (op.author === "alice" ? bob : alice).userId };
      const expiresAt = op.expiring ? Date.now() + EXPIRY_MS : null;
      if (expiresAt) lastExpiry = expiresAt;
      const id = await share(server, author, target, { code: `c${n}`, title: `t${n}` }, { expiresAt });
      const s = { id, feed: op.feed, author: op.author, n: n++, expiring: op.expiring };
      live.push(s);
      everInserted.set(id, s);
    } else if (op.kind === "delete") {
      if (live.length === 0) continue;
      const [gone] = live.splice(op.pick % live.length, 1) as [ModelShare];
      const answer = await call(server, "shares.delete", w.devices[gone.author].session, { id: gone.id });
      // An expiring share may already be gone (NOT_FOUND); any other share must delete.
      if (!gone.expiring || answer.status !== 404) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      for (const walk of Object.values(walks)) walk?.deleted.set(gone.id, walk.seen.length);
    } else await step(op.feed, op.limit);
  }
  // Walks still open run to their end, with nothing in between.
  for (const feed of ["team", "direct"] as const) while (walks[feed]) await step(feed, 4);
  // And one full walk of each feed at the end, when no expiring share may still be there.
  const wait = lastExpiry + 250 - Date.now();
  if (wait > 0) await sleep(wait);
  for (const feed of ["team", "direct"] as const) {
    await step(feed, 3);
    while (walks[feed]) await step(feed, 3);
  }

  for (const { feed, walk } of finished) {
    const label = `${feed} walk of ${walk.seen.length}`;
    expect(new Set(walk.seen).size, `${label}: no duplicates`).toBe(walk.seen.length);
    const startIds = new Set(walk.atStart.map((s) => s.id));
    walk.seen.forEach((id, i) => {
      expect(startIds.has(id), `${label}: ${id} existed when paging began (nothing inserted since, nothing from elsewhere)`).toBe(true);
      const deletedAt = walk.deleted.get(id);
      expect(deletedAt === undefined || i < deletedAt, `${label}: ${id} was deleted before the page that holds it`).toBe(true);
    });
    const mustSee = walk.atStart.filter((s) => !s.expiring && !walk.deleted.has(s.id)).map((s) => s.id);
    const seen = new Set(walk.seen);
    expect(
      mustSee.filter((id) => !seen.has(id)),
      `${label}: no share that existed throughout is skipped`,
    ).toEqual([]);
    const order = walk.seen.map((id) => everInserted.get(id)?.n ?? -1);
    expect(
      order.every((x, i) => i === 0 || x < (order[i - 1] as number)),
      `${label}: newest first`,
    ).toBe(true);
  }
  // The final walks saw exactly the live, unexpired shares.
  const finals = finished.slice(-2);
  for (const { feed, walk } of finals) {
    const expected = live
      .filter((s) => s.feed === feed && !s.expiring)
      .sort((x, y) => y.n - x.n)
      .map((s) => s.id);
    expect(walk.seen, `final ${feed} walk`).toEqual(expected);
  }
}

describe("feed paging (property, through the real server)", () => {
  it("random inserts, deletes and expiries between pages never yield a duplicate or skip a share", { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), (ops) => run(ops)),
      { numRuns: 12, endOnFailure: true },
    );
  });
});
