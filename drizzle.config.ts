import { defineConfig } from "drizzle-kit";

// Generation needs no database: drizzle-kit diffs the schema against the committed snapshots.
// DRIZZLE_OUT lets the migration check generate into a scratch copy instead of migrations/.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/src/schema/index.ts",
  out: process.env.DRIZZLE_OUT ?? "./migrations",
  casing: undefined,
});
