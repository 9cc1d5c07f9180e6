import { recordEvents, type Transaction } from "@osmynt/db";
import type { AppDeps } from "../deps.js";
import { type EventToRecord, parseEvent } from "../events/catalogue.js";

/** Records events of the catalogue (type-checked here, parsed before the write) in the caller's transaction. */
export type Emit = (events: EventToRecord[]) => Promise<void>;

/**
 * Runs `work` in one transaction; the events it emits are written to the log in that transaction
 * and announced on the bus only after it commits (a rolled-back change announces nothing).
 */
export async function withEvents<T>(
  deps: Pick<AppDeps, "db" | "bus"> & Partial<Pick<AppDeps, "metrics">>,
  work: (tx: Transaction, emit: Emit) => Promise<T>,
): Promise<T> {
  let maxId = 0;
  let count = 0;
  const result = await deps.db.transaction(async (tx) => {
    const emit: Emit = async (events) => {
      const rows = await recordEvents(tx, events.map(parseEvent));
      count += rows.length;
      for (const row of rows) maxId = Math.max(maxId, row.id);
    };
    return work(tx, emit);
  });
  if (maxId > 0) deps.bus.publish({ maxId });
  if (count > 0) deps.metrics?.eventsAppended.inc(count);
  return result;
}
