import { defineConfig } from "vitest/config";

const services = process.env.OSMYNT_TEST_BACKEND === "services";
// End-to-end tests in a real browser need Debian's chromium, so they run as their own command
// (`pnpm test:browser`, which CI runs) and `pnpm test` passes on a machine with only Node and npm.
const browser = process.env.OSMYNT_TEST_BROWSER === "1";

export default defineConfig({
  // Workspace packages resolve to their TypeScript source (the "osmynt-source" export condition).
  resolve: {
    conditions: ["osmynt-source", "module", "node", "development|production"],
  },
  ssr: {
    resolve: {
      conditions: ["osmynt-source", "module", "node", "development|production"],
    },
  },
  test: {
    name: `${services ? "services" : "embedded"}${browser ? "+browser" : ""}`,
    include: browser ? ["**/*.browser.test.ts"] : ["**/*.test.ts"],
    exclude: ["node_modules/**", ...(services ? [] : ["**/*.services.test.ts"]), ...(browser ? [] : ["**/*.browser.test.ts"])],
    globalSetup: ["./helpers/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Each test file opens its own server; on the embedded backend that is a PGlite (~0.5 GB).
    maxWorkers: 2,
    reporters: ["default"],
  },
});
