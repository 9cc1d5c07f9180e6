import { index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";

/**
 * Where an editor's browser sign-in stands:
 * `pending` (editor asked) → `authorizing` (browser sent to GitHub with a state) → `exchanging`
 * (GitHub came back; the state is spent) → `complete` (session sealed) → `retrieved` (handed over
 * once; the blob is gone), or `failed` from any step in the browser.
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
 * OAuth state is kept as a SHA-256 hash, and the session exists only sealed to the editor's key
 * (only the editor's private key opens it) until the one retrieval that clears it.
 */
export const handshakes = pgTable(
  "handshakes",
  {
    id: text("id").primaryKey(),
    /** The editor's ephemeral P-256 key: uncompressed point, base64url. */
    publicKey: text("public_key").notNull(),
    stateHash: text("state_hash").unique(),
    status: text("status", { enum: handshakeStatuses }).notNull().default("pending"),
    sealedSession: jsonb("sealed_session").$type<SealedSession>(),
    /** Why the browser flow failed (`access_denied`, `github_unavailable`…): a code, never a secret. */
    failure: text("failure"),
    expiresAt: tstz("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("handshakes_expires_idx").on(t.expiresAt)],
);
