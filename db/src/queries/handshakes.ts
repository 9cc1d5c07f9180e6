import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../client.js";
import { newId } from "../ids.js";
import { type HandshakeStatus, handshakes, type SealedSession } from "../schema/handshakes.js";

/** Where a handshake stands, for explaining a refusal; `expired` by the database clock. */
export interface HandshakeState {
  id: string;
  status: HandshakeStatus;
  expired: boolean;
  failure: string | null;
  expiresAt: Date;
}

export type { HandshakeStatus, SealedSession };

const live = sql`${handshakes.expiresAt} > now()`;

/** The columns of a `HandshakeState`, selected alike wherever a handshake's state is read. */
const stateColumns = {
  id: handshakes.id,
  status: handshakes.status,
  expired: sql<boolean>`${handshakes.expiresAt} <= now()`,
  failure: handshakes.failure,
  expiresAt: handshakes.expiresAt,
};

async function describe(db: Executor, where: SQL): Promise<HandshakeState | undefined> {
  const [row] = await db.select(stateColumns).from(handshakes).where(where);
  return row;
}

/**
 * Starts a handshake for an editor's public key; only the hash of the editor's retrieval secret is
 * kept. Handshakes long past their expiry are swept here, a few at a time, so the table stays small
 * without a job of its own.
 */
export async function createHandshake(
  db: Executor,
  params: { publicKey: string; retrievalSecretHash: string; ttlMs: number },
): Promise<{ id: string; expiresAt: Date }> {
  await db.execute(
    sql`delete from ${handshakes} where ${handshakes.id} in (select ${handshakes.id} from ${handshakes} where ${handshakes.expiresAt} < now() - interval '1 hour' limit 100)`,
  );
  const [row] = await db
    .insert(handshakes)
    .values({
      id: newId("handshake"),
      publicKey: params.publicKey,
      retrievalSecretHash: params.retrievalSecretHash,
      expiresAt: sql`now() + make_interval(secs => ${params.ttlMs / 1000}::double precision)`,
    })
    .returning({ id: handshakes.id, expiresAt: handshakes.expiresAt });
  if (!row) throw new Error("handshake insert returned nothing");
  return row;
}

export function getHandshakeState(db: Executor, id: string): Promise<HandshakeState | undefined> {
  return describe(db, eq(handshakes.id, id));
}

/** The handshake's state for its editor only: undefined when the retrieval secret does not match. */
export function getHandshakeStateForEditor(db: Executor, params: { id: string; retrievalSecretHash: string }) {
  return describe(db, and(eq(handshakes.id, params.id), eq(handshakes.retrievalSecretHash, params.retrievalSecretHash)) as SQL);
}

/** What the confirmation page needs: the editor's key (the user code derives from it) and where it stands. */
export async function getHandshakeForConfirmation(
  db: Executor,
  id: string,
): Promise<(HandshakeState & { publicKey: string; codeAttempts: number }) | undefined> {
  const [row] = await db
    .select({ ...stateColumns, publicKey: handshakes.publicKey, codeAttempts: handshakes.codeAttempts })
    .from(handshakes)
    .where(eq(handshakes.id, id));
  return row;
}

/**
 * Counts a wrong user code against a pending handshake; the `maxAttempts`-th kills it (status
 * `failed`, failure `too_many_codes`). One conditional update, so concurrent guesses cannot
 * exceed the limit. Returns the attempts left, or null when the handshake was not pending.
 */
export async function recordWrongUserCode(db: Executor, params: { id: string; maxAttempts: number }): Promise<{ left: number } | null> {
  const [row] = await db
    .update(handshakes)
    .set({
      codeAttempts: sql`${handshakes.codeAttempts} + 1`,
      status: sql`case when ${handshakes.codeAttempts} + 1 >= ${params.maxAttempts} then 'failed' else ${handshakes.status} end`,
      failure: sql`case when ${handshakes.codeAttempts} + 1 >= ${params.maxAttempts} then 'too_many_codes' else ${handshakes.failure} end`,
    })
    .where(and(eq(handshakes.id, params.id), eq(handshakes.status, "pending"), live))
    .returning({ attempts: handshakes.codeAttempts });
  return row ? { left: Math.max(0, params.maxAttempts - row.attempts) } : null;
}

