/**
 * The server side of lib/processes.ts: a server script calls `serve` once it listens. It answers
 * `usage` itself and hands other requests to `handlers`.
 */
export function serve(url: string, handlers: Record<string, (args: any) => Promise<unknown> | unknown> = {}, close?: () => Promise<void>) {
  process.on("message", async (message: any) => {
    if (message?.type !== "request") return;
    try {
      let result: unknown;
      if (message.kind === "usage") {
        if (message.args?.gc && globalThis.gc) {
          globalThis.gc();
          await new Promise((resolve) => setTimeout(resolve, 50));
          globalThis.gc();
        }
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        result = { cpuMicros: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external };
      } else {
        const handler = handlers[message.kind];
        if (!handler) throw new Error(`no handler for ${message.kind}`);
        result = await handler(message.args);
      }
      process.send?.({ type: "answer", id: message.id, result });
    } catch (error) {
      process.send?.({ type: "answer", id: message.id, error: (error as Error).message });
    }
  });
  const stop = async () => {
    await close?.();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("disconnect", stop);
  process.send?.({ type: "ready", url });
}
