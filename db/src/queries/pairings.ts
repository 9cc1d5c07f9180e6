import { and, asc, count, eq, gt, inArray, ne, type SQL, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../client.js";
import { AppError } from "../errors.js";
import { newId } from "../ids.js";
import { type PairingMessage, type PairingStatus, pairings } from "../schema/devices.js";
import { users } from "../schema/users.js";

export type { PairingMessage, PairingStatus };

/** A pairing as both sides see it: every message relayed so far (all public values). */
export interface PairingView {
  id: string;
  status: PairingStatus;
  request: PairingMessage;
  response: PairingMessage | null;
  reveal: PairingMessage | null;
  existingConfirmation: PairingMessage | null;
  newConfirmation: PairingMessage | null;
  abortReason: string | null;
  expiresAt: Date;
  createdAt: Date;
  /** By the database clock. */
  expired: boolean;
}

const viewColumns = {
  id: pairings.id,
  status: pairings.status,
  request: pairings.request,
  response: pairings.response,
  reveal: pairings.reveal,
  existingConfirmation: pairings.existingConfirmation,
  newConfirmation: pairings.newConfirmation,
  abortReason: pairings.abortReason,
  expiresAt: pairings.expiresAt,
  createdAt: pairings.createdAt,
  expired: sql<boolean>`${pairings.expiresAt} <= now()`,
};

const live = sql`${pairings.expiresAt} > now()`;
const open: PairingStatus[] = ["initiated", "responded", "revealed", "approved", "confirmed"];

/**
 * Starts a pairing for the new device's request. Per user at most `maxOpen` pairings may be open
 * and at most `maxPerHour` started in an hour: a flood of requests (or a stolen session trying
 * codes) is refused with TOO_MANY_REQUESTS. The user row lock makes the count and the insert one
 * step. Pairings long past their expiry are swept here, so the table stays small without a job.
 */
export async function createPairing(
  tx: Transaction,
  params: { userId: string; sessionId: string; request: PairingMessage; ttlMs: number; maxOpen: number; maxPerHour: number },
): Promise<PairingView> {
  await tx.execute(
    sql`delete from ${pairings} where ${pairings.id} in (select ${pairings.id} from ${pairings} where ${pairings.expiresAt} < now() - interval '1 hour' limit 100)`,
  );
  await tx.select({ id: users.id }).from(users).where(eq(users.id, params.userId)).for("no key update");
  const [recent] = await tx
    .select({
      started: count(),
      open: sql<number>`count(*) filter (where ${pairings.status} in ${open} and ${live})`.mapWith(Number),
    })
    .from(pairings)
    .where(and(eq(pairings.userId, params.userId), gt(pairings.createdAt, sql`now() - interval '1 hour'`)));
  if ((recent?.started ?? 0) >= params.maxPerHour)
    throw new AppError("TOO_MANY_REQUESTS", `Too many pairing attempts: at most ${params.maxPerHour} an hour; try again later`, {
      limit: params.maxPerHour,
    });
  if ((recent?.open ?? 0) >= params.maxOpen)
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `Too many pairings in progress: at most ${params.maxOpen} at a time; finish or cancel one, or wait for it to expire`,
      { limit: params.maxOpen },
    );
  const [row] = await tx
    .insert(pairings)
    .values({
      id: newId("pairing"),
      userId: params.userId,
      initiatorSessionId: params.sessionId,
      request: params.request,
      expiresAt: sql`now() + make_interval(secs => ${params.ttlMs / 1000}::double precision)`,
    })
    .returning(viewColumns);
  if (!row) throw new Error("pairing insert returned nothing");
  return row;
}

/** One of the user's pairings; NOT_FOUND for another user's (existence does not leak). */
export async function getPairing(db: Executor, params: { id: string; userId: string }): Promise<PairingView> {
  const [row] = await db
    .select(viewColumns)
    .from(pairings)
    .where(and(eq(pairings.id, params.id), eq(pairings.userId, params.userId)));
  if (!row) throw new AppError("NOT_FOUND", `Pairing ${params.id} not found`, { pairingId: params.id });
  return row;
}

