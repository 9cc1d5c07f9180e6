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
}

export type { HandshakeStatus, SealedSession };

const live = sql`${handshakes.expiresAt} > now()`;

async function describe(db: Executor, where: SQL): Promise<HandshakeState | undefined> {
  const [row] = await db
    .select({
      id: handshakes.id,
      status: handshakes.status,
      expired: sql<boolean>`${handshakes.expiresAt} <= now()`,
      failure: handshakes.failure,
    })
    .from(handshakes)
    .where(where);
  return row;
}

/**
 * Starts a handshake for an editor's public key. Handshakes long past their expiry are swept here,
 * a few at a time, so the table stays small without a job of its own.
 */
export async function createHandshake(
  db: Executor,
  params: { publicKey: string; ttlMs: number },
): Promise<{ id: string; expiresAt: Date }> {
  await db.execute(
    sql`delete from ${handshakes} where ${handshakes.id} in (select ${handshakes.id} from ${handshakes} where ${handshakes.expiresAt} < now() - interval '1 hour' limit 100)`,
  );
  const [row] = await db
    .insert(handshakes)
    .values({
      id: newId("handshake"),
      publicKey: params.publicKey,
      expiresAt: sql`now() + make_interval(secs => ${params.ttlMs / 1000}::double precision)`,
    })
    .returning({ id: handshakes.id, expiresAt: handshakes.expiresAt });
  if (!row) throw new Error("handshake insert returned nothing");
  return row;
}

export function getHandshakeState(db: Executor, id: string): Promise<HandshakeState | undefined> {
  return describe(db, eq(handshakes.id, id));
}

/**
 * Binds an OAuth state (its hash) to a pending handshake. Only one browser visit may do so: the
 * conditional update is the lock, so the link cannot be replayed into a second GitHub round trip.
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
 * handshake (and its editor key); the other is told why not (replayed, expired or unknown).
 */
export async function claimHandshakeByState(
  db: Executor,
  params: { stateHash: string },
): Promise<{ ok: true; id: string; publicKey: string } | { ok: false; state: HandshakeState | undefined }> {
  const [row] = await db
    .update(handshakes)
    .set({ status: "exchanging" })
    .where(and(eq(handshakes.stateHash, params.stateHash), eq(handshakes.status, "authorizing"), live))
    .returning({ id: handshakes.id, publicKey: handshakes.publicKey });
  if (row) return { ok: true, ...row };
  return { ok: false, state: await describe(db, eq(handshakes.stateHash, params.stateHash)) };
}

/** Stores the sealed session; false when the handshake expired meanwhile (the caller rolls back). */
export async function completeHandshake(db: Executor, params: { id: string; sealedSession: SealedSession }): Promise<boolean> {
  const rows = await db
    .update(handshakes)
    .set({ status: "complete", sealedSession: params.sealedSession })
    .where(and(eq(handshakes.id, params.id), eq(handshakes.status, "exchanging"), live))
    .returning({ id: handshakes.id });
  return rows.length > 0;
}

/** Records why the browser flow failed, so the waiting editor hears it instead of timing out. */
export async function failHandshake(db: Executor, params: { id: string; failure: string }): Promise<void> {
  await db
    .update(handshakes)
    .set({ status: "failed", failure: params.failure })
    .where(and(eq(handshakes.id, params.id), inArray(handshakes.status, ["pending", "authorizing", "exchanging"])));
}

/**
 * Hands the sealed session over exactly once. The row is locked and cleared in one transaction:
 * a racing second retrieval waits for the lock, then sees `retrieved` and gets nothing.
 */
export async function takeSealedSession(
  tx: Transaction,
  params: { id: string },
): Promise<{ ok: true; sealedSession: SealedSession } | { ok: false; state: HandshakeState | undefined }> {
  const [row] = await tx
    .select({ sealedSession: handshakes.sealedSession })
    .from(handshakes)
    .where(and(eq(handshakes.id, params.id), eq(handshakes.status, "complete"), live))
    .for("update");
  if (!row?.sealedSession) return { ok: false, state: await getHandshakeState(tx, params.id) };
  await tx.update(handshakes).set({ status: "retrieved", sealedSession: null }).where(eq(handshakes.id, params.id));
  return { ok: true, sealedSession: row.sealedSession };
}
