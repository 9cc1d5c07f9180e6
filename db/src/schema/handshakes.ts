import { index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";

/**
 * Where an editor's browser sign-in stands:
 * `pending` (editor asked; the browser page waits for the user code) → `authorizing` (the right
 * code was typed; browser sent to GitHub with a state) → `exchanging` (GitHub came back; the state
 * is spent) → `complete` (the user is known) → `retrieved` (the editor presented its retrieval
 * secret: the session was opened and handed over sealed, once), or `failed` from any step.
 */
export const handshakeStatuses = ["pending", "authorizing", "exchanging", "complete", "retrieved", "failed"] as const;
export type HandshakeStatus = (typeof handshakeStatuses)[number];

/** HPKE output for the editor's key: `enc` and the AEAD ciphertext, base64url. */
export interface SealedSession {
  enc: string;
  ciphertext: string;
}

/**
 * Editor sign-in handshakes. Nothing here signs anyone in: the editor's public key is public, the
 * OAuth state and the editor's retrieval secret are kept as SHA-256 hashes, and no session exists
 * until the editor retrieves it (then it is opened and sealed to the editor's key at once), so a
 * flow that is never retrieved leaves no session behind.
 */
export const handshakes = pgTable(
  "handshakes",
  {
    id: text("id").primaryKey(),
    /** The editor's ephemeral P-256 key: uncompressed point, base64url. */
    publicKey: text("public_key").notNull(),
    stateHash: text("state_hash").unique(),
    /** SHA-256 of the retrieval secret only the editor holds (retrieve/onComplete present it). */
    retrievalSecretHash: text("retrieval_secret_hash"),
    /** Wrong user codes typed on the confirmation page; at the limit the handshake fails. */
    codeAttempts: integer("code_attempts").notNull().default(0),
    /** Who signed in on GitHub (set at `complete`); the session is opened only at retrieval. */
    userId: text("user_id"),
    status: text("status", { enum: handshakeStatuses }).notNull().default("pending"),
    /** Why the browser flow failed (`access_denied`, `github_unavailable`…): a code, never a secret. */
    failure: text("failure"),
    expiresAt: tstz("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("handshakes_expires_idx").on(t.expiresAt)],
);
