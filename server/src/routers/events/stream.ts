import { AppError, type Database, type EventRow, latestEventId, prunedThroughEventId, readVisibleEvents } from "@osmynt/db";
import type { TrackedEnvelope } from "@trpc/server";
import type { WebSocket } from "ws";
import type { Metrics } from "../../metrics.js";
import type { CheckpointSweep, QuietStream } from "../../realtime/checkpoints.js";
import { CloseCodes } from "../../realtime/connections.js";
import { type Delivery, deliveryOf, singleDelivery } from "../../realtime/deliveries.js";
import type { AudienceSubscription, EventHub } from "../../realtime/event-hub.js";
import { dataFrame, framePrefix, type SubscriptionWire } from "../../realtime/ws-encoder.js";
import type { StreamEvent } from "./events.types.js";
import { MembershipWindows } from "./membership-windows.js";

export interface StreamParams {
  db: Database;
  hub: EventHub;
  checkpoints: CheckpointSweep;
  metrics: Pick<Metrics, "eventsDelivered" | "deliveryLag"> | undefined;
  userId: string;
  sessionId: string;
  lastEventId: number | null;
  signal: AbortSignal | undefined;
  socket: WebSocket | undefined;
  /** The WebSocket request this stream answers (see realtime/ws-encoder.ts); lets it write its own live frames. */
  wire: SubscriptionWire | undefined;
  /** Events queued for this subscription past which it is too slow and is ended. */
  bufferLimit: number;
  /** Unsent bytes on the socket past which the consumer is too slow and is disconnected. */
  maxBufferedBytes: number;
  /** Called when the stream starts (its first `next`); throws to refuse it. */
  onOpen(): void;
  /** Called once when a stream that opened ends, however it ends. */
  onClose(): void;
}

type Result = IteratorResult<TrackedEnvelope<StreamEvent>, undefined>;

const BACKLOG_PAGE = 500;
const DONE: Result = Object.freeze({ done: true, value: undefined });
const WS_OPEN = 1;
const AS_TEXT = { binary: false } as const;

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

function checkpoint(position: number): Delivery {
  const event = {
    id: String(position),
    type: "sync.checkpoint",
    teamId: null,
    userId: null,
    payload: {},
    createdAt: new Date().toISOString(),
  };
  return singleDelivery(event as StreamEvent);
}

/**
 * The user's event stream: backlog from the log after `lastEventId`, then live rows from the hub.
 * The hub subscription is registered *before* the backlog is read, and rows at or below the last
 * id handled are dropped, so the hand-over neither loses nor repeats an event. A fresh stream
 * (no `lastEventId`) starts at the hub's position and reads the short backlog since then. The
 * hub learns the user's teams from the first page, so team events it routed while that page was
 * being read are read again from the log once the teams are routed (see `readBacklog`).
 *
 * What the user may see is decided per event by their membership windows (membership as it was at
 * that event, from the log's own join/leave events), for the backlog and live alike; the queue
 * holds only those events, so its limit measures this user's backlog, not the deployment's.
 *
 * The live part is a plain iterator over a queue rather than an async generator, and a waiting
 * stream holds no timer: the instance's checkpoint sweep finds the quiet ones. The values handed
 * out are shared by the whole audience (realtime/deliveries.ts).
 *
 * Over a WebSocket, once the backlog is out and tRPC asks for a value the stream does not have
 * yet, the stream writes its live events to the socket itself, as the very frames the adapter
 * would write (the same bytes for every subscriber of the same request id), and leaves tRPC's
 * `next` pending until the stream ends: an event then costs a subscriber no promise, no message
 * object and no serialization. This relies on the adapter asking for the next value only after
 * sending the previous one (so nothing it holds can be overtaken); errors and the end of the
 * stream still go through tRPC (the pending `next` rejects or completes).
 */
export class EventStream implements AsyncIterableIterator<TrackedEnvelope<StreamEvent>>, QuietStream {
  private readonly queue: EventRow[] = [];
  private readonly windows: MembershipWindows;
  private subscription: AudienceSubscription | null = null;
  private windowsLoaded = false;
  private overflow = false;
  private last = 0;
  private backlog: AsyncGenerator<Delivery> | null = null;
  private waiter: { resolve(result: Result): void; reject(error: unknown): void } | null = null;
  private opened = false;
  /** Live frames are written to the socket by the stream itself (see above); the prefix they start with. */
  private directPrefix: string | null = null;
  private closed = false;
  /** For the checkpoint sweep: something was handed out since its last look, or when it saw the stream go quiet. */
  private delivered = false;
  private quietSince = Date.now();

  constructor(private readonly p: StreamParams) {
    this.windows = new MembershipWindows(p.userId);
  }

