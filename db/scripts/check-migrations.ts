/**
 * Fails when the drizzle schema changed without a generated migration: drizzle-kit generates into
 * a scratch copy of migrations/, and any new file there is a migration somebody forgot to commit.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
// drizzle-kit wants `out` relative to the project root, so the scratch copy lives below it.
const scratch = mkdtempSync(join(root, "node_modules/.osmynt-migrations-"));
try {
  cpSync(join(root, "migrations"), scratch, { recursive: true });
  const before = new Set(readdirSync(scratch));
  const output = execFileSync(join(root, "node_modules/.bin/drizzle-kit"), ["generate", "--config", "drizzle.config.ts"], {
    cwd: root,
    env: { ...process.env, DRIZZLE_OUT: `./${relative(root, scratch)}` },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const added = readdirSync(scratch).filter((f) => !before.has(f));
  // drizzle-kit can exit 0 after failing, so insist on its "nothing to do" answer as well.
  if (added.length > 0 || !output.includes("No schema changes")) {
    console.error(`The schema in db/src/schema changed but migrations/ has no migration for it (would add: ${added.join(", ") || "?"}).`);
    console.error(output);
    console.error("Run `pnpm db:generate --name <what-changed>` and commit the result.");
    process.exit(1);
  }
  console.log("migrations: up to date with the schema");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
