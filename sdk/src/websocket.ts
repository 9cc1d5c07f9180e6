import { WebSocket as NodeWebSocket } from "ws";

/**
 * The WebSocket class the client may be given: the platform's, or the `ws` package's. Typed
 * loosely on purpose, so the SDK's declarations need neither the DOM library nor `@types/ws`.
 */
export type WebSocketConstructor = abstract new (url: string, protocols?: string | string[]) => object;

/** The runtime's own WebSocket where there is one (browsers, Node 22+), else `ws` (Node 20). */
export function defaultWebSocket(): WebSocketConstructor {
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return platform ?? (NodeWebSocket as unknown as WebSocketConstructor);
}
