import type { Encoder } from "@trpc/server/adapters/ws";
import { jsonEncoder } from "@trpc/server/adapters/ws";
import type { Delivery } from "./deliveries.js";
import { sharedEventJson } from "./deliveries.js";

/** The tRPC request an `events.subscribe` stream answers: its id and JSON-RPC flag, echoed in every frame. */
export interface SubscriptionWire {
  id: number | string;
  jsonrpc: "2.0" | undefined;
}

const WIRE = Symbol("osmynt.subscriptionWire");

/**
 * tRPC's WebSocket encoder (JSON in text frames) with two additions for event streams:
 * - encode: a subscription's data message whose event was serialized once for its whole audience
 *   (realtime/deliveries.ts) is put together around that shared text instead of serialized again
 *   for every subscriber;
 * - decode: an `events.subscribe` request's input is tagged (with a symbol, which no JSON can
 *   carry) with the request's id, so the stream can write its live frames itself (`dataFrame`).
 * Every frame is byte for byte what the stock adapter sends (tests/events/ws-frames.test.ts), so
 * @trpc/client's wsLink and any other client see no difference.
 * @see https://trpc.io/docs/server/websockets (the adapter's `experimental_encoder` option)
 */
export const wsEncoder: Encoder = {
  encode(message) {
    return sharedDataFrame(message) ?? JSON.stringify(message);
  },
  decode(data) {
    const message = jsonEncoder.decode(data);
    if (Array.isArray(message)) for (const m of message) tagSubscription(m);
    else tagSubscription(message);
    return message;
  },
};

const isRecord = (value: unknown): value is Record<string | symbol, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function tagSubscription(message: unknown) {
  if (!isRecord(message) || message.method !== "subscription" || !isRecord(message.params)) return;
  const { id, jsonrpc, params } = message;
  if (params.path !== "events.subscribe" || !(typeof id === "number" || typeof id === "string")) return;
  if (!(jsonrpc === undefined || jsonrpc === "2.0")) return;
  const wire: SubscriptionWire = { id, jsonrpc };
  // The adapter copies the input's own enumerable keys (symbols included) when it adds lastEventId.
  if (params.input === undefined) params.input = { [WIRE]: wire };
  else if (isRecord(params.input)) params.input[WIRE] = wire;
}

/** The request behind a stream's raw input, when it came over a WebSocket through `wsEncoder`. */
export function subscriptionWireOf(rawInput: unknown): SubscriptionWire | undefined {
  return isRecord(rawInput) ? (rawInput[WIRE] as SubscriptionWire | undefined) : undefined;
}

/**
 * The adapter sends a tracked subscription value as
 * `{ id, jsonrpc, result: { type: "data", data: { id, data }, id } }` (`jsonrpc` undefined unless
 * the client sent it, and then left out by JSON.stringify). Only that exact shape (own keys in that
 * order, nothing else), with a string event id and a shared event, is built here; every other
 * message falls through to JSON.stringify, so a change in the adapter costs speed, never bytes.
 */
function sharedDataFrame(message: unknown): string | undefined {
  const m = message as {
    id?: unknown;
    jsonrpc?: unknown;
    result?: { type?: unknown; data?: { id?: unknown; data?: unknown }; id?: unknown };
  };
  const result = m.result;
  const data = result?.data;
  if (result?.type !== "data" || typeof result.id !== "string" || data?.id !== result.id) return undefined;
  if (!(typeof m.id === "number" || typeof m.id === "string") || !(m.jsonrpc === undefined || m.jsonrpc === "2.0")) return undefined;
  if (!keysAre(m, "jsonrpc" in m ? MESSAGE_KEYS : MESSAGE_KEYS_NO_JSONRPC) || !keysAre(result, RESULT_KEYS) || !keysAre(data, DATA_KEYS)) {
    return undefined;
  }
  const event = sharedEventJson(data.data);
  if (event === undefined) return undefined;
  return framePrefix({ id: m.id, jsonrpc: m.jsonrpc }) + frameTail(result.id, event);
}

const MESSAGE_KEYS = ["id", "jsonrpc", "result"];
const MESSAGE_KEYS_NO_JSONRPC = ["id", "result"];
const RESULT_KEYS = ["type", "data", "id"];
const DATA_KEYS = ["id", "data"];

/** Whether the object's enumerable keys are exactly these, in this order (the order JSON.stringify writes them in). */
function keysAre(object: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in object) {
    if (key !== keys[i]) return false;
    i++;
  }
  return i === keys.length;
}

/** What every data frame of one subscription starts with. */
export function framePrefix(wire: SubscriptionWire): string {
  const jsonrpc = wire.jsonrpc === undefined ? "" : ',"jsonrpc":"2.0"';
  return `{"id":${JSON.stringify(wire.id)}${jsonrpc},"result":{"type":"data","data":{"id":`;
}

function frameTail(trackedId: string, eventJson: string): string {
  const id = JSON.stringify(trackedId);
  return `${id},"data":${eventJson}},"id":${id}}}`;
}

const framesOf = new WeakMap<object, Map<string, Buffer>>();

/**
 * The data frame of a delivery for a subscription (by its `framePrefix`), as UTF-8 bytes. A shared
 * delivery's frame is built once per prefix (most subscriptions use the same few request ids) and
 * the same bytes are written to every socket; send them as text (`{ binary: false }`).
 */
export function dataFrame(prefix: string, delivery: Delivery): Buffer {
  const [trackedId, event] = delivery.value;
  const shared = sharedEventJson(event);
  if (shared === undefined) return Buffer.from(prefix + frameTail(trackedId, JSON.stringify(event)));
  let frames = framesOf.get(event);
  if (!frames) {
    frames = new Map();
    framesOf.set(event, frames);
  }
  let frame = frames.get(prefix);
  if (!frame) {
    frame = Buffer.from(prefix + frameTail(trackedId, shared));
    frames.set(prefix, frame);
  }
  return frame;
}
