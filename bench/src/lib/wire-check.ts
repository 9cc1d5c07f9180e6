import type { AppRouter } from "@osmynt/server";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import WebSocket from "ws";
import type { Target } from "./fanout-targets.js";
import { sleep, waitFor } from "./stats.js";

/**
 * The hand-written protocol of the load clients must be what @trpc/client speaks: one more member
 * subscribes through the real wsLink, three events are written, and it must see exactly the events
 * the fleet's first subscriber saw.
 */
export async function checkAgainstTrpcClient(target: Target, token: string): Promise<boolean> {
  const wsClient = createWSClient({
    url: `${target.server.url.replace("http", "ws")}/trpc`,
    WebSocket: WebSocket as never,
    connectionParams: { token },
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  const seen = new Set<string>();
  let started = false;
  const sub = client.events.subscribe.subscribe(
    {},
    {
      onStarted: () => {
        started = true;
      },
      onData: (tracked: any) => {
        const event = tracked.data ?? tracked;
        if (event.type === target.filter.type && event.teamId === target.filter.teamId) seen.add(event.id);
      },
    },
  );
  try {
    await waitFor(() => started, 10_000);
    await sleep(200);
    await target.fleet.begin(target.filter);
    for (let i = 0; i < 3; i++) await target.publish(1_000_000 + i);
    await waitFor(() => seen.size >= 3, 15_000);
    await target.fleet.waitAll(3, 15_000);
    const fleetSaw = new Set((await target.fleet.collect()).firstIds);
    const same = seen.size === 3 && [...seen].every((id) => fleetSaw.has(id));
    if (!same) console.error("trpc check", started, [...seen], [...fleetSaw]);
    return same;
  } finally {
    sub.unsubscribe();
    wsClient.close();
  }
}
