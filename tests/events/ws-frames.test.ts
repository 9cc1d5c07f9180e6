import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { schema } from "@osmynt/db";
import { appRouter, createContextFactory } from "@osmynt/server";
import { getWSConnectionHandler } from "@trpc/server/adapters/ws";
import { max } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { randomLogin, signUp } from "../helpers/factories.js";
import { isolatedDatabase } from "../helpers/isolated-db.js";
import { emitUserEvents } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The engine builds its event frames itself (a shared serialization per row, and live frames
 * written by the stream: realtime/ws-encoder.ts). Here the same subscriptions are opened on the
 * engine and on tRPC's stock WebSocket adapter (default JSON encoder) serving the same router over
 * the same database and hub, and every frame must be byte for byte the same.
 */
let server: TestServer;
let stock: { url: string; close(): Promise<void> };
/**
 * A log of its own: other files' events would move the hub's cursor while a stream opens, and the
 * stream then reads a page again (routers/events/stream.ts), serializing those events itself.
 */
let iso: Awaited<ReturnType<typeof isolatedDatabase>>;

beforeAll(async () => {
  iso = await isolatedDatabase();
  server = await startServer({ env: { ...iso.env, EVENT_CHECKPOINT_MS: "200" } });
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  const onConnection = getWSConnectionHandler({
    wss,
    router: appRouter,
    createContext: createContextFactory(server.deps) as never,
  });
  wss.on("connection", (socket, req) => onConnection(socket, req));
  stock = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
});
afterAll(async () => {
  await stock?.close();
  await server?.close();
  await iso?.drop();
});

/** A subscriber speaking tRPC's protocol by hand, keeping every frame as the text it arrived as. */
async function subscriber(url: string, token: string, request: Record<string, unknown>) {
  const ws = new WebSocket(`${url}?connectionParams=1`);
  const frames: string[] = [];
  ws.on("message", (data) => {
    const text = String(data);
    if (text === "PING") ws.send("PONG");
    else frames.push(text);
  });
  await once(ws, "open");
  ws.send(JSON.stringify({ method: "connectionParams", data: { token } }));
  ws.send(JSON.stringify({ method: "subscription", ...request }));
  const data = () => frames.filter((f) => JSON.parse(f).result?.type === "data");
  const isCheckpoint = (f: string) => JSON.parse(f).result.data.data.type === "sync.checkpoint";
  return {
    frames,
    events: () => data().filter((f) => !isCheckpoint(f)),
    checkpoints: () => data().filter(isCheckpoint),
    close: () => ws.close(),
  };
}

const until = (what: string, predicate: () => boolean) =>
  waitFor(what, async () => predicate() || undefined, { timeoutMs: 30_000, intervalMs: 20 });

/** A checkpoint's time is when it was made, which differs between the two servers. */
const withoutTime = (frame: string) => frame.replace(/"createdAt":"[^"]*"/, '"createdAt":"…"');

describe("WebSocket frames of events.subscribe", () => {
  it("are byte for byte the stock adapter's: backlog, live events and checkpoints, for any request id", async () => {
    const user = await signUp(server);
    await emitUserEvents(server, user.user.id, 3, 1, "before");
    // A fresh stream starts at its instance's hub cursor: let the hub route these first, or the
    // fresh pair may get them (the hub trails the log by a moment).
    const [newest] = await server.deps.db.select({ id: max(schema.events.id) }).from(schema.events);
    await until("the hub has routed the backlog", () => server.deps.hub.cursor() >= (newest?.id ?? 0));
    const requests = [
      { id: 1, params: { path: "events.subscribe", input: { lastEventId: "1" } } },
      { id: "sub-7", jsonrpc: "2.0", params: { path: "events.subscribe", input: undefined, lastEventId: "1" } },
      { id: 12, params: { path: "events.subscribe" } },
    ];
    const pairs: Awaited<ReturnType<typeof subscriber>>[][] = [];
    for (const request of requests) {
      pairs.push([await subscriber(server.wsUrl, user.accessToken, request), await subscriber(stock.url, user.accessToken, request)]);
    }
    const all = pairs.flat();
    const has = (s: (typeof all)[number], tag: string, n: number) => s.events().some((f) => f.includes(`"n":${n},"tag":"${tag}"`));
    // The resumed ones replay the backlog (through the adapter); the fresh one starts with a checkpoint.
    await until("the backlog", () => pairs.slice(0, 2).every((pair) => pair.every((s) => has(s, "before", 2))));
    expect(pairs[2]?.every((s) => s.events().length === 0)).toBe(true);
    await until("the fresh streams' first checkpoint", () => all.every((s) => s.checkpoints().length > 0));
    // Live now (written by the engine's streams themselves).
    await emitUserEvents(server, user.user.id, 4, 2, "live");
    await until("the live events", () => all.every((s) => has(s, "live", 3)));
    // Quiet for longer than EVENT_CHECKPOINT_MS: each stream gets a checkpoint at the last event.
    const lastId = JSON.parse(pairs[0]?.[0]?.events().at(-1) ?? "{}").result.id;
    await until("a checkpoint at the last event", () => all.every((s) => s.checkpoints().some((f) => JSON.parse(f).result.id === lastId)));

    for (const [engine, reference] of pairs) {
      if (!engine || !reference) throw new Error("missing subscriber");
      expect(engine.frames[0]).toBe(reference.frames[0]); // "started"
      expect(engine.events()).toEqual(reference.events());
      expect(engine.events().length).toBeGreaterThanOrEqual(4);
      const referenceCheckpoints = new Set(reference.checkpoints().map(withoutTime));
      for (const frame of engine.checkpoints()) expect(referenceCheckpoints).toContain(withoutTime(frame));
      engine.close();
      reference.close();
    }
  });

  it("serializes a live event once for all of its subscribers", async () => {
    const user = await signUp(server, randomLogin("shared"));
    const subscribers: Awaited<ReturnType<typeof subscriber>>[] = [];
    for (let i = 0; i < 5; i++)
      subscribers.push(await subscriber(server.wsUrl, user.accessToken, { id: i + 1, params: { path: "events.subscribe" } }));
    await until("every stream is live", () => subscribers.every((s) => s.checkpoints().length > 0));
    const tag = randomLogin("tag");
    const stringify = vi.spyOn(JSON, "stringify");
    try {
      await emitUserEvents(server, user.user.id, 2, 1, tag);
      await until("both events on every stream", () => subscribers.every((s) => s.events().length === 2));
      const ofEvents = stringify.mock.calls.filter(([value]) => {
        const event = value as { type?: unknown; payload?: { tag?: unknown }; createdAt?: unknown } | null;
        return event?.type === "keys.changed" && event.payload?.tag === tag && typeof event.createdAt === "string";
      });
      expect(ofEvents).toHaveLength(2);
    } finally {
      stringify.mockRestore();
    }
    for (const s of subscribers) s.close();
  });
});
