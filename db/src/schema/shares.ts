import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";
import { teams } from "./teams.js";
import { users } from "./users.js";

/** The signed manifest (`ShareManifest` in @osmynt/sdk/crypto) as the author sent it: plain JSON, ids and hashes only. */
export type StoredManifest = Record<string, unknown>;
/** A signed forward record (`ShareForward` in @osmynt/sdk/crypto): plain JSON, ids and hashes only. */
export type StoredForward = Record<string, unknown>;

/**
 * End-to-end encrypted shares (crypto.md §8). The server keeps what it needs to route and
 * authorize (target, author, sizes, times) and the envelope it cannot read: ciphertext, nonce,
 * signed manifest, signature. Title, path, language, repository and code live inside the
 * ciphertext. A share goes to a team (`teamId`) or to one user (`targetUserId`), never both.
 *
 * `seq` orders feeds: keyset pages on it never repeat or skip a row that existed when paging
 * began, whatever is inserted or deleted meanwhile. `id` is chosen and signed by the author's
 * device (the manifest names it), so the server cannot move a share to another id.
 */
export const shares = pgTable(
  "shares",
  {
    seq: bigserial("seq", { mode: "number" }).notNull(),
    id: text("id").primaryKey(),
    teamId: text("team_id").references(() => teams.id, { onDelete: "cascade" }),
    targetUserId: text("target_user_id").references(() => users.id, { onDelete: "cascade" }),
    authorId: text("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    authorDeviceId: text("author_device_id").notNull(),
    suite: text("suite").notNull(),
    nonce: text("nonce").notNull(),
    /** base64url AES-256-GCM ciphertext of the padded payload. */
    ciphertext: text("ciphertext").notNull(),
    manifest: jsonb("manifest").$type<StoredManifest>().notNull(),
    signature: text("signature").notNull(),
    /** Decoded ciphertext length in bytes (what limits and headers talk about). */
    ciphertextBytes: integer("ciphertext_bytes").notNull(),
    createdAt: createdAt(),
    expiresAt: tstz("expires_at"),
  },
  (t) => [
    uniqueIndex("shares_seq_key").on(t.seq),
    index("shares_team_feed_idx").on(t.teamId, t.seq),
    index("shares_direct_idx").on(t.authorId, t.targetUserId, t.seq),
    index("shares_direct_in_idx").on(t.targetUserId, t.seq),
    index("shares_expires_idx").on(t.expiresAt),
    check("shares_one_target", sql`(${t.teamId} is null) <> (${t.targetUserId} is null)`),
  ],
);

/**
 * A re-wrap of a share's key for devices its author did not encrypt to (backfill), signed by the
 * forwarding device. Stored as sent; readers verify it against the forwarder's device log and
 * the author's key commitment.
 */
export const shareForwards = pgTable(
  "share_forwards",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    shareId: text("share_id")
      .notNull()
      .references(() => shares.id, { onDelete: "cascade" }),
    forwarderUserId: text("forwarder_user_id").notNull(),
    forwarderDeviceId: text("forwarder_device_id").notNull(),
    record: jsonb("record").$type<StoredForward>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("share_forwards_share_idx").on(t.shareId)],
);

/**
 * One wrapped share key per recipient device (HPKE `enc` and ciphertext of the 32-byte key). A
 * device is handed only its own row. `forwardId` is set when the key came by a forward.
 */
export const shareRecipients = pgTable(
  "share_recipients",
  {
    shareId: text("share_id")
      .notNull()
      .references(() => shares.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    deviceId: text("device_id").notNull(),
    kemKeyId: text("kem_key_id").notNull(),
    enc: text("enc").notNull(),
    wrappedKey: text("wrapped_key").notNull(),
    forwardId: bigint("forward_id", { mode: "number" }).references(() => shareForwards.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.shareId, t.userId, t.deviceId] }), index("share_recipients_user_idx").on(t.userId, t.deviceId)],
);

/** Which shares a user has read (for unread counts per team and per direct thread). */
export const shareReads = pgTable(
  "share_reads",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    shareId: text("share_id")
      .notNull()
      .references(() => shares.id, { onDelete: "cascade" }),
    readAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.shareId] })],
);
