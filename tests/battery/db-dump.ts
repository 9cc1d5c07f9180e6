import { sql } from "drizzle-orm";
import type { TestServer } from "../helpers/server.js";

/**
 * Columns left out of the "nothing changed" comparison because a call that is refused may still
 * move them legitimately. sessions.last_used_at: the idle-timeout clock a session's own use
 * (a refresh) pushes on; a refused call of another kind never should, but the column says nothing
 * about the input that was refused.
 */
export const volatileColumns: Record<string, string[]> = {
  sessions: ["last_used_at"],
};

/** Every row of every table of the database's schema, each row as canonical JSON, sorted per table. */
export async function dumpTables(server: TestServer): Promise<Record<string, string[]>> {
  const db = server.deps.db;
  const listed = await db.execute<{ table_name: string }>(
    sql`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
  );
  const names = (((listed as { rows?: unknown }).rows ?? listed) as { table_name: string }[]).map((t) => t.table_name);
  // One round trip for the whole database: each row as jsonb text (keys in jsonb's own order).
  const union = sql.join(
    names.map((name) => {
      const drop = volatileColumns[name] ?? [];
      const row = drop.reduce((expr, column) => sql`(${expr} - ${column}::text)`, sql`to_jsonb(t)`);
      return sql`select ${name}::text as tbl, ${row}::text as row from ${sql.identifier(name)} t`;
    }),
    sql` union all `,
  );
  const result = await db.execute<{ tbl: string; row: string }>(union);
  const rows = ((result as { rows?: unknown }).rows ?? result) as { tbl: string; row: string }[];
  const dump: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const r of rows) dump[r.tbl]?.push(r.row);
  for (const list of Object.values(dump)) list.sort();
  return dump;
}

/** What differs between two dumps, per table: rows gone and rows new. Empty when equal. */
export function dumpDiff(
  before: Record<string, string[]>,
  after: Record<string, string[]>,
): Record<string, { gone: string[]; new: string[] }> {
  const diff: Record<string, { gone: string[]; new: string[] }> = {};
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = new Set(before[table] ?? []);
    const b = new Set(after[table] ?? []);
    const gone = [...a].filter((r) => !b.has(r));
    const added = [...b].filter((r) => !a.has(r));
    if (gone.length > 0 || added.length > 0) diff[table] = { gone: gone.slice(0, 5), new: added.slice(0, 5) };
  }
  return diff;
}
