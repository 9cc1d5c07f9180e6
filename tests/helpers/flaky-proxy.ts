import { connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of a server, for fault injection: `drop(ms)` cuts every open connection
 * and resets new ones for `ms`, like a network blip between a client and the server; `stop(ms)`
 * cuts every open connection and stops listening for `ms` (connections are refused), like the
 * server behind it being stopped and started again.
 */
export async function startFlakyProxy(targetPort: number) {
  const open = new Set<Socket>();
  let refuseUntil = 0;
  let drops = 0;
  const server = createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/trpc`,
    trpcUrl: `http://127.0.0.1:${port}/trpc`,
    drops: () => drops,
    stop(ms: number): Promise<void> {
      drops++;
      for (const s of open) s.destroy();
      open.clear();
      server.close();
      return new Promise((resolve, reject) => {
        setTimeout(() => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", () => resolve());
        }, ms).unref();
      });
    },
    drop(ms: number) {
      drops++;
      refuseUntil = Date.now() + ms;
      for (const s of open) s.destroy();
      open.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
