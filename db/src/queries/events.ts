import { and, asc, eq, gt, gte, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Database, Executor, Transaction } from "../client.js";
import { eventLogState, events, membershipWindows } from "../schema/events.js";
import { teams } from "../schema/teams.js";

export type EventRow = typeof events.$inferSelect;
export type NewEvent = Pick<typeof events.$inferInsert, "type" | "teamId" | "userId" | "payload">;

// The one row of event_log_state.
const STATE_ROW = 1;

/**
 * Where event writers announce the smallest id they may still commit: a transaction-scoped
 * advisory lock on `WRITER_MARK_BASE + id` (ids below 2^56), visible to every session in
 * `pg_locks` from the moment it is taken until after the writer's commit is visible.
 */
const WRITER_MARK_BASE = 0x7e00_0000_0000_0000n;
const WRITER_MARK_CLASS_LOW = 0x7e00_0000;
const WRITER_MARK_CLASS_HIGH = 0x7eff_ffff;

type RawRows = Record<string, unknown>[] | { rows: Record<string, unknown>[] };
const rowsOf = (result: unknown) => (Array.isArray(result) ? result : (result as Exclude<RawRows, unknown[]>).rows);

/**
 * Appends events inside the caller's transaction. Call it as the transaction's last write.
 *
 * The commit-order trap: a sequence hands out ids at insert, not at commit, so transaction A can
 * take id 10, B take 11 and commit first; a reader that delivered 11 and resumes "after 11" would
 * never see 10. Writers do not wait for each other to close it: before drawing ids, a writer
 * takes a *shared* advisory lock whose key says "I may still commit ids from here on" (the
 * sequence's next value, a lower bound of what it will draw). Readers only read up to the
 * visibility horizon (see eventHorizon), which stays below every such mark, so an event that
 * commits later with a smaller id is never skipped; it only holds back the events above it until
 * it commits or rolls back. Shared locks never conflict, so writers run in parallel; the mark is
 * held from here to commit, which is why this should be the transaction's last write.
 */
export async function recordEvents(tx: Transaction, rows: NewEvent[]): Promise<EventRow[]> {
  if (rows.length === 0) return [];
  // Each row's id takes the mark and then draws, in one expression of the insert itself (no extra
  // round trip): the subquery's lock runs before the outer nextval, so the mark is at or below the id.
  const markThenDraw = sql`(select nextval('events_id_seq') from (select pg_advisory_xact_lock_shared(${WRITER_MARK_BASE.toString()}::bigint + (select case when is_called then last_value + 1 else last_value end from events_id_seq))) as mark)`;
  const inserted = await tx
    .insert(events)
    .values(rows.map((row) => ({ ...row, id: markThenDraw })))
    .returning();
  await recordMembershipWindows(tx, inserted);
  return inserted;
}

/**
 * Opens and closes membership windows from the membership events just written (the event types
 * of the contract: `team.memberJoined` / `team.memberLeft` name the member in `payload.userId`).
 * Only the team-scoped copies count; personal copies (teamId null) only inform the member.
 */
async function recordMembershipWindows(tx: Transaction, rows: EventRow[]) {
  for (const row of rows) {
    if (!row.teamId) continue;
    const subject = typeof row.payload.userId === "string" ? row.payload.userId : null;
    if (row.type === "team.memberJoined" && subject) {
      await tx.insert(membershipWindows).values({ teamId: row.teamId, userId: subject, joinedEventId: row.id }).onConflictDoNothing();
    } else if ((row.type === "team.memberLeft" && subject) || row.type === "team.deleted") {
      await tx
        .update(membershipWindows)
        .set({ leftEventId: row.id })
        .where(
          and(
            eq(membershipWindows.teamId, row.teamId),
            subject && row.type === "team.memberLeft" ? eq(membershipWindows.userId, subject) : undefined,
            isNull(membershipWindows.leftEventId),
          ),
        );
    }
  }
}

export type MembershipWindow = Pick<typeof membershipWindows.$inferSelect, "teamId" | "joinedEventId" | "leftEventId">;

/**
 * The visibility horizon of the log: the highest id such that every event id up to it is final —
 * committed and visible to a statement started after this returns, or never to be committed.
 * It is the highest id drawn so far, lowered below the mark of every writer still in flight
 * (see recordEvents). Two statements, in this order: a writer that draws an id at or below the
 * first answer has taken its mark before it, so the second sees the mark unless the writer has
 * already finished (and then its events are visible to any later statement).
 */
export async function eventHorizon(db: Executor): Promise<number> {
  const [drawn] = rowsOf(
    await db.execute(sql`select case when is_called then last_value else last_value - 1 end as id from events_id_seq`),
  );
  const [mark] = rowsOf(
    await db.execute(
      sql`select min(((classid::bigint << 32) | objid::bigint) - ${WRITER_MARK_BASE.toString()}::bigint) as id
          from pg_locks
          where locktype = 'advisory' and objsubid = 1
            and database = (select oid from pg_database where datname = current_database())
            and classid::bigint between ${WRITER_MARK_CLASS_LOW} and ${WRITER_MARK_CLASS_HIGH}`,
    ),
  );
  const highest = Number(drawn?.id ?? 0);
  return mark?.id === null || mark?.id === undefined ? highest : Math.min(highest, Number(mark.id) - 1);
}

