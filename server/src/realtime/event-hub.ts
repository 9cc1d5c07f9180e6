import { type Database, type EventRow, latestEventId, readEvents } from "@osmynt/db";
import type { Logger } from "pino";
import type { EventBus } from "../bus/index.js";

export interface EventHubOptions {
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Poll interval while the bus is down (notifications lost), in ms. */
  fallbackPollMs?: number;
  /** Safety-net poll interval while the bus is up, in ms. */
  idlePollMs?: number;
}

export interface EventHub {
  /** Every committed event, once, in id order, from the moment of listening. */
  listen(listener: (row: EventRow) => void): () => void;
  /** The newest event id this instance has fanned out. */
  cursor(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const PAGE = 500;

/**
 * One reader of the event log per instance. Bus notifications (or, while the bus is down, a
 * short poll) wake it; it reads the log after its cursor and fans each row out to the local
 * subscriptions, which filter by audience. So N subscribers cost one query per batch of events,
 * not N, and a lost notification only delays delivery until the next poll.
 */
export function createEventHub(options: EventHubOptions): EventHub {
  const { db, bus } = options;
  const log = options.logger.child({ component: "event-hub" });
  const fallbackPollMs = options.fallbackPollMs ?? 500;
  const idlePollMs = options.idlePollMs ?? 5000;
  const listeners = new Set<(row: EventRow) => void>();
  let cursor = 0;
  let running = false;
  let again = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribeBus = () => {};
  let unsubscribeStatus = () => {};
  let current: Promise<void> = Promise.resolve();

  async function pump(): Promise<void> {
    if (running) {
      again = true;
      return current;
    }
    running = true;
    current = (async () => {
      try {
        do {
          again = false;
          for (;;) {
            const rows = await readEvents(db, { after: cursor, limit: PAGE });
            for (const row of rows) {
              cursor = row.id;
              for (const listener of listeners) listener(row);
            }
            if (rows.length < PAGE || stopped) break;
          }
        } while (again && !stopped);
      } catch (error) {
        log.warn({ err: error }, "reading the event log failed; retrying on the next poll");
      } finally {
        running = false;
      }
    })();
    return current;
  }

  function schedule() {
    clearTimeout(timer);
    if (stopped) return;
    const delay = bus.status() === "up" ? idlePollMs : fallbackPollMs;
    timer = setTimeout(() => {
      void pump().finally(schedule);
    }, delay);
    timer.unref();
  }

  return {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    cursor: () => cursor,
    async start() {
      stopped = false;
      cursor = await latestEventId(db);
      unsubscribeBus = bus.subscribe((note) => {
        if (note.maxId > cursor) void pump();
      });
      unsubscribeStatus = bus.onStatus((status) => {
        // Notifications may have been lost while the bus was down: catch up at once, then
        // poll at the rate that suits the new status.
        void pump();
        schedule();
        log.info({ status }, status === "up" ? "bus back; live notifications resume" : "bus down; polling the event log");
      });
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      unsubscribeBus();
      unsubscribeStatus();
      listeners.clear();
      await current;
    },
  };
}
