import {
  type ConnectionStatus,
  createOsmyntClient,
  type EventStream,
  isUnauthorized,
  memorySessionStore,
  type OsmyntClient,
  type OsmyntEvent,
  type OsmyntEventType,
  ResyncRequiredError,
} from "@osmynt/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { signUp, type TestSession } from "../helpers/factories.js";
import { emitUserEvents, loadOf } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
const clients: OsmyntClient[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server?.close();
});

function client(session: TestSession): OsmyntClient {
  const c = createOsmyntClient({ url: server.url, session: memorySessionStore(session) });
  clients.push(c);
  return c;
}

/** Settles like `promise`, or rejects after `ms`: every wait in this file is bounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Pulls `count` events from `stream` within `ms`. */
async function take(stream: EventStream, count: number, ms = 10_000): Promise<OsmyntEvent[]> {
  const out: OsmyntEvent[] = [];
  const deadline = Date.now() + ms;
  while (out.length < count) {
    const next = await within(stream.next(), Math.max(1, deadline - Date.now()), `event ${out.length + 1} of ${count}`);
    if (next.done) throw new Error(`the stream ended after ${out.length} of ${count} events`);
    out.push(next.value);
  }
  return out;
}

/** True when the stream yields nothing more within `ms`. */
async function quietFor(stream: EventStream, ms: number): Promise<boolean> {
  return await within(stream.next(), ms, "silence").then(
    () => false,
    () => true,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tags = (events: OsmyntEvent[]) => events.map((e) => `${loadOf(e).tag}${loadOf(e).n}`);

describe("client.events()", () => {
  it("yields typed events in log order, with an observable connection status", async () => {
    const user = await signUp(server);
    const c = client(user);
    const statuses: ConnectionStatus["state"][] = [];
    const stop = c.onConnectionStatus((s) => statuses.push(s.state));
    const stream = c.events();
    await within(stream.ready, 5_000, "the subscription to start");
    await emitUserEvents(server, user.user.id, 5, 5, "t");
    const events = await take(stream, 5);
    expect(tags(events)).toEqual(["t0", "t1", "t2", "t3", "t4"]);
    const ids = events.map((e) => BigInt(e.id));
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as bigint))).toBe(true);
    expect(stream.lastEventId).toBe(events.at(-1)?.id);
    for (const event of events) {
      expect(event).toMatchObject({ type: "keys.changed", userId: user.user.id, teamId: null });
      if (event.type === "keys.changed") expectTypeOf(event).toEqualTypeOf<OsmyntEvent<"keys.changed">>();
    }
    // @ts-expect-error the checkpoint only moves the cursor: it is not an event type an app sees
    const checkpoint: OsmyntEventType = "sync.checkpoint";
    void checkpoint;
    await c.close();
    stop();
    expect(statuses).toEqual(["idle", "connecting", "connected", "idle"]);
  });

  it("resumes from lastEventId with exactly the missed events, then live ones", async () => {
    const user = await signUp(server);
    const c = client(user);
    const first = c.events();
    await within(first.ready, 5_000, "the subscription to start");
    await emitUserEvents(server, user.user.id, 3, 3, "a");
    const seen: OsmyntEvent[] = [];
    const loop = async () => {
      for await (const event of first) if (seen.push(event) === 3) break;
    };
    await within(loop(), 10_000, "three events");
    expect(tags(seen)).toEqual(["a0", "a1", "a2"]);
    const cursor = first.lastEventId;
    expect(cursor).toBe(seen.at(-1)?.id);

    await emitUserEvents(server, user.user.id, 4, 2, "b");
    const resumed = c.events({ lastEventId: cursor });
    expect(tags(await take(resumed, 4))).toEqual(["b0", "b1", "b2", "b3"]);
    await emitUserEvents(server, user.user.id, 2, 2, "c");
    expect(tags(await take(resumed, 2))).toEqual(["c0", "c1"]);
    expect(await quietFor(resumed, 500)).toBe(true);
  });

  it("holds at most 1000 events for a reader that stops pulling, and fetches the rest when it pulls again", async () => {
    const user = await signUp(server);
    const stream = client(user).events();
    await within(stream.ready, 5_000, "the subscription to start");
    await emitUserEvents(server, user.user.id, 5_000, 500, "p");
    for (const deadline = Date.now() + 10_000; stream.buffered < 1_000 && Date.now() < deadline; ) await sleep(50);
    await sleep(300);
    expect(stream.buffered).toBe(1_000);
    const events = await take(stream, 5_000, 60_000);
    expect(events.map((e) => loadOf(e).n)).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect(await quietFor(stream, 300)).toBe(true);
  });

  it("ends when the signal is aborted", async () => {
    const user = await signUp(server);
    const c = client(user);
    const abort = new AbortController();
    const stream = c.events({ signal: abort.signal });
    await within(stream.ready, 5_000, "the subscription to start");
    setTimeout(() => abort.abort(), 100);
    const seen: OsmyntEvent[] = [];
    await within(
      (async () => {
        for await (const event of stream) seen.push(event);
      })(),
      3_000,
      "the aborted iteration to end",
    );
    expect(seen).toEqual([]);
  });

  it("throws ResyncRequiredError for a cursor the server cannot resume from", async () => {
    const c = client(await signUp(server));
    const error = await within(c.events({ lastEventId: "999999999999" }).next(), 5_000, "the refusal").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResyncRequiredError);
    expect(error).toMatchObject({ name: "ResyncRequiredError", lastEventId: "999999999999" });
    expect(() => c.events({ lastEventId: "12abc" })).toThrow(TypeError);
  });

  it("ends with UNAUTHORIZED within a second when another client logs the session out", async () => {
    const session = await signUp(server);
    const c = client(session);
    const stream = c.events();
    await within(stream.ready, 5_000, "the subscription to start");
    const pending = stream.next().catch((e: unknown) => e);
    await client(session).signOut();
    const started = Date.now();
    const error = await within(pending, 5_000, "the iteration to end");
    const elapsed = Date.now() - started;
    expect(isUnauthorized(error)).toBe(true);
    expect(elapsed).toBeLessThan(1_500);
    expect(await c.getSession()).toBeNull();
  });
});

describe("client.events({ transport: 'sse' })", () => {
  it("streams over SSE with the token in a header, and resumes from lastEventId", async () => {
    const user = await signUp(server);
    const c = client(user);
    const first = c.events({ transport: "sse" });
    await within(first.ready, 5_000, "the SSE subscription to start");
    await emitUserEvents(server, user.user.id, 3, 3, "s");
    expect(tags(await take(first, 3))).toEqual(["s0", "s1", "s2"]);
    await first.return();

    await emitUserEvents(server, user.user.id, 2, 2, "m");
    const resumed = c.events({ transport: "sse", lastEventId: first.lastEventId });
    expect(tags(await take(resumed, 2))).toEqual(["m0", "m1"]);
    await emitUserEvents(server, user.user.id, 1, 1, "l");
    expect(tags(await take(resumed, 1))).toEqual(["l0"]);
    expect(server.logs.join("\n")).not.toContain(user.accessToken);
  });
});