/**
 * Events after `after` (exclusive) up to the horizon, oldest first (the hub and tests). Safe to
 * resume from the last id returned: no event at or below it can appear later. `db` must not be
 * a repeatable-read transaction (its snapshot would predate the horizon).
 */
export async function readEvents(db: Executor, params: { after: number; limit: number }): Promise<EventRow[]> {
  const horizon = await eventHorizon(db);
  if (horizon <= params.after) return [];
  return db
    .select()
    .from(events)
    .where(and(gt(events.id, params.after), lte(events.id, horizon)))
    .orderBy(asc(events.id))
    .limit(params.limit);
}

/**
 * One page of what `userId` may see after `after`: their personal events, and each team's events
 * inside their membership windows (from the join event, up to but excluding the event that ended
 * it). The windows are read in the same snapshot as the events, so a removal committing meanwhile
 * cannot let one event too many through. Returns the windows too: the stream keeps them for its
 * live events.
 */
export async function readVisibleEvents(
  db: Database,
  params: { userId: string; after: number; limit: number },
): Promise<{ rows: EventRow[]; windows: MembershipWindow[] }> {
  // Before the snapshot of the transaction below is taken (see eventHorizon).
  // (The windows are read even when no event is past `after` yet: the stream routes by them.)
  const horizon = await eventHorizon(db);
  return db.transaction(
    async (tx) => {
      const windows = await tx
        .select({
          teamId: membershipWindows.teamId,
          joinedEventId: membershipWindows.joinedEventId,
          leftEventId: membershipWindows.leftEventId,
        })
        .from(membershipWindows)
        .where(
          and(
            eq(membershipWindows.userId, params.userId),
            or(isNull(membershipWindows.leftEventId), gt(membershipWindows.leftEventId, params.after + 1)),
          ),
        );
      // A personal team is created at sign-up without a join event and never takes members or
      // ends, so its owner's window is implicit: all of it, from the start of the log.
      const personal = await tx
        .select({ teamId: teams.id })
        .from(teams)
        .where(and(eq(teams.createdBy, params.userId), eq(teams.personal, true)));
      for (const { teamId } of personal) {
        if (!windows.some((w) => w.teamId === teamId)) windows.push({ teamId, joinedEventId: 0, leftEventId: null });
      }
      const ranges = windows.map((w) =>
        and(
          eq(events.teamId, w.teamId),
          gte(events.id, w.joinedEventId),
          w.leftEventId === null ? undefined : lt(events.id, w.leftEventId),
        ),
      );
      const rows = await tx
        .select()
        .from(events)
        .where(and(gt(events.id, params.after), lte(events.id, horizon), or(eq(events.userId, params.userId), ...ranges)))
        .orderBy(asc(events.id))
        .limit(params.limit);
      return { rows, windows };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

/**
 * The newest event id the log has handed out, or 0 for a log that never had one. A fully pruned
 * log still remembers how far it went, so a cursor at that point is not "from the future".
 */
export async function latestEventId(db: Executor): Promise<number> {
  const [row] = await db.select({ id: sql<string | null>`max(${events.id})` }).from(events);
  return Math.max(row?.id ? Number(row.id) : 0, await prunedThroughEventId(db));
}

/** The highest event id retention has deleted (0 when nothing was pruned); older cursors need a resync. */
export async function prunedThroughEventId(db: Executor): Promise<number> {
  const [row] = await db.select({ id: eventLogState.prunedThrough }).from(eventLogState).where(eq(eventLogState.id, STATE_ROW));
  return row?.id ?? 0;
}

/**
 * One bounded batch of retention: deletes the oldest events, up to `limit`, as long as they are
 * older than the cutoff, and raises the pruned-through mark in the same transaction.
 *
 * It prunes a *prefix* of the log (stopping at the first event still within retention), never
 * scattered rows: what is kept is always every event above the mark, so one number tells a
 * resuming subscriber whether it can have missed something. The prefix is found by walking the
 * primary key in id order, so no index on `created_at` is needed. It stops at the visibility
 * horizon (see eventHorizon), so the mark never passes an event that commits later with a smaller
 * id. Idempotent: instances may run it concurrently.
 */
export async function pruneEventsBatch(
  db: Database,
  params: { olderThan: Date; limit: number },
): Promise<{ removed: number; prunedThrough: number }> {
  const horizon = await eventHorizon(db);
  return db.transaction(async (tx) => {
    const head = await tx.select({ id: events.id, createdAt: events.createdAt }).from(events).orderBy(asc(events.id)).limit(params.limit);
    let through = 0;
    for (const row of head) {
      if (row.createdAt >= params.olderThan || row.id > horizon) break;
      through = row.id;
    }
    if (through === 0) return { removed: 0, prunedThrough: await prunedThroughEventId(tx) };
    const gone = await tx.delete(events).where(lte(events.id, through)).returning({ id: events.id });
    await tx
      .insert(eventLogState)
      .values({ id: STATE_ROW, prunedThrough: through })
      .onConflictDoUpdate({
        target: eventLogState.id,
        set: { prunedThrough: sql`greatest(${eventLogState.prunedThrough}, excluded.pruned_through)` },
      });
    return { removed: gone.length, prunedThrough: through };
  });
}
