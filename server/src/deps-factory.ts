import { createDb, type DbHandle } from "@osmynt/db";
import type { Logger } from "pino";
import { createSessionCache } from "./auth/session-cache.js";
import { createBus } from "./bus/index.js";
import type { AppDeps } from "./deps.js";
import type { Config } from "./env.js";
import { createLimiter } from "./limits/limiter.js";
import { createMetrics } from "./metrics.js";
import { createCheckpointSweep } from "./realtime/checkpoints.js";
import { createConnectionRegistry } from "./realtime/connections.js";
import { createEventHub } from "./realtime/event-hub.js";
import { startRetention } from "./realtime/retention.js";
import { startSharePurge } from "./shares/purge.js";

/** Opens the database that `config` names and applies any migration it lacks. */
export async function openDatabase(config: Config, logger: Logger): Promise<DbHandle> {
  const database = await createDb({
    url: config.database.url,
    dataDir: config.database.dataDir,
    maxConnections: config.database.poolSize,
    connectTimeoutSeconds: config.database.connectTimeoutSeconds,
    statementTimeoutMs: config.database.statementTimeoutMs,
    onNotice: (message) => logger.debug({ notice: message }, "database notice"),
    onWarning: (message) => logger.error(message),
  });
  try {
    await database.migrate();
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  return database;
}

/** Opens the database (applying migrations) and the bus that `config` names. */
export async function openDeps(config: Config, logger: Logger): Promise<AppDeps & { close(): Promise<void> }> {
  const database = await openDatabase(config, logger);
  const bus = createBus({
    url: config.redis.url,
    channelPrefix: config.redis.channelPrefix,
    logger,
  });
  const metrics = createMetrics({ bus, database });
  const hub = createEventHub({ db: database.db, bus, logger });
  const checkpoints = createCheckpointSweep(config.realtime.checkpointMs);
  const connections = createConnectionRegistry();
  const limiter = createLimiter({
    redisUrl: config.redis.url,
    prefix: config.redis.channelPrefix,
    logger,
    onRedisDown: config.rateLimits.onRedisDown,
    onRejected: (budget) => metrics.rateLimitRejections.inc({ budget }),
  });
  const sessionCache = createSessionCache();
  // Revoking a session ends it on every instance as soon as its hub reads the event (at once
  // while the bus is up, within a poll while it is down): no more answers from memory, and its
  // WebSocket connections close.
  hub.listen((row) => {
    if (row.type !== "session.revoked" || typeof row.payload.sessionId !== "string") return;
    sessionCache.invalidate(row.payload.sessionId);
    connections.closeSession(row.payload.sessionId);
  });
  await hub.start();
  const retention = startRetention({
    db: database.db,
    retentionMs: config.eventRetentionMs,
    batchSize: config.eventRetentionBatchSize,
    logger,
  });
  const sharePurge = startSharePurge({ db: database.db, everyMs: config.shares.purgeIntervalMs, logger });
  return {
    config,
    database,
    db: database.db,
    bus,
    hub,
    checkpoints,
    connections,
    sessionCache,
    limiter,
    retention,
    sharePurge,
    metrics,
    logger,
    async close() {
      retention.stop();
      sharePurge.stop();
      await hub.stop();
      checkpoints.stop();
      await bus.close();
      await limiter.close();
      await database.close();
    },
  };
}