/**
 * Binds an OAuth state (its hash) to a pending handshake once the right user code was typed. Only
 * one browser visit may do so: the conditional update is the lock, so the link cannot be replayed
 * into a second GitHub round trip.
 */
export async function beginHandshakeAuthorization(
  db: Executor,
  params: { id: string; stateHash: string },
): Promise<{ ok: true } | { ok: false; state: HandshakeState | undefined }> {
  const [row] = await db
    .update(handshakes)
    .set({ status: "authorizing", stateHash: params.stateHash })
    .where(and(eq(handshakes.id, params.id), eq(handshakes.status, "pending"), live))
    .returning({ id: handshakes.id });
  return row ? { ok: true } : { ok: false, state: await getHandshakeState(db, params.id) };
}

/**
 * Spends the OAuth state GitHub sent back: of two callbacks with one state, exactly one gets the
 * handshake; the other is told why not (replayed, expired or unknown).
 */
export async function claimHandshakeByState(
  db: Executor,
  params: { stateHash: string },
): Promise<{ ok: true; id: string } | { ok: false; state: HandshakeState | undefined }> {
  const [row] = await db
    .update(handshakes)
    .set({ status: "exchanging" })
    .where(and(eq(handshakes.stateHash, params.stateHash), eq(handshakes.status, "authorizing"), live))
    .returning({ id: handshakes.id });
  if (row) return { ok: true, ...row };
  return { ok: false, state: await describe(db, eq(handshakes.stateHash, params.stateHash)) };
}

/** Records who signed in; false when the handshake expired meanwhile (the caller rolls back). */
export async function completeHandshake(db: Executor, params: { id: string; userId: string }): Promise<boolean> {
  const rows = await db
    .update(handshakes)
    .set({ status: "complete", userId: params.userId })
    .where(and(eq(handshakes.id, params.id), eq(handshakes.status, "exchanging"), live))
    .returning({ id: handshakes.id });
  return rows.length > 0;
}

/** Records why the browser flow failed, so the waiting editor hears it instead of timing out. */
export async function failHandshake(db: Executor, params: { id: string; failure: string }): Promise<boolean> {
  const rows = await db
    .update(handshakes)
    .set({ status: "failed", failure: params.failure })
    .where(and(eq(handshakes.id, params.id), inArray(handshakes.status, ["pending", "authorizing", "exchanging"])))
    .returning({ id: handshakes.id });
  return rows.length > 0;
}

/**
 * The editor's one retrieval: with the right secret, a complete and live handshake becomes
 * `retrieved` and names the user and the editor's key, for the caller to open the session and seal
 * it in the same transaction. The row is locked whatever its status and judged from that one read:
 * a racing second retrieval waits, then sees `retrieved` and gets nothing, and a completion
 * committed while this ran is seen (a status filter in the lock, then a second read, could see the
 * row neither waiting nor taken). A wrong secret learns nothing (state undefined, as for an
 * unknown id).
 */
export async function takeCompletedHandshake(
  tx: Transaction,
  params: { id: string; retrievalSecretHash: string },
): Promise<{ ok: true; userId: string; publicKey: string } | { ok: false; state: HandshakeState | undefined }> {
  const [row] = await tx
    .select({ ...stateColumns, userId: handshakes.userId, publicKey: handshakes.publicKey })
    .from(handshakes)
    .where(and(eq(handshakes.id, params.id), eq(handshakes.retrievalSecretHash, params.retrievalSecretHash)))
    .for("update");
  if (!row) return { ok: false, state: undefined };
  const { userId, publicKey, ...state } = row;
  if (state.status !== "complete" || state.expired || !userId) return { ok: false, state };
  await tx.update(handshakes).set({ status: "retrieved" }).where(eq(handshakes.id, params.id));
  return { ok: true, userId, publicKey };
}
