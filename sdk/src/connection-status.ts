import type { TRPCWebSocketClient } from "@trpc/client";

/**
 * The client's WebSocket in an editor's words:
 * - `idle`: no socket (nothing subscribed yet, or closed after 5 s without subscriptions);
 * - `connecting`: opening a socket, from idle;
 * - `connected`: open and authenticated, subscriptions flowing;
 * - `reconnecting`: the socket was lost (or could not open) and is being opened again with
 *   backoff; `error` says why. Subscriptions resume by themselves once it is `connected`.
 */
export interface ConnectionStatus {
  state: "idle" | "connecting" | "connected" | "reconnecting";
  error: Error | null;
}

type TrpcState = ReturnType<TRPCWebSocketClient["connectionState"]["get"]>;

/** tRPC names an open socket `pending` and has no `reconnecting`: a `connecting` with an error is one. */
export function toConnectionStatus(state: TrpcState): ConnectionStatus {
  switch (state.state) {
    case "pending":
      return { state: "connected", error: null };
    case "connecting":
      return state.error ? { state: "reconnecting", error: state.error } : { state: "connecting", error: null };
    default:
      return { state: "idle", error: null };
  }
}

/** Calls `listener` with the current status at once, then on every change; returns what stops it. */
export function watchConnection(subject: TRPCWebSocketClient["connectionState"], listener: (status: ConnectionStatus) => void): () => void {
  let last: ConnectionStatus | null = null;
  const subscription = subject.subscribe({
    next: (state) => {
      const status = toConnectionStatus(state);
      // Subscribing replays the current state, and a repeat of the same state and error is no news.
      if (last?.state === status.state && last.error === status.error) return;
      last = status;
      listener(status);
    },
  });
  return () => subscription.unsubscribe();
}