  /** Like the generator it replaces, the stream starts when it is first read, not when it is made. */
  private open() {
    const p = this.p;
    p.onOpen();
    this.opened = true;
    const start = p.hub.cursor();
    this.last = p.lastEventId ?? start;
    this.subscription = p.hub.subscribe(p.userId, (row) => this.receive(row));
    this.backlog = this.readBacklog(start);
    p.signal?.addEventListener("abort", this.onAbort);
    p.checkpoints.add(this);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<Result> {
    if (!this.opened && !this.closed) {
      if (this.p.signal?.aborted) this.closed = true;
      else {
        try {
          this.open();
        } catch (error) {
          this.closed = true;
          return Promise.reject(error);
        }
      }
    }
    if (this.backlog) return this.nextFromBacklog(this.backlog);
    if (this.closed) return Promise.resolve(DONE);
    const taken = this.take();
    if (taken === null) {
      if (this.p.wire && this.p.socket) this.directPrefix ??= framePrefix(this.p.wire);
      return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
    }
    if (taken instanceof Error) {
      this.close();
      return Promise.reject(taken);
    }
    return Promise.resolve(taken);
  }

  return(): Promise<Result> {
    this.close();
    return Promise.resolve(DONE);
  }

  checkpointIfQuiet(now: number, periodMs: number) {
    if (this.delivered) {
      this.delivered = false;
      this.quietSince = now;
      return;
    }
    if (now - this.quietSince < periodMs || !this.waiter || this.last <= 0) return;
    this.quietSince = now;
    if (this.directPrefix !== null) this.write(this.directPrefix, checkpoint(this.last));
    else this.settle(checkpoint(this.last));
  }

  /** The hub's listener: routed rows, in id order, as they are read from the log. */
  private receive(row: EventRow) {
    this.windows.apply(row);
    // Until the windows are loaded the hub's routing (this user, their teams) is all we know.
    if (this.windowsLoaded && !this.windows.visible(row)) return;
    if (this.queue.length >= this.p.bufferLimit) this.overflow = true;
    else this.queue.push(row);
    if (!this.waiter) return;
    const prefix = this.directPrefix;
    if (prefix === null) {
      const taken = this.take();
      if (taken !== null) this.settle(taken);
      return;
    }
    for (let taken = this.take(); taken !== null; taken = this.take()) {
      if (taken instanceof Error) return this.settle(taken);
      this.write(prefix, taken);
    }
  }

  private write(prefix: string, delivery: Delivery) {
    const socket = this.p.socket;
    // Like the adapter, nothing more once the socket is closing.
    if (socket?.readyState === WS_OPEN) socket.send(dataFrame(prefix, delivery), AS_TEXT);
  }

  /** The next live value to hand out, an error that ends the stream, or null when there is none yet. */
  private take(): Delivery | Error | null {
    const { socket } = this.p;
    for (;;) {
      if (this.overflow || (socket && socket.bufferedAmount > this.p.maxBufferedBytes)) {
        socket?.close(CloseCodes.slowConsumer, "slow consumer: resume with lastEventId");
        return new AppError("TOO_MANY_REQUESTS", "slow consumer: the stream fell too far behind; reconnect with lastEventId to resume");
      }
      const row = this.queue.shift();
      if (!row) return null;
      if (row.id <= this.last) continue;
      this.last = row.id;
      if (row.type === "session.revoked" && row.payload.sessionId === this.p.sessionId) {
        return new AppError("UNAUTHORIZED", "the session of this subscription was revoked; sign in again");
      }
      if (this.windows.visible(row)) return this.delivering(row);
    }
  }

  private delivering(row: EventRow): Delivery {
    this.delivered = true;
    const metrics = this.p.metrics;
    if (metrics) {
      metrics.eventsDelivered.inc();
      metrics.deliveryLag.observe(Math.max(0, Date.now() - row.createdAt.getTime()) / 1000);
    }
    return deliveryOf(row);
  }

  /** Hands a value (or the error that ends the stream) to the waiting `next`. */
  private settle(taken: Delivery | Error) {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = null;
    if (taken instanceof Error) {
      this.close();
      waiter.reject(taken);
    } else {
      this.delivered = true;
      waiter.resolve(taken);
    }
  }

  private async nextFromBacklog(backlog: AsyncGenerator<Delivery>): Promise<Result> {
    let result: IteratorResult<Delivery>;
    try {
      result = await backlog.next();
    } catch (error) {
      this.close();
      throw error;
    }
    if (!result.done) return result.value;
    this.backlog = null;
    return this.next();
  }

  private async *readBacklog(start: number): AsyncGenerator<Delivery> {
    const p = this.p;
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
      yield checkpoint(start);
    }

    for (let first = true; ; first = false) {
      const hubBefore = p.hub.cursor();
      const page = await readVisibleEvents(p.db, { userId: p.userId, after: this.last, limit: BACKLOG_PAGE });
      if (this.closed) return;
      this.windows.merge(page.windows);
      const added = this.subscription?.addTeams(this.windows.teamsAfter(this.last)) ?? 0;
      // Until now the hub routed only this user's own events here: a team event it routed while
      // the page was read (committed after the page's snapshot, e.g. on another instance) reached
      // neither the page nor the queue, so one more page, read now that the team is routed here,
      // picks it up (the queue drops what both hold).
      const missedByHub = added > 0 && p.hub.cursor() > hubBefore;
      if (first) {
        this.windowsLoaded = true;
        const routed = this.queue.splice(0);
        this.queue.push(...routed.filter((row) => this.windows.visible(row)));
      }
      // Retention may have run while this page was read: if it got past our position, the page can have a gap.
      if (p.lastEventId !== null) await assertNotPruned(p.db, this.last);
      for (const row of page.rows) {
        this.last = row.id;
        if (this.windows.visible(row)) yield this.delivering(row);
      }
      if (page.rows.length < BACKLOG_PAGE && !missedByHub) break;
    }
    this.quietSince = Date.now();
  }

  private readonly onAbort = () => this.close();

  private close() {
    if (this.closed) return;
    this.closed = true;
    if (!this.opened) return;
    this.subscription?.close();
    this.p.signal?.removeEventListener("abort", this.onAbort);
    this.p.checkpoints.delete(this);
    this.queue.length = 0;
    void this.backlog?.return(undefined).catch(() => {});
    this.backlog = null;
    this.p.onClose();
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve(DONE);
  }
}
