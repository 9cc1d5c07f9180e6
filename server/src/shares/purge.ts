import { type Database, purgeExpiredShares } from "@osmynt/db";
import type { Logger } from "pino";

const BATCH = 500;

export interface SharePurge {
  /** Removes every expired share's rows now, batch by batch; returns how many shares went. */
  run(): Promise<number>;
  stop(): void;
}

/**
 * Expired shares are invisible at once (every read checks `expires_at`); this removes their rows
 * (ciphertext, wrapped keys, forwards, read marks) every `everyMs`, on every instance. Batches are
 * idempotent, so instances running it together only share the work.
 */
export function startSharePurge(options: { db: Database; everyMs: number; logger: Logger }): SharePurge {
  let running: Promise<number> | null = null;
  let stopped = false;
  const purgeAll = async () => {
    let total = 0;
    for (;;) {
      const removed = await purgeExpiredShares(options.db, { limit: BATCH });
      total += removed;
      if (removed < BATCH || stopped) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const run = () => {
    running ??= purgeAll().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(async () => {
    try {
      const removed = await run();
      if (removed > 0) options.logger.info({ removed }, "purged expired shares");
    } catch (error) {
      options.logger.warn({ err: error }, "purging expired shares failed; will retry");
    }
  }, options.everyMs);
  timer.unref();
  return {
    run,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
