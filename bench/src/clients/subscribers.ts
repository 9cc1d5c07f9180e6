/**
 * A load-client process: holds a share of the subscribers (lib/fleet.ts starts several, so no one
 * event loop has to parse every delivery) and answers the parent over IPC. Each subscriber speaks
 * tRPC's WebSocket protocol by hand (lib/engine-client.ts `subscribe`); every matching event is
 * counted per subscriber, and its latency is taken from its `createdAt` on arrival.
 */
import { type Subscriber, subscribe } from "../lib/engine-client.js";
import { waitFor } from "../lib/stats.js";

interface Filter {
  type?: string;
  teamId?: string;
}

let subscribers: Subscriber[] = [];
let filter: Filter | null = null;
let seen: Set<string>[] = [];
let receipts = 0;
let latencies: number[] = [];
let lastReceiptAt = 0;
/** Streams the server ended since `begin`, by reason. */
let ends: Record<string, number> = {};

function onEvent(index: number, event: any) {
  if (!filter) return;
  if (filter.type && event.type !== filter.type) return;
  if (filter.teamId && event.teamId !== filter.teamId) return;
  const now = Date.now();
  receipts++;
  lastReceiptAt = now;
  seen[index]?.add(event.id);
  latencies.push(now - Date.parse(event.createdAt));
}

const handlers: Record<string, (args: any) => Promise<unknown> | unknown> = {
  /** Opens one subscriber a token (null: none, for the raw baseline), `wave` at a time. */
  async open({ wsUrl, tokens, wave }: { wsUrl: string; tokens: (string | null)[]; wave: number }) {
    for (let start = 0; start < tokens.length; start += wave) {
      const batch = tokens.slice(start, start + wave).map((token, k) => {
        const index = subscribers.length + k;
        return subscribe(
          wsUrl,
          token,
          (event) => onEvent(index, event),
          (reason) => {
            ends[reason] = (ends[reason] ?? 0) + 1;
          },
        );
      });
      await Promise.all(batch.map((s) => s.started));
      subscribers.push(...batch);
    }
    return subscribers.length;
  },
  /** Starts counting events that match `filter`, from nothing. */
  begin(args: Filter) {
    filter = args;
    seen = subscribers.map(() => new Set());
    receipts = 0;
    latencies = [];
    lastReceiptAt = 0;
    ends = {};
    return true;
  },
  /** Waits until every subscriber has seen `count` distinct events (or `timeoutMs` passes). */
  async wait({ count, timeoutMs }: { count: number; timeoutMs: number }) {
    return waitFor(() => seen.every((s) => s.size >= count), timeoutMs, 5);
  },
  /** The tally since `begin`; stops counting. */
  collect() {
    const unique = seen.reduce((sum, s) => sum + s.size, 0);
    const tally = { receipts, unique, latencies, lastReceiptAt, cpuMicros: cpuMicros(), firstIds: [...(seen[0] ?? [])], ends };
    filter = null;
    return tally;
  },
  usage: () => ({ cpuMicros: cpuMicros(), rss: process.memoryUsage().rss }),
  close() {
    for (const s of subscribers) s.close();
    subscribers = [];
    return true;
  },
};

function cpuMicros() {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
}

process.on("message", async (message: any) => {
  if (message?.type !== "request") return;
  try {
    const handler = handlers[message.kind];
    if (!handler) throw new Error(`no handler for ${message.kind}`);
    process.send?.({ type: "answer", id: message.id, result: await handler(message.args) });
  } catch (error) {
    process.send?.({ type: "answer", id: message.id, error: (error as Error).message });
  }
});
process.once("disconnect", () => process.exit(0));
process.send?.({ type: "ready", url: "" });
