/**
 * Bundles an SDK entry for the browser with esbuild (platform=browser, so the package's `browser`
 * conditions apply) and fails, naming the importer, on any import of a Node module: `node:*` or a
 * bare builtin like `fs`. One exception, listed by name below: a dependency's dynamic import that
 * only runs where the platform lacks the API (a new one fails until it is looked at and listed).
 * Usage: `tsx scripts/check-browser-bundle.ts [entry …]` (default: the browser entry and the
 * crypto core). Prints the bundle size of each entry that passes.
 */
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const builtins = new Set(builtinModules);

/**
 * `@hpke/common` reaches for Node's `crypto` with `await import("crypto")` only when
 * `globalThis.crypto` is missing (Node < 19); every browser has Web Crypto, so that line never runs.
 */
const toleratedDynamic = [{ importer: /\/@hpke\/common\//, module: "crypto" }];

function refuseNodeModules(found: string[]): Plugin {
  return {
    name: "refuse-node-modules",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.split("/")[0] ?? "";
        if (args.path.startsWith("node:") || builtins.has(args.path) || (builtins.has(bare) && !bare.startsWith("@"))) {
          const tolerated =
            args.kind === "dynamic-import" && toleratedDynamic.some((t) => t.module === args.path && t.importer.test(args.importer));
          if (tolerated) return { path: args.path, external: true };
          found.push(`${args.path} (${args.kind} in ${path.relative(sdk, args.importer)})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
}

async function check(entry: string): Promise<boolean> {
  const found: string[] = [];
  const result = await build({
    entryPoints: [path.resolve(sdk, entry)],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // The workspace resolves packages to their TypeScript source; browser conditions first.
    conditions: ["osmynt-source", "browser"],
    logLevel: "silent",
    plugins: [refuseNodeModules(found)],
  });
  if (found.length > 0) {
    console.error(`${entry}: imports Node modules, so it cannot run in a browser:\n  ${found.join("\n  ")}`);
    return false;
  }
  const bytes = result.outputFiles.reduce((sum, f) => sum + f.contents.byteLength, 0);
  console.log(`${entry}: browser bundle ${Math.round(bytes / 1024)} KiB, no Node modules`);
  return true;
}

const entries = process.argv.slice(2);
let ok = true;
for (const entry of entries.length > 0 ? entries : ["src/browser.ts", "src/crypto/index.ts"]) ok = (await check(entry)) && ok;
process.exit(ok ? 0 : 1);
