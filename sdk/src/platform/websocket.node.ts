import { WebSocket as NodeWebSocket } from "ws";
import type { WebSocketConstructor } from "../websocket.js";

/**
 * Node's default WebSocket: the runtime's own where there is one (Node 22+), else the `ws`
 * package (Node 20 has none). Chosen by the package's `#platform-websocket` import; bundlers
 * building for browsers take `websocket.browser.ts` instead, so `ws` never reaches a page.
 */
export function platformWebSocket(): WebSocketConstructor {
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return platform ?? (NodeWebSocket as unknown as WebSocketConstructor);
}
