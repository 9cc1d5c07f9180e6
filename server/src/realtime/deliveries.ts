import type { EventRow } from "@osmynt/db";
import { type TrackedEnvelope, tracked } from "@trpc/server";
import type { StreamEvent } from "../events/catalogue.js";

export type Delivery = IteratorYieldResult<TrackedEnvelope<StreamEvent>>;

/**
 * A log row as its catalogue event. Rows are parsed against the catalogue when written (withEvents),
 * so the row's type and payload are trusted here rather than parsed again for every subscriber.
 */
function toStreamEvent(row: EventRow): StreamEvent {
  return {
    id: String(row.id),
    type: row.type,
    teamId: row.teamId,
    userId: row.userId,
    payload: row.payload,
    createdAt: row.createdAt.toISOString(),
  } as StreamEvent;
}

const byRow = new WeakMap<EventRow, Delivery>();
/** Each shared event's JSON, once it has been asked for (null until then). */
const jsonOf = new WeakMap<object, string | null>();

/**
 * What a stream hands tRPC for a row: the hub passes the same row object to every subscription
 * of its audience, so they share one frozen event, one `tracked` envelope and one iterator result
 * (and, through `sharedEventJson`, one serialization) instead of building them per subscriber.
 */
export function deliveryOf(row: EventRow): Delivery {
  let delivery = byRow.get(row);
  if (!delivery) {
    const event = Object.freeze(toStreamEvent(row));
    jsonOf.set(event, null);
    delivery = Object.freeze({ done: false, value: Object.freeze(tracked(event.id, event)) }) as Delivery;
    byRow.set(row, delivery);
  }
  return delivery;
}

/** A stream's own event (a checkpoint), delivered to one subscriber only. */
export function singleDelivery(event: StreamEvent): Delivery {
  return { done: false, value: tracked(event.id, event) };
}

/**
 * The JSON of an event made by `deliveryOf`, serialized on first use and shared from then on;
 * undefined for any other value. Frozen, so the text cannot go stale.
 */
export function sharedEventJson(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const cached = jsonOf.get(value);
  if (cached !== null) return cached;
  const json = JSON.stringify(value);
  jsonOf.set(value, json);
  return json;
}
