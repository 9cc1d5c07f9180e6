import type { Logger } from "pino";
import { createMemoryBus } from "./memory-bus.js";
import { createRedisBus } from "./redis-bus.js";
import type { EventBus } from "./types.js";

export type { BusStatus, EventBus, LogAdvanced } from "./types.js";

export function createBus(options: { url: string | undefined; channelPrefix: string; logger: Logger }): EventBus {
  return options.url
    ? createRedisBus({
        url: options.url,
        channelPrefix: options.channelPrefix,
        logger: options.logger,
      })
    : createMemoryBus();
}
