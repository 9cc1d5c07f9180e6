import { AppError } from "@osmynt/db";
import { tracked } from "@trpc/server";
import { authedProcedure, router } from "../../trpc/init.js";
import { subscribeInput } from "./events.types.js";
import { streamEvents } from "./stream.js";

export const eventsRouter = router({
  /**
   * Every event the caller may see (their own and their teams'), in log order, as
   * `tracked(id, event)`: WebSocket and SSE clients resume after a disconnect by sending the last
   * id they received, and get the backlog before live events, with no gap and no repeat.
   * @see https://trpc.io/docs/server/subscriptions#tracked
   */
  subscribe: authedProcedure.input(subscribeInput).subscription(async function* ({ ctx, input, signal }) {
    const max = ctx.config.realtime.maxSubscriptionsPerUser;
    const release = ctx.deps.connections.acquireStream(ctx.user.id, max);
    if (!release) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `too many open event streams for this user (at most ${max} per instance); close one and retry`,
      );
    }
    const stream = streamEvents({
      db: ctx.db,
      hub: ctx.deps.hub,
      userId: ctx.user.id,
      sessionId: ctx.sessionId,
      lastEventId: input?.lastEventId ? Number(input.lastEventId) : null,
      signal,
      socket: ctx.meta.socket,
      bufferLimit: ctx.config.realtime.subscriptionBufferEvents,
      maxBufferedBytes: ctx.config.realtime.maxBufferedBytes,
    });
    const metrics = ctx.deps.metrics;
    metrics?.subscriptionsOpen.inc();
    try {
      for await (const event of stream) {
        yield tracked(event.id, event);
        if (event.type !== "sync.checkpoint" && metrics) {
          metrics.eventsDelivered.inc();
          metrics.deliveryLag.observe(Math.max(0, Date.now() - Date.parse(event.createdAt)) / 1000);
        }
      }
    } finally {
      metrics?.subscriptionsOpen.dec();
      release();
    }
  }),
});
