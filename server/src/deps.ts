import type { Database, DbHandle } from "@osmynt/db";
import type { Logger } from "pino";
import type { SessionCache } from "./auth/session-cache.js";
import type { EventBus } from "./bus/index.js";
import type { Config } from "./env.js";
import type { Limiter } from "./limits/limiter.js";
import type { Metrics } from "./metrics.js";
import type { CheckpointSweep } from "./realtime/checkpoints.js";
import type { ConnectionRegistry } from "./realtime/connections.js";
import type { EventHub } from "./realtime/event-hub.js";
import type { Retention } from "./realtime/retention.js";
import type { SharePurge } from "./shares/purge.js";

/** Everything a request needs from the process, injected once (tests build their own). */
export interface AppDeps {
  config: Config;
  database: DbHandle;
  db: Database;
  bus: EventBus;
  /** This instance's one reader of the event log, fanning rows out to its subscriptions. */
  hub: EventHub;
  /** The instance's one timer that sends quiet event streams their checkpoint. */
  checkpoints: CheckpointSweep;
  connections: ConnectionRegistry;
  /** Which sessions are active, remembered briefly (dropped at once when one ends; see auth/session-cache.ts). */
  sessionCache: SessionCache;
  /** Rate-limit counters, shared by every instance through Redis when it is configured. */
  limiter: Limiter;
  /** Pruning of the event log past retention (scheduled; `run` prunes now). */
  retention: Retention;
  /** Removal of expired shares' rows (scheduled; `run` purges now). */
  sharePurge: SharePurge;
  /** Prometheus metrics of this instance (GET /metrics). */
  metrics: Metrics;
  logger: Logger;
}
