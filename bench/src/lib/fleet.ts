import { fileURLToPath } from "node:url";
import { type ServerProcess, startScript } from "./processes.js";
import { percentile } from "./stats.js";

const clientScript = fileURLToPath(new URL("../clients/subscribers.ts", import.meta.url));

export interface FleetTally {
  /** Matching messages received, duplicates included. */
  receipts: number;
  /** Distinct (subscriber, event id) pairs. */
  unique: number;
  p50: number;
  p99: number;
  /** When the last matching message arrived (ms since the epoch; 0 for none). */
  lastReceiptAt: number;
  /** CPU the client processes spent since `begin`, in µs. */
  clientCpuMicros: number;
  /** The event ids the fleet's first subscriber saw (for the wire check against @trpc/client). */
  firstIds: string[];
  /** Streams the server ended during the run, by reason (these clients do not resume). */
  ends: Record<string, number>;
}

export interface Fleet {
  size: number;
  /** Starts counting events of this type (and team) on every subscriber, from nothing. */
  begin(filter: { type?: string; teamId?: string }): Promise<void>;
  /** Whether every subscriber saw `count` distinct events within `timeoutMs`. */
  waitAll(count: number, timeoutMs: number): Promise<boolean>;
  collect(): Promise<FleetTally>;
  close(): Promise<void>;
}

/**
 * How many client processes hold `n` subscribers: one event loop parsing every delivery of a
 * thousand subscribers at peak rates measures itself, not the server (BENCH_CLIENTS overrides).
 */
export function clientProcessesFor(n: number): number {
  const fixed = Number(process.env.BENCH_CLIENTS);
  if (fixed > 0) return fixed;
  return n <= 200 ? 1 : n <= 2000 ? 2 : 4;
}

/**
 * `tokens.length` subscribers of `events.subscribe` at `wsUrl` (null tokens: unauthenticated, for
 * the raw baseline), spread over client processes of their own, opened in waves.
 */
export async function openFleet(wsUrl: string, tokens: (string | null)[], processes = clientProcessesFor(tokens.length)): Promise<Fleet> {
  const count = Math.max(1, Math.min(processes, tokens.length));
  const clients: ServerProcess[] = await Promise.all(Array.from({ length: count }, () => startScript(clientScript, {}, [])));
  const cpuAtBegin: number[] = [];
  try {
    await Promise.all(
      clients.map((client, c) => client.request("open", { wsUrl, tokens: tokens.filter((_, i) => i % count === c), wave: 100 })),
    );
  } catch (error) {
    await Promise.all(clients.map((client) => client.stop()));
    throw error;
  }
  return {
    size: tokens.length,
    async begin(filter) {
      await Promise.all(clients.map((client) => client.request("begin", filter)));
      const usage = await Promise.all(clients.map((client) => client.usage()));
      usage.forEach((u, c) => {
        cpuAtBegin[c] = u.cpuMicros;
      });
    },
    async waitAll(n, timeoutMs) {
      const done = await Promise.all(clients.map((client) => client.request<boolean>("wait", { count: n, timeoutMs })));
      return done.every(Boolean);
    },
    async collect() {
      type Part = {
        receipts: number;
        unique: number;
        latencies: number[];
        lastReceiptAt: number;
        cpuMicros: number;
        firstIds: string[];
        ends: Record<string, number>;
      };
      const parts = await Promise.all(clients.map((client) => client.request<Part>("collect")));
      const latencies = parts.flatMap((p) => p.latencies);
      return {
        receipts: parts.reduce((s, p) => s + p.receipts, 0),
        unique: parts.reduce((s, p) => s + p.unique, 0),
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        lastReceiptAt: Math.max(0, ...parts.map((p) => p.lastReceiptAt)),
        clientCpuMicros: parts.reduce((s, p, c) => s + p.cpuMicros - (cpuAtBegin[c] ?? 0), 0),
        firstIds: parts[0]?.firstIds ?? [],
        ends: mergeCounts(parts.map((p) => p.ends)),
      };
    },
    async close() {
      await Promise.all(clients.map((client) => client.request("close").catch(() => {})));
      await Promise.all(clients.map((client) => client.stop()));
    },
  };
}

function mergeCounts(parts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) for (const [key, n] of Object.entries(part)) total[key] = (total[key] ?? 0) + n;
  return total;
}
