import { AppError, type Database, type EventRow, latestEventId, listTeamIdsForUser, prunedThroughEventId, readEvents } from "@osmynt/db";
import type { WebSocket } from "ws";
import { CloseCodes } from "../../realtime/connections.js";
import type { EventHub } from "../../realtime/event-hub.js";
import type { EventType, StreamEvent } from "./events.types.js";

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

const membershipChange = new Set(["team.memberJoined", "team.memberLeft", "team.deleted"]);

/**
 * Keeps the user's team set current as membership events pass: a member added starts receiving
 * the team's events with its join; a member removed stops at its removal (it still gets the copy
 * addressed to it personally); a deleted team goes silent.
 */
function applyMembership(row: EventRow, userId: string, teams: Set<string>) {
  if (!membershipChange.has(row.type) || !row.teamId) return;
  if (row.type === "team.deleted") teams.delete(row.teamId);
  else if (row.payload.userId === userId) {
    if (row.type === "team.memberJoined") teams.add(row.teamId);
    else teams.delete(row.teamId);
  }
}

function visible(row: EventRow, userId: string, teams: Set<string>) {
  return row.userId === userId || (row.teamId !== null && teams.has(row.teamId));
}

export function toStreamEvent(row: EventRow): StreamEvent {
  return {
    id: String(row.id),
    type: row.type as EventType,
    teamId: row.teamId,
    userId: row.userId,
    payload: row.payload,
    createdAt: row.createdAt.toISOString(),
  };
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
 * The hub listener is registered *before* the backlog is read, and rows at or below the last id
 * handled are dropped, so the hand-over neither loses nor repeats an event.
 */
export async function* streamEvents(p: StreamParams): AsyncGenerator<StreamEvent> {
  const queue: EventRow[] = [];
  let wake: (() => void) | null = null;
  let overflow = false;
  const stop = p.hub.listen((row) => {
    if (queue.length >= p.bufferLimit) overflow = true;
    else queue.push(row);
    wake?.();
  });
  const onAbort = () => wake?.();
  p.signal?.addEventListener("abort", onAbort);
  try {
    const teams = new Set(await listTeamIdsForUser(p.db, { userId: p.userId }));
    let last = p.lastEventId ?? p.hub.cursor();

    if (p.lastEventId !== null) {
      // The hub may trail the log by a moment, so only the database can say a cursor is from the future.
      if (p.lastEventId > p.hub.cursor() && p.lastEventId > (await latestEventId(p.db))) {
        throw new AppError("PRECONDITION_FAILED", "resync required: lastEventId is ahead of this server's event log", {
          resyncRequired: true,
        });
      }
      await assertNotPruned(p.db, p.lastEventId);
      for (;;) {
        const rows = await readEvents(p.db, { after: last, limit: BACKLOG_PAGE, audience: { userId: p.userId, teamIds: [...teams] } });
        // Retention may have run while this page was read: if it got past our position, the page can have a gap.
        await assertNotPruned(p.db, last);
        for (const row of rows) {
          last = row.id;
          applyMembership(row, p.userId, teams);
          if (visible(row, p.userId, teams)) yield toStreamEvent(row);
        }
        if (rows.length < BACKLOG_PAGE) break;
      }
    }

    let lastYieldAt = Date.now();
    if (p.lastEventId === null) {
      // A fresh stream hands out its starting position at once, so a client that loses the
      // connection before any event arrives resumes from here instead of from "now".
      yield checkpoint(last);
    }
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
      applyMembership(row, p.userId, teams);
      if (visible(row, p.userId, teams)) {
        lastYieldAt = Date.now();
        yield toStreamEvent(row);
      }
    }
  } finally {
    stop();
    p.signal?.removeEventListener("abort", onAbort);
  }
}
