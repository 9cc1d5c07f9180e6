import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { type AppDeps, buildApp, createLogger, loadConfig, openDeps } from "@osmynt/server";
import type { FastifyInstance } from "fastify";
import { inject } from "vitest";

export const TEST_JWT_SECRET = "test-secret-test-secret-test-secret-0123456789";

export interface TestServer {
  url: string;
  trpcUrl: string;
  wsUrl: string;
  app: FastifyInstance;
  deps: AppDeps;
  /** Every line the server logged, for tests that search the logs. */
  logs: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment for loadConfig (strings, as the real process gets them). */
  env?: Record<string, string>;
  /** Reuse another server's database and bus handles (a second app in the same process). */
  shareDepsWith?: TestServer;
}

/**
 * Starts the real app on 127.0.0.1, port 0, against the backend of this run: a fresh in-memory
 * PGlite per server on the embedded backend, or the run's PostgreSQL database and Redis.
 */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const databaseUrl = inject("databaseUrl");
  const redisUrl = inject("redisUrl");
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: "info",
    OSMYNT_DATA_DIR: "memory://",
    DATABASE_URL: databaseUrl ?? "",
    REDIS_URL: redisUrl ?? "",
    REDIS_CHANNEL_PREFIX: inject("redisPrefix"),
    DATABASE_POOL_SIZE: "5",
    // Tests sign up many users from one address; the limits have tests of their own.
    RATE_LIMIT_PER_MINUTE: "100000",
    RATE_LIMIT_PER_USER_PER_MINUTE: "100000",
    RATE_LIMIT_SIGN_IN_PER_MINUTE: "100000",
    RATE_LIMIT_INVITE_ACCEPT_PER_MINUTE: "100000",
    RATE_LIMIT_PAIRING_PER_MINUTE: "100000",
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const shared = options.shareDepsWith?.deps;
  const opened = shared ? null : await openDeps(config, logger);
  const deps: AppDeps = shared ? { ...shared, config, logger } : (opened as AppDeps);
  const app = await buildApp(deps);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    trpcUrl: `${url}/trpc`,
    wsUrl: `ws://127.0.0.1:${port}/trpc`,
    app,
    deps,
    logs,
    async close() {
      await app.close();
      await opened?.close();
    },
  };
}
