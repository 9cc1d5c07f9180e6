import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { BusStatus, EventBus, LogAdvanced } from "./types.js";

interface RedisBusOptions {
  url: string;
  channelPrefix: string;
  logger: Logger;
}

/**
 * Redis pub/sub as a notification channel between instances. Two connections per process: one
 * subscriber (fanned out locally to every listener) and one publisher. The publisher has no
 * offline queue, so while Redis is away `publish` fails at once instead of piling up or blocking a
 * request; readers notice the subscriber going down and poll the log until it is back.
 */
export function createRedisBus(options: RedisBusOptions): EventBus {
  const channel = `${options.channelPrefix}:events`;
  const log = options.logger.child({ component: "redis-bus" });
  const local = new EventEmitter();
  local.setMaxListeners(0);
  const retryStrategy = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000);
  const common = {
    retryStrategy,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    lazyConnect: false,
  } as const;
  const publisher = new Redis(options.url, {
    ...common,
    enableOfflineQueue: false,
    connectionName: "osmynt-pub",
  });
  const subscriber = new Redis(options.url, {
    ...common,
    connectionName: "osmynt-sub",
  });
  let status: BusStatus = "down";
  let closing = false;
  let lastErrorLog = 0;

  const onError = (which: string) => (error: Error) => {
    // ioredis reports every failed reconnect; one line every 10 s is enough to see the outage.
    if (Date.now() - lastErrorLog > 10_000) {
      lastErrorLog = Date.now();
      log.warn({ err: error.message, connection: which }, "redis unreachable; event readers fall back to polling");
    }
  };
  publisher.on("error", onError("publisher"));
  subscriber.on("error", onError("subscriber"));

  const setStatus = (next: BusStatus) => {
    if (next === status || closing) return;
    status = next;
    log.info({ status: next }, "redis bus status");
    local.emit("status", next);
  };
  // ioredis re-subscribes by itself after a reconnect; "ready" fires once that is done.
  subscriber.on("ready", () => {
    subscriber.subscribe(channel).then(
      () => setStatus("up"),
      (error: Error) => onError("subscriber")(error),
    );
  });
  subscriber.on("close", () => setStatus("down"));
  subscriber.on("end", () => setStatus("down"));
  subscriber.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    const maxId = Number(message);
    if (Number.isSafeInteger(maxId) && maxId > 0) local.emit("note", { maxId } satisfies LogAdvanced);
  });

  return {
    kind: "redis",
    publish(note) {
      publisher.publish(channel, String(note.maxId)).catch(onError("publisher"));
    },
    subscribe(listener) {
      local.on("note", listener);
      return () => local.off("note", listener);
    },
    onStatus(listener) {
      local.on("status", listener);
      return () => local.off("status", listener);
    },
    status: () => status,
    async ping(timeoutMs = 2000) {
      if (status !== "up") throw new Error("redis subscriber is not connected");
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          publisher.ping(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closing = true;
      local.removeAllListeners();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
