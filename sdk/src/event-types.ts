import type { Unsubscribable } from "@trpc/server/observable";
import type { RouterProcedures } from "./app-router.js";

/** An event as `events.subscribe` sends it, `sync.checkpoint` included. */
export type WireEvent = RouterProcedures["events.subscribe"]["output"];

/** The event types an app receives; `sync.checkpoint` only moves the cursor and is never yielded. */
export type OsmyntEventType = Exclude<WireEvent["type"], "sync.checkpoint">;

/**
 * One event, a union discriminated by `type` (the server's event catalogue, carried by the
 * generated router types): `event.type === "share.created"` narrows `event.payload`, and
 * `OsmyntEvent<"share.created">` is that one member.
 */
export type OsmyntEvent<T extends OsmyntEventType = OsmyntEventType> = Extract<WireEvent, { type: T }>;

/** The payload of one event type: `EventPayload<"keys.changed">["deviceId"]`. */
export type EventPayload<T extends OsmyntEventType> = OsmyntEvent<T>["payload"];

export interface EventsOptions {
  /** Resume after this event id (a cursor the app persisted); without it, live events from now on. */
  lastEventId?: string;
  /** Aborting it ends the iteration (it returns, it does not throw) and unsubscribes. */
  signal?: AbortSignal;
  /** `ws` (default) shares the client's WebSocket; `sse` opens an HTTP stream per subscription. */
  transport?: "ws" | "sse";
}

export interface StreamHandlers {
  onStarted(): void;
  onData(event: { id: string; data: WireEvent }): void;
  onError(error: unknown): void;
  onComplete(): void;
}

/** One `events.subscribe` over some transport. */
export type Subscribe = (input: { lastEventId: string } | undefined, handlers: StreamHandlers) => Unsubscribable;
