import type { Session } from "./app-router.js";

/**
 * Where a client keeps its session. The client writes every rotated session back here: a refresh
 * token works once, so a store that loses the newest one signs the user out at the next refresh.
 * This file is platform-neutral (the browser entry uses it); the Node file store is in
 * `session-store.ts`.
 */
export interface SessionStore {
  get(): Session | null | Promise<Session | null>;
  set(session: Session | null): void | Promise<void>;
}

/** Keeps the session in memory, for one process or page (the default). */
export function memorySessionStore(initial: Session | null = null): SessionStore {
  let session = initial;
  return {
    get: () => session,
    set: (next) => {
      session = next;
    },
  };
}
