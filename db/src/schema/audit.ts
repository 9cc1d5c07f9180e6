import { bigserial, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.js";

/**
 * Append-only audit trail, written in the same transaction as the change it records.
 * `metadata` holds ids and names only: never tokens, keys or plaintext.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    teamId: text("team_id"),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index("audit_team_idx").on(t.teamId, t.id), index("audit_actor_idx").on(t.actorId, t.id)],
);
