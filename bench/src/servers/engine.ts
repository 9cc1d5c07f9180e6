/**
 * The engine as the benchmarks run it: the real app (`buildApp` over `openDeps`) in a process of
 * its own, configured by the environment like `pnpm start`, with the limits that stop one address
 * from signing up thousands of users (or holding 20,000 sockets) lifted. `inject` writes events
 * the way a mutation does (one transaction, announced on the bus after commit) without the HTTP
 * request, so a measure can isolate the delivery side.
 */
import type { AddressInfo } from "node:net";
import { buildApp, createLogger, loadConfig, openDeps, withEvents } from "@osmynt/server";
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
  MAX_CONNECTIONS: "100000",
  // The slowloris guard answers 408 to a request whose headers take over 10 s; on a machine at
  // load 30 a storm of WebSocket upgrades can (the engine cannot tell a starved client from a slow
  // one), which fails the set-up rather than measuring anything.
  HEADERS_TIMEOUT_MS: "60000",
  REQUEST_TIMEOUT_MS: "120000",
  ...(process.env as Record<string, string>),
});
const logger = createLogger({ level: config.logLevel });
const deps = await openDeps(config, logger);
const app = await buildApp(deps);
await app.listen({ host: "127.0.0.1", port: 0 });
const { port } = app.server.address() as AddressInfo;
const handlers = {
  /** One `team.renamed` event per team id, all in one transaction. */
  async inject({ teamIds }: { teamIds: string[] }) {
    await withEvents(deps, (_tx, emit) =>
      emit(teamIds.map((teamId) => ({ type: "team.renamed", teamId, userId: null, payload: { teamId } }) as never)),
    );
    return teamIds.length;
  },
};
serve(`http://127.0.0.1:${port}`, handlers, async () => {
  await app.close();
  await deps.close();
});
