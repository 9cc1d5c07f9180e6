import { EventStream } from "./event-stream.js";
import type { EventsOptions, Subscribe } from "./event-types.js";
import type { TokenSource } from "./session-keeper.js";
import { type SseOptions, sseSubscribe } from "./sse.js";

/**
 * The client's `events()` streams over either transport, tracked so `close()` can end them all
 * before the WebSocket goes (a closing socket would otherwise look like a lost connection).
 */
export function eventStreams(ws: Subscribe, tokens: TokenSource, sse: SseOptions) {
  const open = new Set<EventStream>();
  const overSse = sseSubscribe(sse);
  return {
    start(options?: EventsOptions): EventStream {
      const stream = new EventStream(
        {
          subscribe: options?.transport === "sse" ? overSse : ws,
          recover: async () => await tokens.recover(await tokens.accessToken()),
          onEnd: (ended) => open.delete(ended),
        },
        options,
      );
      if (!options?.signal?.aborted) open.add(stream);
      return stream;
    },
    async endAll(): Promise<void> {
      for (const stream of [...open]) await stream.return();
    },
  };
}
