/**
 * Builds what the production start command runs, `node server/dist/main.js`: one process, no
 * TypeScript compiled at start-up and no tsx loader thread.
 *
 * esbuild (already the engine under tsx and vitest, so no new tool in the lockfile; well kept and
 * fast enough to run before every `pnpm start`) bundles the server with the workspace code it
 * imports (db, and the SDK's crypto through the `osmynt-source` condition) and its third-party
 * packages. Measured on this machine: resolving and compiling ~400 separate CommonJS and ES module
 * files was more than half the CPU of a start on PostgreSQL, and ~25 MiB of RSS (bench/BENCHMARKS.md,
 * "After: start-up and memory").
 *
 * Left out of the bundle: PGlite, which loads its WebAssembly and file-system image from beside its
 * own module (imported only on the embedded backend), and the optional native add-ons of `ws`.
 * Each must be a dependency of the server, so a pruned production install resolves it.
 *
 * Every file of server/dist sits two levels below the repository, like db/src: the paths the db
 * code finds from `import.meta.url` (the migrations folder, the PGlite template) are the same.
 * Plain JavaScript so that it runs with `node` alone.
 */
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));
const serverPackage = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const external = ["@electric-sql/pglite"];
const optional = ["bufferutil", "utf-8-validate"]; // ws uses them when installed, in a try

for (const name of external)
  if (!(name in serverPackage.dependencies))
    throw new Error(`${name} is left out of the bundle but server/package.json does not depend on it`);

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ["server/src/main.ts"],
  outdir: "server/dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["osmynt-source"],
  external: [...external, ...optional],
  // Code behind a dynamic import (a database driver, the API reference, the OpenAPI document) goes
  // to a chunk of its own: loaded when first needed, not at start-up.
  splitting: true,
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS packages inside an ES module bundle: `require` of Node's built-ins, `__dirname`.
  banner: {
    js: "import { createRequire as __osmyntCreateRequire } from 'node:module'; const require = __osmyntCreateRequire(import.meta.url);",
  },
  define: { __dirname: "import.meta.dirname", __filename: "import.meta.filename" },
});
