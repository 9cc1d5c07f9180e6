import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";
import { users } from "./users.js";

export const deviceLinkTypes = ["root", "add_device", "revoke_device", "rotate_kem", "add_recovery"] as const;
export type DeviceLinkType = (typeof deviceLinkTypes)[number];

/** A signed device-log link as the crypto core defines it (`DeviceLink` in @osmynt/sdk/crypto): plain JSON. */
export type StoredDeviceLink = Record<string, unknown>;

/**
 * Each user's device log: hash-chained links, each signed by a device that was active at the
 * previous link (crypto.md §4). Append-only: rows are inserted, never updated or deleted, and
 * (user, seq) is the primary key, so two appends racing for one position cannot both land (no
 * fork). `link` is the signed link as the device sent it; clients verify the whole log again from
 * it, so the server never rewrites it. The other columns are copied from it for queries.
 */
export const deviceLinks = pgTable(
  "device_links",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    type: text("type", { enum: deviceLinkTypes }).notNull(),
    /** The device the link is about (added, revoked, rotated). */
    deviceId: text("device_id").notNull(),
    signerDeviceId: text("signer_device_id").notNull(),
    /** The link hash (base64url): the next link's `prev`. */
    hash: text("hash").notNull(),
    link: jsonb("link").$type<StoredDeviceLink>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.seq] }), check("device_links_seq_nonnegative", sql`${t.seq} >= 0`)],
);

/**
 * What the server's verification of a user's log concluded so far (the crypto core's
 * `DeviceLogState`, plain JSON): the next link is checked against it instead of re-verifying every
 * signature from the root. Written only in the transaction that appends the link it reflects.
 */
export const deviceLogs = pgTable("device_logs", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  headSeq: integer("head_seq").notNull(),
  state: jsonb("state").$type<Record<string, unknown>>().notNull(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

export const deviceKinds = ["device", "recovery"] as const;
export type DeviceKind = (typeof deviceKinds)[number];

export const deviceStatuses = ["active", "revoked"] as const;
export type DeviceStatus = (typeof deviceStatuses)[number];

/**
 * Each user's devices as their verified log says, copied from `device_logs.state` in the
 * transaction that appends, never written on its own: for routing (who receives wrapped keys,
 * which devices are revoked). Clients never trust it; they derive the same from the log.
 * Device ids are chosen (and signed) by the device, so they are unique per user, not globally.
 */
export const devices = pgTable(
  "devices",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    kind: text("kind", { enum: deviceKinds }).notNull(),
    name: text("name").notNull().default(""),
    status: text("status", { enum: deviceStatuses }).notNull().default("active"),
    /** ECDSA P-256 public key (uncompressed point, base64url): verifies this device's signatures. */
    signingKey: text("signing_key").notNull(),
    /** HPKE P-256 public key (uncompressed point, base64url); null for a recovery key, which never receives. */
    kemKey: text("kem_key"),
    /** Names the current HPKE key; it changes with every `rotate_kem`. */
    kemKeyId: text("kem_key_id"),
    /** The seq of the link that added the device, and of the one that revoked it. */
    addedSeq: integer("added_seq").notNull(),
    revokedSeq: integer("revoked_seq"),
    createdAt: createdAt(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.id] })],
);

/**
 * `initiated` (N sent its keys and commitment) → `responded` (E sent its ephemeral key) →
 * `revealed` (N revealed its ephemeral key) → `approved` (E's user typed the matching code; E sent
 * its MAC) → `confirmed` (N checked E's MAC and sent its own, with its signature over add_device)
 * → `completed` (E appended add_device); `aborted` from any open step.
 */
export const pairingStatuses = ["initiated", "responded", "revealed", "approved", "confirmed", "completed", "aborted"] as const;
export type PairingStatus = (typeof pairingStatuses)[number];

/** A pairing message relayed between the two devices; public values only (keys, commitments, MACs). */
export type PairingMessage = Record<string, string | number>;

/**
 * SAS pairing sessions (crypto.md §5), relayed between a new device (N) and an existing one (E) of
 * the same user. Nothing here is secret: public keys, a hash commitment, the ephemeral ECDH public
 * keys and key-confirmation MACs. What keeps a relaying server out is the commitment and the code
 * the user compares, not anything stored here. Each step may happen once; a session expires
 * after a few minutes and is swept later.
 */
export const pairings = pgTable(
  "pairings",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    status: text("status", { enum: pairingStatuses }).notNull().default("initiated"),
    /** The new device's session: the other side must answer from another one. */
    initiatorSessionId: text("initiator_session_id").notNull(),
    responderSessionId: text("responder_session_id"),
    /** The new device: id, long-term public keys, transaction id and commitment (step 1). */
    request: jsonb("request").$type<PairingMessage>().notNull(),
    /** The existing device's answer: its id and ephemeral public key (step 2). */
    response: jsonb("response").$type<PairingMessage>(),
    /** The new device's ephemeral public key, revealed after the answer (step 3). */
    reveal: jsonb("reveal").$type<PairingMessage>(),
    /** The existing device's key confirmation (step 6), sent once its user typed a matching code. */
    existingConfirmation: jsonb("existing_confirmation").$type<PairingMessage>(),
    /** The new device's key confirmation and its signature over the add_device link (step 6). */
    newConfirmation: jsonb("new_confirmation").$type<PairingMessage>(),
    /** Why a side gave up (`code_mismatch`, `mac_mismatch`, `cancelled`…): a reason, never a secret. */
    abortReason: text("abort_reason"),
    expiresAt: tstz("expires_at").notNull(),
    createdAt: createdAt(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [index("pairings_user_idx").on(t.userId, t.createdAt), index("pairings_expires_idx").on(t.expiresAt)],
);
