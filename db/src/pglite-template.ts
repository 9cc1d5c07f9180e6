import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";

/**
 * PGlite runs initdb in WebAssembly the first time a data folder is used, which takes 5–8 s on
 * this kind of machine. A freshly initialised cluster, dumped once per PGlite version (at install
 * time), loads in about a second instead: first start-up and every in-memory test database use it.
 */
function pgliteVersion(): string {
  // The package does not export its package.json: find it above the resolved entry point.
  let dir = dirname(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
}

// From the repository's root, two levels up: right from db/src and from the server's bundle
// (server/dist), which inlines this file.
export const templatePath = join(fileURLToPath(new URL("../../db/.cache/", import.meta.url)), `pglite-${pgliteVersion()}.tar.gz`);

export function readTemplate(): Blob | undefined {
  if (!existsSync(templatePath)) return undefined;
  return new Blob([readFileSync(templatePath)]);
}

/** Builds the template if it is missing; returns whether one is there afterwards. */
export async function ensureTemplate(): Promise<boolean> {
  if (existsSync(templatePath)) return true;
  const pg = await PGlite.create("memory://");
  try {
    const dump = await pg.dumpDataDir("gzip");
    mkdirSync(dirname(templatePath), { recursive: true });
    // write then rename: a concurrent reader never sees half a file
    const partial = `${templatePath}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, templatePath);
    return true;
  } finally {
    await pg.close();
  }
}

/** True when `dataDir` already holds a cluster (then PGlite must open it, not load the template). */
export function hasCluster(dataDir: string): boolean {
  return existsSync(join(dataDir, "PG_VERSION"));
}
