import { bigint, bigserial, index, jsonb, pgTable, smallint, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.js";

/**
 * The durable event log (transactional outbox). Rows are written in the same transaction as the
 * change they describe and read back by id; the bus only says "the log advanced".
 * Audience: `teamId` (every member of that team) or `userId` (that user alone).
 * Payloads carry ids and routing data only, never plaintext.
 */
export const events = pgTable(
  "events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    type: text("type").notNull(),
    teamId: text("team_id"),
    userId: text("user_id"),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("events_team_idx").on(t.teamId, t.id), index("events_user_idx").on(t.userId, t.id)],
);

/**
 * One row (id 1) of facts about the log itself. `prunedThrough` is the highest id retention has
 * deleted: a cursor below it may have missed events and is told to resync, even when the log is
 * empty (the oldest kept id cannot say that once everything is gone).
 */
export const eventLogState = pgTable("event_log_state", {
  id: smallint("id").primaryKey(),
  prunedThrough: bigint("pruned_through", { mode: "number" }).notNull().default(0),
});
