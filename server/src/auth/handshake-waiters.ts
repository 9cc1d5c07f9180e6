import type { EventRow } from "@osmynt/db";
import type { EventHub } from "../realtime/event-hub.js";

/** The event written (in the same transaction) when a handshake completes or fails: it wakes waiters. */
export const HANDSHAKE_SETTLED = "handshake.settled";

/** `auth.handshake.onComplete` subscriptions one WebSocket may hold at once. */
export const WAITS_PER_CONNECTION = 4;
/** Subscriptions on one handshake at once, on this instance (the editor needs one; a reconnect overlaps). */
export const WAITS_PER_HANDSHAKE = 2;

export type WaitRefusal = { refused: string };

/**
 * Editors waiting for their browser sign-in. A waiter costs no query while it waits: the event hub
 * (this instance's one reader of the log, woken by the bus from any instance) hands over each
 * `handshake.settled` row, and only that handshake's waiters wake, to read their row once.
 */
function createHandshakeWaiters(hub: EventHub) {
  const wakers = new Map<string, Set<() => void>>();
  const perConnection = new WeakMap<object, number>();
  hub.listen((row: EventRow) => {
    if (row.type !== HANDSHAKE_SETTLED || typeof row.payload.handshakeId !== "string") return;
    for (const wake of wakers.get(row.payload.handshakeId) ?? []) wake();
  });

  return {
    /**
     * Takes a waiting slot for `handshakeId` (and for `connection`, when on a WebSocket), or says
     * why not. `release` gives it back; `next()` resolves at the next settlement of the handshake,
     * at `deadline`, or on abort, whichever is first; a settlement that came while the caller was
     * reading its row (not waiting) makes the next `next()` resolve at once.
     */
    acquire(
      handshakeId: string,
      connection: object | undefined,
    ): WaitRefusal | { next(deadline: Date, signal?: AbortSignal): Promise<void>; release(): void } {
      const held = connection ? (perConnection.get(connection) ?? 0) : 0;
      if (held >= WAITS_PER_CONNECTION)
        return { refused: `too many sign-in subscriptions on this connection (at most ${WAITS_PER_CONNECTION})` };
      let set = wakers.get(handshakeId);
      if ((set?.size ?? 0) >= WAITS_PER_HANDSHAKE)
        return { refused: `too many subscriptions waiting for this handshake (at most ${WAITS_PER_HANDSHAKE})` };
      if (!set) {
        set = new Set();
        wakers.set(handshakeId, set);
      }
      const waiters = set;
      if (connection) perConnection.set(connection, held + 1);
      let pending: (() => void) | null = null;
      // A settlement that lands while the caller is reading (not waiting) is remembered.
      let woken = false;
      const wake = () => {
        woken = true;
        pending?.();
      };
      waiters.add(wake);
      let released = false;
      return {
        next(deadline, signal) {
          return new Promise<void>((resolve) => {
            if (woken || signal?.aborted) {
              woken = false;
              resolve();
              return;
            }
            const timer = setTimeout(done, Math.max(0, Math.min(deadline.getTime() - Date.now() + 50, 2 ** 31 - 1)));
            function done() {
              clearTimeout(timer);
              signal?.removeEventListener("abort", done);
              pending = null;
              woken = false;
              resolve();
            }
            pending = done;
            signal?.addEventListener("abort", done, { once: true });
          });
        },
        release() {
          if (released) return;
          released = true;
          pending?.();
          waiters.delete(wake);
          if (waiters.size === 0) wakers.delete(handshakeId);
          if (connection) {
            const left = (perConnection.get(connection) ?? 1) - 1;
            if (left <= 0) perConnection.delete(connection);
            else perConnection.set(connection, left);
          }
        },
      };
    },
  };
}

export type HandshakeWaiters = ReturnType<typeof createHandshakeWaiters>;

const byHub = new WeakMap<EventHub, HandshakeWaiters>();

/** The waiters of this instance, one registry per event hub. */
export function handshakeWaiters(hub: EventHub): HandshakeWaiters {
  let waiters = byHub.get(hub);
  if (!waiters) {
    waiters = createHandshakeWaiters(hub);
    byHub.set(hub, waiters);
  }
  return waiters;
}
