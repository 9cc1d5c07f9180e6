import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

/**
 * Under `pnpm bench --profile` (BENCH_PROFILE_FILE set by lib/processes.ts), V8's CPU profiler —
 * the one `node --cpu-prof` runs — starts at the measured window (the first `usage` request, which
 * every measure sends before its load; start-up and seeding stay out) and its profile is written
 * when the server stops.
 */
function windowProfiler() {
  const file = process.env.BENCH_PROFILE_FILE;
  let session: Session | null = null;
  return {
    async start() {
      if (!file || session) return;
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    },
    async write() {
      if (!file || !session) return;
      const { profile } = await session.post("Profiler.stop");
      await writeFile(join(process.env.BENCH_PROFILE_DIR ?? ".", file), JSON.stringify(profile));
    },
  };
}

/**
 * The server side of lib/processes.ts: a server script calls `serve` once it listens. It answers
 * `usage` itself and hands other requests to `handlers`.
 */
export function serve(url: string, handlers: Record<string, (args: any) => Promise<unknown> | unknown> = {}, close?: () => Promise<void>) {
  const profiler = windowProfiler();
  process.on("message", async (message: any) => {
    if (message?.type !== "request") return;
    try {
      let result: unknown;
      if (message.kind === "usage") {
        await profiler.start();
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
    await profiler.write().catch((error) => console.error(`profile not written: ${(error as Error).message}`));
    await close?.();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("disconnect", stop);
  process.send?.({ type: "ready", url });
}
