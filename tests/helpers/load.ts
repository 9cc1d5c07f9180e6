import { withEvents } from "@osmynt/server";
import type { TestServer } from "./server.js";

/**
 * The tests' load generator: commits events through the real log and bus of one instance
 * (a transaction per batch, announced after commit), as a mutation would. Test-only on purpose.
 */
export async function emitUserEvents(server: TestServer, userId: string, count: number, batch = 1, tag = "load"): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    const rows = Array.from({ length: Math.min(batch, count - i) }, (_, k) => ({
      type: "keys.changed",
      userId,
      teamId: null,
      payload: { tag, n: i + k },
    }));
    await withEvents(server.deps, (_tx, emit) => emit(rows));
  }
}
