/**
 * Writes sdk/src/generated/router-types.ts: every procedure of the server's AppRouter as plain
 * TypeScript types (path, kind, input, output), fully expanded so the published SDK carries the
 * API's types without the server's source or its drizzle/fastify/zod dependencies.
 *
 *   tsx scripts/gen-router-types.ts          regenerate
 *   tsx scripts/gen-router-types.ts --check  exit 1 when the committed file is stale
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeRouter, sdkDir } from "./describe-router.js";
import { assertSelfContained, renderRouterTypes } from "./render-router-types.js";

const defaultOutFile = path.join(sdkDir, "src/generated/router-types.ts");

function main(): void {
  const check = process.argv.includes("--check");
  const outFile = process.env.OSMYNT_ROUTER_TYPES_OUT ? path.resolve(process.env.OSMYNT_ROUTER_TYPES_OUT) : defaultOutFile;
  const text = renderRouterTypes(describeRouter());
  assertSelfContained(text, sdkDir);
  const relative = path.relative(process.cwd(), outFile);
  const current = existsSync(outFile) ? readFileSync(outFile, "utf8") : null;
  if (check) {
    if (current === text) {
      console.log(`${relative} is up to date`);
      return;
    }
    console.error(`router types are stale: run pnpm sdk:types (${relative} differs from the server's AppRouter)`);
    process.exit(1);
  }
  mkdirSync(path.dirname(outFile), { recursive: true });
  if (current !== text) writeFileSync(outFile, text);
  console.log(`${current === text ? "unchanged" : "wrote"} ${relative}`);
}

try {
  main();
} catch (error) {
  console.error(`gen-router-types: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
