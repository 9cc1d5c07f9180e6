/** Which backend the suite runs on: `pnpm test` → embedded, `pnpm test:services` → services. */
export type Backend = "embedded" | "services";

export const backend: Backend = process.env.OSMYNT_TEST_BACKEND === "services" ? "services" : "embedded";

export const serviceUrls = {
  database: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  redis: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
};

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string | null;
    redisUrl: string | null;
    redisPrefix: string;
  }
}