/** The user's pairings waiting for an existing device to answer, oldest first. */
export function listPendingPairings(db: Executor, params: { userId: string }): Promise<PairingView[]> {
  return db
    .select(viewColumns)
    .from(pairings)
    .where(and(eq(pairings.userId, params.userId), eq(pairings.status, "initiated"), live))
    .orderBy(asc(pairings.createdAt));
}

/** The existing device appended the add_device link that the pairing was for. */
export function completePairing(db: Executor, params: { id: string; userId: string; sessionId: string }): Promise<PairingView> {
  return advancePairing(db, { ...params, from: "confirmed", to: "completed", side: "existing" });
}

/** Which session may take a step: the new device's own, or the other one. */
export type PairingSide = "new" | "existing";

export interface PairingStep {
  id: string;
  userId: string;
  sessionId: string;
  /** The status the step applies to, and the one it leads to. */
  from: PairingStatus;
  to: PairingStatus;
  side: PairingSide;
  /** What the step records. */
  set?: Partial<Pick<typeof pairings.$inferInsert, "response" | "reveal" | "existingConfirmation" | "newConfirmation">>;
}

function sideCondition(side: PairingSide, sessionId: string, from: PairingStatus): SQL {
  if (side === "new") return eq(pairings.initiatorSessionId, sessionId);
  // The existing device answers from a session of its own; later steps must come from that session.
  if (from === "initiated") return ne(pairings.initiatorSessionId, sessionId);
  return eq(pairings.responderSessionId, sessionId);
}

/**
 * Moves a pairing one step, once: the conditional update is the lock, so of two answers racing for
 * the same step exactly one is relayed. A step that does not apply is explained: NOT_FOUND for a
 * pairing that is not the user's, PRECONDITION_FAILED naming the status or the expiry otherwise.
 */
export async function advancePairing(db: Executor, step: PairingStep): Promise<PairingView> {
  const [row] = await db
    .update(pairings)
    .set({
      ...step.set,
      status: step.to,
      updatedAt: sql`now()`,
      ...(step.from === "initiated" ? { responderSessionId: step.sessionId } : {}),
    })
    .where(
      and(
        eq(pairings.id, step.id),
        eq(pairings.userId, step.userId),
        eq(pairings.status, step.from),
        live,
        sideCondition(step.side, step.sessionId, step.from),
      ),
    )
    .returning(viewColumns);
  if (row) return row;
  const current = await getPairing(db, { id: step.id, userId: step.userId });
  if (current.expired && open.includes(current.status))
    throw new AppError("PRECONDITION_FAILED", `Pairing ${step.id} expired; start a new one`, { pairingId: step.id, reason: "expired" });
  if (current.status !== step.from)
    throw new AppError(
      "PRECONDITION_FAILED",
      current.status === "aborted"
        ? `Pairing ${step.id} was aborted (${current.abortReason ?? "cancelled"}); start a new one`
        : `Pairing ${step.id} is ${current.status}, not ${step.from}; this step does not apply now`,
      { pairingId: step.id, status: current.status, reason: current.status === "aborted" ? "aborted" : "wrong_step" },
    );
  throw new AppError(
    "FORBIDDEN",
    step.side === "new"
      ? `Only the new device that started pairing ${step.id} may take this step`
      : step.from === "initiated"
        ? `The new device cannot answer its own pairing request; answer from an existing device`
        : `Only the device that answered pairing ${step.id} may take this step`,
    { pairingId: step.id, reason: "wrong_side" },
  );
}

/** Ends an open pairing (either side may); aborting a finished or aborted one changes nothing. */
export async function abortPairing(
  db: Executor,
  params: { id: string; userId: string; reason: string },
): Promise<{ changed: boolean; pairing: PairingView }> {
  const [row] = await db
    .update(pairings)
    .set({ status: "aborted", abortReason: params.reason, updatedAt: sql`now()` })
    .where(and(eq(pairings.id, params.id), eq(pairings.userId, params.userId), inArray(pairings.status, open)))
    .returning(viewColumns);
  if (row) return { changed: true, pairing: row };
  return { changed: false, pairing: await getPairing(db, params) };
}
