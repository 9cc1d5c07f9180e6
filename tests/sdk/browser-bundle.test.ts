import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The SDK's browser entry bundles for the browser with no Node module in it (esbuild,
 * platform=browser, through `sdk/scripts/check-browser-bundle.ts`), and the check really looks:
 * the Node entry, which holds the file session store, fails it, naming the import.
 */
const sdk = path.resolve(import.meta.dirname, "../../sdk");
const check = (...entries: string[]) =>
  spawnSync("pnpm", ["exec", "tsx", "scripts/check-browser-bundle.ts", ...entries], { cwd: sdk, encoding: "utf8", timeout: 120_000 });

describe("the SDK in a browser bundle", () => {
  it("the browser entry and the crypto core import no Node module", () => {
    const result = check("src/browser.ts", "src/crypto/index.ts");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/src\/browser\.ts: browser bundle \d+ KiB, no Node modules/);
    expect(result.stdout).toMatch(/src\/crypto\/index\.ts: browser bundle \d+ KiB, no Node modules/);
  });

  it("the Node entry fails the check, naming node:fs in the file session store", () => {
    const result = check("src/index.ts");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/node:fs\/promises \(import-statement in src\/session-store\.ts\)/);
  });

  it("the file key store and the CLI fail it too: they are Node entries only", () => {
    const result = check("src/crypto/file-key-store.ts", "src/cli.ts");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/src\/crypto\/file-key-store\.ts: imports Node modules/);
    expect(result.stderr).toMatch(/src\/cli\.ts: imports Node modules/);
  });
});
