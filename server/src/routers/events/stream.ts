import { AppError, type Database, type EventRow, latestEventId, prunedThroughEventId, readVisibleEvents } from "@osmynt/db";
import type { WebSocket } from "ws";
import { CloseCodes } from "../../realtime/connections.js";
import type { EventHub } from "../../realtime/event-hub.js";
import type { StreamEvent } from "./events.types.js";
import { MembershipWindows } from "./membership-windows.js";

export interface StreamParams {
  db: Database;
  hub: EventHub;
  userId: string;
  sessionId: string;
  lastEventId: number | null;
  signal: AbortSignal | undefined;
  socket: WebSocket | undefined;
  /** Events queued for this subscription past which it is too slow and is ended. */
  bufferLimit: number;
  /** Unsent bytes on the socket past which the consumer is too slow and is disconnected. */
  maxBufferedBytes: number;
}

const BACKLOG_PAGE = 500;
/** With nothing visible for this long, a checkpoint moves the client's cursor forward. */
const CHECKPOINT_AFTER_MS = 60_000;

/**
 * A log row as its catalogue event. Rows are parsed against the catalogue when written (withEvents),
 * so the row's type and payload are trusted here rather than parsed again for every subscriber.
 */
export function toStreamEvent(row: EventRow): StreamEvent {
  return {
    id: String(row.id),
    type: row.type,
    teamId: row.teamId,
    userId: row.userId,
    payload: row.payload,
    createdAt: row.createdAt.toISOString(),
  } as StreamEvent;
}

/**
 * A cursor below the pruned-through mark may have missed events retention deleted (whether or
 * not any is left in the log): the client must reload its state instead of resuming.
 */
async function assertNotPruned(db: Database, cursor: number) {
  const prunedThrough = await prunedThroughEventId(db);
  if (cursor < prunedThrough) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "resync required: events after lastEventId were pruned by retention; reload state and subscribe without lastEventId",
      { resyncRequired: true, prunedThroughEventId: String(prunedThrough) },
    );
  }
}

function checkpoint(position: number): StreamEvent {
  return { id: String(position), type: "sync.checkpoint", teamId: null, userId: null, payload: {}, createdAt: new Date().toISOString() };
}

/**
 * The user's event stream: backlog from the log after `lastEventId`, then live rows from the hub.
 * The hub subscription is registered *before* the backlog is read, and rows at or below the last
 * id handled are dropped, so the hand-over neither loses nor repeats an event. A fresh stream
 * (no `lastEventId`) starts at the hub's position and reads the short backlog since then, which
 * also covers team events routed before its teams were known.
 *
 * What the user may see is decided per event by their membership windows (membership as it was at
 * that event, from the log's own join/leave events), for the backlog and live alike; the queue
 * holds only those events, so its limit measures this user's backlog, not the deployment's.
 */
export async function* streamEvents(p: StreamParams): AsyncGenerator<StreamEvent> {
  const queue: EventRow[] = [];
  const windows = new MembershipWindows(p.userId);
  let windowsLoaded = false;
  let wake: (() => void) | null = null;
  let overflow = false;
  const start = p.hub.cursor();
  const subscription = p.hub.subscribe(p.userId, (row) => {
    windows.apply(row);
    // Until the windows are loaded the hub's routing (this user, their teams) is all we know.
    if (windowsLoaded && !windows.visible(row)) return;
    if (queue.length >= p.bufferLimit) overflow = true;
    else queue.push(row);
    wake?.();
  });
  const onAbort = () => wake?.();
  p.signal?.addEventListener("abort", onAbort);
  try {
    let last = p.lastEventId ?? start;

    if (p.lastEventId !== null) {
      // The hub may trail the log by a moment, so only the database can say a cursor is from the future.
      if (p.lastEventId > p.hub.cursor() && p.lastEventId > (await latestEventId(p.db))) {
        throw new AppError("PRECONDITION_FAILED", "resync required: lastEventId is ahead of this server's event log", {
          resyncRequired: true,
        });
      }
      await assertNotPruned(p.db, p.lastEventId);
    } else {
      // A fresh stream hands out its starting position at once, so a client that loses the
      // connection before any event arrives resumes from here instead of from "now".
      yield checkpoint(last);
    }

    for (let first = true; ; first = false) {
      const page = await readVisibleEvents(p.db, { userId: p.userId, after: last, limit: BACKLOG_PAGE });
      windows.merge(page.windows);
      subscription.addTeams(windows.teamsAfter(last));
      if (first) {
        windowsLoaded = true;
        const routed = queue.splice(0);
        queue.push(...routed.filter((row) => windows.visible(row)));
      }
      // Retention may have run while this page was read: if it got past our position, the page can have a gap.
      if (p.lastEventId !== null) await assertNotPruned(p.db, last);
      for (const row of page.rows) {
        last = row.id;
        if (windows.visible(row)) yield toStreamEvent(row);
      }
      if (page.rows.length < BACKLOG_PAGE) break;
    }

    let lastYieldAt = Date.now();
    while (!p.signal?.aborted) {
      if (overflow || (p.socket && p.socket.bufferedAmount > p.maxBufferedBytes)) {
        p.socket?.close(CloseCodes.slowConsumer, "slow consumer: resume with lastEventId");
        throw new AppError("TOO_MANY_REQUESTS", "slow consumer: the stream fell too far behind; reconnect with lastEventId to resume");
      }
      const row = queue.shift();
      if (!row) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, CHECKPOINT_AFTER_MS);
        });
        clearTimeout(timer);
        wake = null;
        if (Date.now() - lastYieldAt >= CHECKPOINT_AFTER_MS && last > 0 && !p.signal?.aborted) {
          lastYieldAt = Date.now();
          yield checkpoint(last);
        }
        continue;
      }
      if (row.id <= last) continue;
      last = row.id;
      if (row.type === "session.revoked" && row.payload.sessionId === p.sessionId) {
        throw new AppError("UNAUTHORIZED", "the session of this subscription was revoked; sign in again");
      }
      if (windows.visible(row)) {
        lastYieldAt = Date.now();
        yield toStreamEvent(row);
      }
    }
  } finally {
    subscription.close();
    p.signal?.removeEventListener("abort", onAbort);
  }
}
