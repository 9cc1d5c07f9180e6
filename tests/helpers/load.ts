import { recordEvents } from "@osmynt/db";
import type { TestServer } from "./server.js";

/**
 * The tests' load generator: commits events through the real log and bus of one instance
 * (a transaction per batch, announced after commit), as a mutation would. Test-only on purpose:
 * its rows are `keys.changed` to the user with a payload of the test's own (`{ tag, n }`, read back
 * with `loadOf`), outside the event catalogue, so they are written with `recordEvents` directly
 * rather than through the server's `emit`, which accepts catalogue events only.
 */
export async function emitUserEvents(server: TestServer, userId: string, count: number, batch = 1, tag = "load"): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    const rows = Array.from({ length: Math.min(batch, count - i) }, (_, k) => ({
      type: "keys.changed",
      userId,
      teamId: null,
      payload: { tag, n: i + k },
    }));
    const written = await server.deps.db.transaction((tx) => recordEvents(tx, rows));
    server.deps.bus.publish({ maxId: Math.max(...written.map((r) => r.id)) });
  }
}

/** What a load event carries. */
export function loadOf(event: { payload: unknown }): { tag: string; n: number } {
  return event.payload as { tag: string; n: number };
}
