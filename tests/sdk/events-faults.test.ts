import {
  createOsmyntClient,
  type EventStream,
  memorySessionStore,
  type OsmyntClient,
  type OsmyntEvent,
  type WebSocketConstructor,
} from "@osmynt/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { signUp, type TestSession } from "../helpers/factories.js";
import { startFlakyProxy } from "../helpers/flaky-proxy.js";
import { emitUserEvents, loadOf } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";

/**
 * The SDK's event stream under faults, through real servers and sockets: network drops (a TCP
 * proxy that cuts everything), a reader that stops pulling, and the server's slow-consumer
 * disconnect (4408), which a small WS_MAX_BUFFERED_BYTES makes easy to reach.
 */
let server: TestServer;
const clients: OsmyntClient[] = [];
beforeAll(async () => {
  server = await startServer({ env: { WS_MAX_BUFFERED_BYTES: "65536" } });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function client(session: TestSession, options: { url?: string; WebSocket?: WebSocketConstructor } = {}): OsmyntClient {
  const c = createOsmyntClient({ url: options.url ?? server.url, session: memorySessionStore(session), WebSocket: options.WebSocket });
  clients.push(c);
  return c;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Pulls `count` events within `ms`, leaving the stream open. */
async function take(stream: EventStream, count: number, ms: number): Promise<OsmyntEvent[]> {
  const out: OsmyntEvent[] = [];
  const deadline = Date.now() + ms;
  while (out.length < count) {
    const left = deadline - Date.now();
    const next = await within(stream.next(), Math.max(1, left), `${count} events (received ${out.length})`);
    if (next.done) throw new Error(`the stream ended after ${out.length} of ${count} events`);
    out.push(next.value);
  }
  return out;
}

/** Exactly once and in log order: ids strictly increasing. */
function expectStrictlyIncreasing(events: OsmyntEvent[]) {
  const ids = events.map((e) => BigInt(e.id));
  const firstBad = ids.findIndex((id, i) => i > 0 && id <= (ids[i - 1] as bigint));
  expect(firstBad).toBe(-1);
}

describe("network drops", () => {
  it("delivers every event once, in order, through three 2 s drops at random moments", { timeout: 120_000 }, async () => {
    const user = await signUp(server);
    const proxy = await startFlakyProxy(Number(new URL(server.url).port));
    try {
      const c = client(user, { url: `http://127.0.0.1:${proxy.port}` });
      const states = new Set<string>();
      c.onConnectionStatus((status) => states.add(status.state));
      const stream = c.events();
      await within(stream.ready, 5_000, "the subscription to start");

      const batches = 30;
      const perBatch = 10;
      const events: OsmyntEvent[] = [];
      const reading = (async () => {
        for await (const event of stream) if (events.push(event) >= batches * perBatch) break;
      })();
      const done = within(reading, 90_000, "every event");
      done.catch(() => {}); // awaited below; this only keeps an early failure from being unhandled
      await emitUserEvents(server, user.user.id, perBatch, perBatch, "b0.");
      // Drops start once events flow: before the first one arrives a fresh stream has no cursor to
      // resume from (see the SDK README's limits).
      for (const deadline = Date.now() + 10_000; events.length < perBatch && Date.now() < deadline; ) await sleep(20);
      // One drop in each 3.5 s slot, at a random point of its first 1.2 s, so they never overlap.
      const drops = [0, 1, 2].map((slot) => setTimeout(() => proxy.drop(2_000), slot * 3_500 + Math.random() * 1_200));
      for (let b = 1; b < batches; b++) {
        await sleep(350);
        await emitUserEvents(server, user.user.id, perBatch, perBatch, `b${b}.`);
      }
      await done;
      for (const timer of drops) clearTimeout(timer);

      expect(proxy.drops()).toBe(3);
      const expected = Array.from({ length: batches * perBatch }, (_, i) => `b${Math.floor(i / perBatch)}.${i % perBatch}`);
      expect(events.map((e) => `${loadOf(e).tag}${loadOf(e).n}`)).toEqual(expected);
      expectStrictlyIncreasing(events);
      expect([...states]).toEqual(expect.arrayContaining(["connected", "reconnecting"]));
    } finally {
      await proxy.close();
    }
  });
});

describe("slow consumers", () => {
  const total = 20_000;
  const ns = (events: OsmyntEvent[]) => events.map((e) => loadOf(e).n);
  const all = Array.from({ length: total }, (_, i) => i);

  it("a reader that stops pulling while 20k events are committed gets them all once it pulls again", { timeout: 180_000 }, async () => {
    const user = await signUp(server);
    const stream = client(user).events();
    await within(stream.ready, 5_000, "the subscription to start");
    await emitUserEvents(server, user.user.id, total, 500, "flood");
    const events = await take(stream, total, 120_000);
    expect(ns(events)).toEqual(all);
    expectStrictlyIncreasing(events);
  });

  it("recovers by itself from the server's slow-consumer disconnect (4408)", { timeout: 180_000 }, async () => {
    const user = await signUp(server);
    const sockets: WebSocket[] = [];
    const closeCodes: number[] = [];
    // The real `ws` class, recorded so the test can stop reading at the TCP level like a stalled client.
    class Recorded extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
        this.on("close", (code) => closeCodes.push(code));
      }
    }
    const stream = client(user, { WebSocket: Recorded }).events();
    await within(stream.ready, 5_000, "the subscription to start");
    await emitUserEvents(server, user.user.id, 10, 10, "warm");
    const warm = await take(stream, 10, 10_000);
    const tcp = (sockets.at(-1) as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    await emitUserEvents(server, user.user.id, total, 500, "flood");
    await sleep(1_500);
    tcp.resume();
    for (const deadline = Date.now() + 20_000; !closeCodes.includes(4408) && Date.now() < deadline; ) await sleep(50);
    expect(closeCodes).toContain(4408);

    const events = await take(stream, total, 120_000);
    expect(ns(events)).toEqual(all);
    expectStrictlyIncreasing([...warm, ...events]);
  });
});
