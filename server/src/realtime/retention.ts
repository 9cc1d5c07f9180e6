import { type Database, pruneEvents } from "@osmynt/db";
import type { Logger } from "pino";

/**
 * Prunes the event log past its retention, hourly (and once at start). Every instance runs it;
 * the delete is idempotent. Clients whose cursor falls before the oldest kept event are told to
 * resync by events.subscribe rather than silently skipping what was pruned.
 */
export function startRetention(options: { db: Database; retentionMs: number; logger: Logger; everyMs?: number }) {
  const run = async () => {
    try {
      const removed = await pruneEvents(options.db, new Date(Date.now() - options.retentionMs));
      if (removed > 0) options.logger.info({ removed }, "pruned events past retention");
    } catch (error) {
      options.logger.warn({ err: error }, "pruning the event log failed; will retry");
    }
  };
  const first = setTimeout(run, 5_000);
  const timer = setInterval(run, options.everyMs ?? 3_600_000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
