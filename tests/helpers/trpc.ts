import type { AppRouter } from "@osmynt/server";
import { createTRPCClient, createWSClient, httpBatchLink, httpSubscriptionLink, splitLink, wsLink } from "@trpc/client";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import type { TestServer } from "./server.js";

/**
 * A plain tRPC client straight on @trpc/client (not the SDK), so realtime tests exercise the
 * server's transports themselves: WebSocket with connectionParams, or SSE with a header.
 */
export function wsClient(
  server: TestServer | { wsUrl: string; trpcUrl: string },
  token: string,
  options: { onClose?: (code?: number) => void; url?: () => string } = {},
) {
  const ws = createWSClient({
    url: options.url ?? server.wsUrl,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => ({ token }),
    retryDelayMs: () => 100,
    onClose: (cause) => options.onClose?.(cause?.code),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: ws }),
        false: httpBatchLink({ url: server.trpcUrl }),
      }),
    ],
  });
  return { client, ws, close: () => ws.close() };
}

export function sseClient(server: TestServer | { trpcUrl: string }, token: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpSubscriptionLink({
        url: server.trpcUrl,
        EventSource,
        // Auth by header, never in the URL: the eventsource package lets us wrap its fetch.
        eventSourceOptions: () => ({
          fetch: (input: string | URL | Request, init?: RequestInit) =>
            fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` } }),
        }),
      }),
    ],
  });
}

export interface Received {
  id: string;
  type: string;
  teamId: string | null;
  userId: string | null;
  payload: Record<string, unknown>;
}

/** Subscribes and collects events; `until` resolves when `predicate` holds (or rejects after `ms`). */
export function collect(
  subscribe: (handlers: { onData: (d: { id: string; data: Received }) => void; onError: (e: unknown) => void }) => { unsubscribe(): void },
) {
  const events: Received[] = [];
  const errors: unknown[] = [];
  /** Checkpoints received: a fresh stream sends one as soon as it is live, so a test knows when to start. */
  const state = { checkpoints: 0, floor: 0 };
  let check = () => {};
  const sub = subscribe({
    onData: (d) => {
      if (d.data.type !== "sync.checkpoint") {
        if (Number(d.data.id) > state.floor) events.push(d.data);
      } else state.checkpoints++;
      check();
    },
    onError: (e) => {
      errors.push(e);
      check();
    },
  });
  return {
    events,
    errors,
    get checkpoints() {
      return state.checkpoints;
    },
    unsubscribe: () => sub.unsubscribe(),
    /** Drops the events up to log id `id`, and any that arrive later: what happened before a test acted. */
    ignoreThrough(id: number) {
      state.floor = id;
      events.splice(0, events.length, ...events.filter((e) => Number(e.id) > id));
    },
    until(predicate: () => boolean, ms = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out after ${ms} ms with ${events.length} events, errors: ${errors.map(String).join("; ")}`)),
          ms,
        );
        check = () => {
          if (predicate()) {
            clearTimeout(timer);
            resolve();
          }
        };
        check();
      });
    },
  };
}
