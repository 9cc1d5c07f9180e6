import { type Database, pruneEventsBatch } from "@osmynt/db";
import type { Logger } from "pino";

export interface RetentionOptions {
  db: Database;
  retentionMs: number;
  /** Events deleted per transaction: keeps each delete short, whatever the backlog. */
  batchSize: number;
  logger: Logger;
  everyMs?: number;
}

export interface Retention {
  /** Prunes everything past retention now, batch by batch; returns how many events went. */
  run(): Promise<number>;
  stop(): void;
}

/**
 * Prunes the event log past its retention, hourly (and once shortly after start). Every instance
 * runs it; a batch is idempotent. It moves the log's pruned-through mark, so a client whose cursor
 * falls before it is told to resync by events.subscribe instead of silently skipping what went.
 */
export function startRetention(options: RetentionOptions): Retention {
  let running: Promise<number> | null = null;
  let stopped = false;

  const pruneAll = async () => {
    const olderThan = new Date(Date.now() - options.retentionMs);
    let total = 0;
    for (;;) {
      const { removed } = await pruneEventsBatch(options.db, { olderThan, limit: options.batchSize });
      total += removed;
      if (removed < options.batchSize || stopped) return total;
      // Let requests in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const run = () => {
    running ??= pruneAll().finally(() => {
      running = null;
    });
    return running;
  };
  const scheduled = async () => {
    try {
      const removed = await run();
      if (removed > 0) options.logger.info({ removed }, "pruned events past retention");
    } catch (error) {
      options.logger.warn({ err: error }, "pruning the event log failed; will retry");
    }
  };
  const first = setTimeout(scheduled, 5_000);
  const timer = setInterval(scheduled, options.everyMs ?? 3_600_000);
  first.unref();
  timer.unref();
  return {
    run,
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
