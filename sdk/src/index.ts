/**
 * @osmynt/sdk for Node 20+: everything of the browser entry (`./browser.ts`), plus what needs
 * Node: the session file store (and, as their own entries, the file key store and the CLI).
 * WebSocket: the runtime's, else the `ws` package (see `platform/websocket.node.ts`).
 */
export * from "./browser.js";
export { fileSessionStore } from "./session-store.js";
