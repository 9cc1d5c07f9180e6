import type { DbHandle } from "@osmynt/db";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { EventBus } from "./bus/index.js";

/** Something /metrics reads at scrape time: an app's open connections and WebSockets. */
export interface ServerGauges {
  connections(): number;
  websockets(): number;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The instance's Prometheus metrics, one registry per process (a registry per deps, so several
 * instances in one test process never clash). Counters are moved where things happen; gauges of
 * state (bus, pool, sockets) are read when scraped, so they cannot drift.
 */
export function createMetrics(watch: { bus: EventBus; database: DbHandle }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "osmynt_" });
  const servers = new Set<ServerGauges>();
  const sum = (read: (s: ServerGauges) => number) => [...servers].reduce((total, s) => total + read(s), 0);
  const registers = [registry];

  const metrics = {
    registry,
    httpDuration: new Histogram({
      name: "osmynt_http_request_duration_seconds",
      help: "HTTP request duration by route and status",
      labelNames: ["method", "route", "status"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    callDuration: new Histogram({
      name: "osmynt_trpc_call_duration_seconds",
      help: "tRPC call duration (HTTP, WebSocket and REST alike) by procedure, type and outcome (ok or the error code); a subscription is timed until its stream starts",
      labelNames: ["procedure", "type", "outcome"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    eventsAppended: new Counter({
      name: "osmynt_events_appended_total",
      help: "Events committed to the log by this instance",
      registers,
    }),
    eventsDelivered: new Counter({
      name: "osmynt_events_delivered_total",
      help: "Events sent to subscribers by this instance (one per subscriber)",
      registers,
    }),
    deliveryLag: new Histogram({
      name: "osmynt_event_delivery_lag_seconds",
      help: "From an event's write (its created_at) to its send to a subscriber; backlog replays after a reconnect are included",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    subscriptionsOpen: new Gauge({
      name: "osmynt_subscriptions_open",
      help: "Event streams (events.subscribe) open on this instance, WebSocket and SSE",
      registers,
    }),
    rateLimitRejections: new Counter({
      name: "osmynt_rate_limit_rejections_total",
      help: "Calls refused by a rate limit, by budget (address, user, procedure:*); ':unavailable' when Redis was down and RATE_LIMIT_ON_REDIS_DOWN=closed",
      labelNames: ["budget"] as const,
      registers,
    }),
    /** Adds an app's connection gauges (several apps may share one deps in tests). */
    watchServer(gauges: ServerGauges) {
      servers.add(gauges);
      return () => servers.delete(gauges);
    },
  };

  new Gauge({
    name: "osmynt_connections_open",
    help: "TCP connections open (HTTP keep-alive, SSE and WebSocket); compare with MAX_CONNECTIONS",
    registers,
    collect() {
      this.set(sum((s) => s.connections()));
    },
  });
  new Gauge({
    name: "osmynt_websockets_open",
    help: "WebSocket connections open on this instance",
    registers,
    collect() {
      this.set(sum((s) => s.websockets()));
    },
  });
  new Gauge({
    name: "osmynt_bus_up",
    help: "1 while the event bus delivers notifications (Redis subscribed, or the in-process bus), 0 while readers fall back to polling",
    labelNames: ["kind"] as const,
    registers,
    collect() {
      this.reset();
      this.set({ kind: watch.bus.kind }, watch.bus.status() === "up" ? 1 : 0);
    },
  });
  const pool = (name: string, help: string, read: (p: ReturnType<DbHandle["pool"]>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["kind"] as const,
      registers,
      collect() {
        this.reset();
        this.set({ kind: watch.database.kind }, read(watch.database.pool()));
      },
    });
  pool("osmynt_db_pool_size", "Database connections this instance may open (DATABASE_POOL_SIZE; PGlite: 1)", (p) => p.size);
  pool("osmynt_db_pool_in_use", "Database connections running a query or holding a transaction (PGlite: 0)", (p) => p.inUse);
  pool("osmynt_db_pool_waiting", "Queries and transactions waiting for a database connection", (p) => p.waiting);

  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
