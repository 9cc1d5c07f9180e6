import type { WebSocketConstructor } from "../websocket.js";

/** Browsers (and other runtimes with a global WebSocket): the platform's own, nothing bundled. */
export function platformWebSocket(): WebSocketConstructor {
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!platform) throw new TypeError("This runtime has no global WebSocket: pass createOsmyntClient({ WebSocket })");
  return platform;
}
