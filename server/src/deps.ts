import type { Database, DbHandle } from "@osmynt/db";
import type { Logger } from "pino";
import type { EventBus } from "./bus/index.js";
import type { Config } from "./env.js";

/** Everything a request needs from the process, injected once (tests build their own). */
export interface AppDeps {
  config: Config;
  database: DbHandle;
  db: Database;
  bus: EventBus;
  logger: Logger;
}
