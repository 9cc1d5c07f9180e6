import { and, asc, eq, gt, inArray, or, type SQL, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../client.js";
import { events } from "../schema/events.js";

export type EventRow = typeof events.$inferSelect;
export type NewEvent = Pick<typeof events.$inferInsert, "type" | "teamId" | "userId" | "payload">;

// One fixed key for every event writer in the deployment (see recordEvents).
const EVENT_WRITER_LOCK_KEY = 0x6576656e7473;

/**
 * Appends events inside the caller's transaction. Call it as the transaction's last write.
 *
 * The commit-order trap: a sequence hands out ids at insert, not at commit, so transaction A can
 * take id 10, B take 11 and commit first; a reader that delivered 11 and resumes "after 11" would
 * never see 10. We close it by serializing event writers: the transaction-scoped advisory lock is
 * taken *before* the ids are drawn and released only after commit (PostgreSQL makes a transaction
 * visible before it releases its locks), so every id is drawn after all smaller ids are visible or
 * rolled back. The lock is held only from this insert to commit, which is why it must come last.
 */
export async function recordEvents(tx: Transaction, rows: NewEvent[]): Promise<EventRow[]> {
  if (rows.length === 0) return [];
  await tx.execute(sql`select pg_advisory_xact_lock(${EVENT_WRITER_LOCK_KEY})`);
  return tx.insert(events).values(rows).returning();
}

export interface EventAudience {
  userId: string;
  teamIds: readonly string[];
}

/**
 * Events after `after` (exclusive), oldest first. With an audience, only the events that user may
 * see: their own, and those of the given teams. Safe to resume from the last id returned.
 */
export async function readEvents(
  db: Executor,
  params: {
    after: number;
    limit: number;
    audience?: EventAudience | undefined;
  },
): Promise<EventRow[]> {
  const conditions: SQL[] = [gt(events.id, params.after)];
  if (params.audience) {
    const { userId, teamIds } = params.audience;
    const visible = teamIds.length > 0 ? or(eq(events.userId, userId), inArray(events.teamId, [...teamIds])) : eq(events.userId, userId);
    if (visible) conditions.push(visible);
  }
  return db
    .select()
    .from(events)
    .where(and(...conditions))
    .orderBy(asc(events.id))
    .limit(params.limit);
}

/** The newest event id, or 0 for an empty log. */
export async function latestEventId(db: Executor): Promise<number> {
  const [row] = await db.select({ id: sql<string | null>`max(${events.id})` }).from(events);
  return row?.id ? Number(row.id) : 0;
}

/** The oldest event id still kept, or null when the log is empty; older cursors need a resync. */
export async function oldestEventId(db: Executor): Promise<number | null> {
  const [row] = await db.select({ id: sql<string | null>`min(${events.id})` }).from(events);
  return row?.id ? Number(row.id) : null;
}

/** Deletes events older than the cutoff (retention); returns how many went. */
export async function pruneEvents(db: Executor, olderThan: Date): Promise<number> {
  const gone = await db.delete(events).where(sql`${events.createdAt} < ${olderThan}`).returning({ id: events.id });
  return gone.length;
}
