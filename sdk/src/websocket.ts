import { createWSClient, type TRPCWebSocketClient } from "@trpc/client";
import { platformWebSocket } from "#platform-websocket";
import type { TokenSource } from "./session-keeper.js";

/**
 * The WebSocket class the client may be given: the platform's, or the `ws` package's. Typed
 * loosely on purpose, so the SDK's declarations need neither the DOM library nor `@types/ws`.
 */
export type WebSocketConstructor = abstract new (url: string, protocols?: string | string[]) => object;

/**
 * The runtime's own WebSocket where there is one (browsers, Node 22+), else `ws` (Node 20). Which
 * module answers is the package's `#platform-websocket` import: its `browser` condition has no `ws`.
 */
export function defaultWebSocket(): WebSocketConstructor {
  return platformWebSocket();
}

/**
 * The client's one WebSocket: opened on the first subscription and closed 5 s after the last,
 * reconnecting with jittered backoff; tRPC resubscribes tracked streams with their last id.
 */
export function webSocketClient(url: string, tokens: TokenSource, WebSocket?: WebSocketConstructor): TRPCWebSocketClient {
  return createWSClient({
    url,
    WebSocket: (WebSocket ?? defaultWebSocket()) as unknown as typeof globalThis.WebSocket,
    // Read at every (re)connect: the server authenticates a WebSocket once, when it opens.
    connectionParams: async () => {
      const token = await tokens.accessToken();
      return token ? { token } : null;
    },
    lazy: { enabled: true, closeMs: 5_000 },
    keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 10_000 },
    retryDelayMs: (attempt) => Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2),
  });
}
