import { createTRPCClient, httpSubscriptionLink } from "@trpc/client";
import type { AppRouter } from "./app-router.js";
import type { Subscribe } from "./event-types.js";
import type { TokenSource } from "./session-keeper.js";

/**
 * An EventSource class that takes `{ fetch }` in its second argument, as the `eventsource` package
 * does. Typed loosely so the SDK's declarations need no DOM library.
 */
export type EventSourceConstructor = abstract new (url: string, init?: { fetch?: unknown }) => object;

export interface SseOptions {
  url: string;
  tokens: TokenSource;
  fetch?: typeof globalThis.fetch;
  headers?: Record<string, string>;
  EventSource?: EventSourceConstructor;
}

/**
 * `events.subscribe` over Server-Sent Events with `Authorization: Bearer`, never a token in the
 * URL. A platform's own EventSource cannot send headers, hence the `eventsource` package by
 * default (loaded on first use, so WebSocket-only apps never load it). Its `fetch` hook runs at
 * every (re)connect, so a reconnect after a refresh sends the fresh token.
 * @see https://trpc.io/docs/client/links/httpSubscriptionLink
 */
export function sseSubscribe(options: SseOptions): Subscribe {
  let client: Promise<ReturnType<typeof createTRPCClient<AppRouter>>> | null = null;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const authedFetch = async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
    const token = await options.tokens.accessToken();
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetchImpl(input, { ...init, headers });
  };
  const load = async () => {
    const EventSource = options.EventSource ?? (await import("eventsource")).EventSource;
    return createTRPCClient<AppRouter>({
      links: [
        httpSubscriptionLink({
          url: options.url,
          EventSource: EventSource as unknown as typeof globalThis.EventSource,
          eventSourceOptions: () => ({ fetch: authedFetch }) as EventSourceInit,
        }),
      ],
    });
  };

  return (input, handlers) => {
    let stopped = false;
    let inner: { unsubscribe(): void } | null = null;
    // A failed load (the package missing) is retried by the next subscribe, not remembered.
    client ??= load().catch((error: unknown) => {
      client = null;
      throw error;
    });
    client.then(
      (trpc) => {
        if (!stopped) inner = trpc.events.subscribe.subscribe(input, handlers);
      },
      (error: unknown) => !stopped && handlers.onError(error),
    );
    return {
      unsubscribe() {
        stopped = true;
        inner?.unsubscribe();
      },
    };
  };
}
