import type { Executor } from "../client.js";
import { auditLog } from "../schema/audit.js";

export type NewAuditEntry = Omit<typeof auditLog.$inferInsert, "id" | "createdAt">;

/** Appends audit rows; pass the transaction of the change being recorded. */
export async function recordAudit(db: Executor, entries: NewAuditEntry | NewAuditEntry[]): Promise<void> {
  const rows = Array.isArray(entries) ? entries : [entries];
  if (rows.length > 0) await db.insert(auditLog).values(rows);
}
