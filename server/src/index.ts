/**
 * @osmynt/server: what tests, tools and the SDK type generator use. The SDK imports types only.
 */
export { buildApp, TRPC_PREFIX, WS_MAX_PAYLOAD } from "./app.js";
export type { EventBus } from "./bus/index.js";
export { createBus } from "./bus/index.js";
export type { AppDeps } from "./deps.js";
export { openDeps } from "./deps-factory.js";
export { type Config, ConfigError, loadConfig } from "./env.js";
export { type CatalogueEvent, type CatalogueEventType, catalogue, type StreamEvent } from "./events/catalogue.js";
export { OPENAPI_PATH, REFERENCE_PATH } from "./http/rest.js";
export { REST_PREFIX, restOperations } from "./http/rest-operations.js";
export { createLogger } from "./logger.js";
export { type AppRouter, appRouter } from "./routers/_app.js";
export { createContextFactory, createContextInner } from "./trpc/context.js";
export { createCallerFactory } from "./trpc/init.js";
export { withEvents } from "./trpc/with-events.js";
