import { AppError } from "@osmynt/db";
import { subscriptionWireOf } from "../../realtime/ws-encoder.js";
import { authedProcedure, router } from "../../trpc/init.js";
import { subscribeInput } from "./events.types.js";
import { EventStream } from "./stream.js";

export const eventsRouter = router({
  /**
   * Every event the caller may see (their own and their teams'), in log order, as
   * `tracked(id, event)`: WebSocket and SSE clients resume after a disconnect by sending the last
   * id they received, and get the backlog before live events, with no gap and no repeat.
   * @see https://trpc.io/docs/server/subscriptions#tracked
   */
  subscribe: authedProcedure
    .input(subscribeInput)
    // The WebSocket request behind the stream, which zod's parse leaves out of `input`.
    .use(async function wireOfRequest({ getRawInput, next }) {
      return next({ ctx: { wire: subscriptionWireOf(await getRawInput()) } });
    })
    .subscription(({ ctx, input, signal }) => {
      const max = ctx.config.realtime.maxSubscriptionsPerUser;
      const metrics = ctx.deps.metrics;
      let release: (() => void) | null = null;
      return new EventStream({
        db: ctx.db,
        hub: ctx.deps.hub,
        checkpoints: ctx.deps.checkpoints,
        metrics,
        userId: ctx.user.id,
        sessionId: ctx.sessionId,
        lastEventId: input?.lastEventId ? Number(input.lastEventId) : null,
        signal,
        socket: ctx.meta.socket,
        wire: ctx.wire,
        bufferLimit: ctx.config.realtime.subscriptionBufferEvents,
        maxBufferedBytes: ctx.config.realtime.maxBufferedBytes,
        onOpen() {
          release = ctx.deps.connections.acquireStream(ctx.user.id, max);
          if (!release) {
            throw new AppError(
              "TOO_MANY_REQUESTS",
              `too many open event streams for this user (at most ${max} per instance); close one and retry`,
            );
          }
          metrics?.subscriptionsOpen.inc();
        },
        onClose() {
          metrics?.subscriptionsOpen.dec();
          release?.();
        },
      });
    }),
});
