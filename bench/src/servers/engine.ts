/**
 * The engine as the benchmarks run it: the real app (`buildApp` over `openDeps`) in a process of
 * its own, configured by the environment like `pnpm start`, with the limits that stop one address
 * from signing up thousands of users lifted.
 */
import type { AddressInfo } from "node:net";
import { buildApp, createLogger, loadConfig, openDeps } from "@osmynt/server";
import { serve } from "../lib/serve.js";

const config = loadConfig({
  NODE_ENV: "test",
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "fatal",
  OSMYNT_DATA_DIR: "memory://",
  RATE_LIMIT_PER_MINUTE: "1000000",
  RATE_LIMIT_PER_USER_PER_MINUTE: "1000000",
  RATE_LIMIT_SIGN_IN_PER_MINUTE: "1000000",
  RATE_LIMIT_INVITE_ACCEPT_PER_MINUTE: "1000000",
  MAX_TEAMS_PER_USER: "100000",
  WS_MAX_CONNECTIONS_PER_USER: "1000",
  WS_MAX_ANONYMOUS_PER_IP: "100000",
  SUBSCRIPTIONS_PER_USER: "10000",
  ...(process.env as Record<string, string>),
});
const logger = createLogger({ level: config.logLevel });
const deps = await openDeps(config, logger);
const app = await buildApp(deps);
await app.listen({ host: "127.0.0.1", port: 0 });
const { port } = app.server.address() as AddressInfo;
serve(`http://127.0.0.1:${port}`, {}, async () => {
  await app.close();
  await deps.close();
});
