import { createDb } from "@osmynt/db";
import type { Logger } from "pino";
import { createBus } from "./bus/index.js";
import type { AppDeps } from "./deps.js";
import type { Config } from "./env.js";

/** Opens the database (applying migrations) and the bus that `config` names. */
export async function openDeps(config: Config, logger: Logger): Promise<AppDeps & { close(): Promise<void> }> {
  const database = await createDb({
    url: config.database.url,
    dataDir: config.database.dataDir,
    maxConnections: config.database.poolSize,
    onNotice: (message) => logger.debug({ notice: message }, "database notice"),
  });
  try {
    await database.migrate();
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  const bus = createBus({
    url: config.redis.url,
    channelPrefix: config.redis.channelPrefix,
    logger,
  });
  return {
    config,
    database,
    db: database.db,
    bus,
    logger,
    async close() {
      await bus.close();
      await database.close();
    },
  };
}
