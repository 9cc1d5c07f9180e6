import { bigint, bigserial, index, jsonb, pgTable, primaryKey, smallint, text } from "drizzle-orm/pg-core";
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

/**
 * When each user belonged to each team, as the log itself says: a window opens at the team's
 * `team.memberJoined` event for the user and closes at the `team.memberLeft` for them or at
 * `team.deleted` (that event excluded). recordEvents keeps it in the same transaction as those
 * events, so it never disagrees with the log, and it outlives retention, which may prune the
 * join event itself.
 *
 * Why rows and not a scan of the log: a subscriber's backlog becomes one index range per window
 * on `events_team_idx` (team_id, id) plus their personal events, instead of reading the whole log
 * (or the history of every membership event) to find out when they belonged.
 */
export const membershipWindows = pgTable(
  "membership_windows",
  {
    teamId: text("team_id").notNull(),
    userId: text("user_id").notNull(),
    /** The id of the team-scoped `team.memberJoined` event: the first event of the team they see. */
    joinedEventId: bigint("joined_event_id", { mode: "number" }).notNull(),
    /** The id of the event that ended it (not seen by them through the team), or null while a member. */
    leftEventId: bigint("left_event_id", { mode: "number" }),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId, t.joinedEventId] }), index("membership_windows_user_idx").on(t.userId)],
);
