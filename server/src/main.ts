import { DataDirError } from "@osmynt/db";
import closeWithGrace from "close-with-grace";
import { openDatabase, openDeps } from "./deps-factory.js";
import { ConfigError, loadConfig } from "./env.js";
import { createLogger } from "./logger.js";

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ level: config.logLevel });
// `--migrate-only`: a release step applies the migrations once, then the instances start on a
// migrated database (docs/deploy.md). Same configuration, same lock, no listener.
const migrateOnly = process.argv.includes("--migrate-only");
// The HTTP app's modules (Fastify, tRPC, the routers) load while the database opens: on the
// embedded backend PGlite compiles its WebAssembly on background threads meanwhile.
const appModule = migrateOnly ? undefined : import("./app.js");
let deps: Awaited<ReturnType<typeof openDeps>>;
try {
  if (migrateOnly) {
    await (await openDatabase(config, logger)).close();
    logger.info({ database: config.database.url ? "postgres" : "pglite" }, "migrations applied; exiting (--migrate-only)");
    process.exit(0);
  }
  deps = await openDeps(config, logger);
} catch (error) {
  // A start-up failure (data folder locked or unwritable, database unreachable) is said in one
  // line, on stderr as well as in the log, and the process exits: an orchestrator restarts it.
  const message = error instanceof Error ? error.message : String(error);
  // A data-folder problem is the operator's to fix: the sentence says it all, a stack would only bury it.
  logger.fatal(error instanceof DataDirError ? {} : { err: error }, `start-up failed: ${message}`);
  console.error(`osmynt engine could not start: ${message}`);
  process.exit(1);
}
const { buildApp } = await (appModule ?? import("./app.js"));
const app = await buildApp(deps);

closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "shutting down after an unexpected error");
  else logger.info({ signal }, "shutting down: telling WebSocket clients to reconnect");
  await app.close();
  await deps.close();
});

await app.listen({ host: config.host, port: config.port });
logger.info(
  {
    database: deps.database.kind,
    bus: deps.bus.kind,
    dataDir: deps.database.kind === "pglite" ? config.database.dataDir : undefined,
  },
  "osmynt engine ready",
);
if (config.auth.jwtSecretGenerated)
  logger.warn("JWT_SECRET is not set: using a random secret, so access tokens end at restart (refresh tokens survive)");
if (config.devLoginDisabledReason === null) {
  const banner =
    "LOCAL DEVELOPMENT MODE: auth.devLogin is ON — anyone who can reach this loopback address can sign in as any login, without a password.";
  logger.warn(banner);
  console.warn(`\n  !!! ${banner}\n`);
}
