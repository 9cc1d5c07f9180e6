import { z } from "zod";
import { deviceIdInput, idInput } from "../../trpc/id-input.js";

const base64url = /^[A-Za-z0-9_-]*$/;
const iso = z.string().describe("ISO 8601 timestamp");

/** A base64url field with a size bound; what the bytes mean is checked by the crypto core. */
const b64 = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is too long (at most ${max} characters)`)
    .regex(base64url, `${what} must be base64url (A–Z, a–z, 0–9, - and _)`);

export const shareIdInput = idInput("share", "id");

export const targetInput = z.union(
  [z.object({ teamId: idInput("team", "target.teamId") }).strict(), z.object({ userId: idInput("user", "target.userId") }).strict()],
  {
    error: "target is { teamId } or { userId }",
  },
);

/**
 * The envelope (api.md): the ciphertext's size is checked against SHARE_MAX_CIPHERTEXT_BYTES by
 * the procedure (PAYLOAD_TOO_LARGE), the manifest's shape and meaning by the crypto core.
 */
export const envelopeInput = z.object({
  suite: z.string().max(64, "suite is too long"),
  nonce: b64("envelope.nonce", 64),
  ciphertext: z.string().regex(base64url, "envelope.ciphertext must be base64url (A–Z, a–z, 0–9, - and _)"),
  manifest: z.record(z.string(), z.unknown()),
  signature: b64("envelope.signature", 200),
});

/** One device's wrapped share key (`RecipientWrap` in @osmynt/sdk/crypto). */
export const wrapInput = z.object({
  userId: idInput("user", "userId"),
  deviceId: deviceIdInput("deviceId"),
  kemKeyId: b64("kemKeyId", 64),
  enc: b64("enc", 200),
  wrappedKey: b64("wrappedKey", 200),
});

export const MAX_RECIPIENT_DEVICES = 5000;

export const createInput = z.object({
  target: targetInput,
  envelope: envelopeInput,
  recipients: wrapInput.array().min(1, "recipients must list at least one device").max(MAX_RECIPIENT_DEVICES),
  /** Must equal the signed manifest's expiry when given. */
  expiresAt: z.iso.datetime({ offset: true, error: "expiresAt must be an ISO 8601 timestamp" }).optional(),
});

export const createOutput = z.object({ id: z.string(), createdAt: iso, expiresAt: iso.nullable() });

export const getInput = z.object({
  id: shareIdInput,
  /** Which of my devices asks: only its wrapped key is handed out, and only while it is active. */
  deviceId: deviceIdInput("deviceId"),
});

const headerFields = {
  id: z.string(),
  teamId: z.string().nullable(),
  targetUserId: z.string().nullable(),
  authorId: z.string(),
  authorDeviceId: z.string(),
  createdAt: iso,
  expiresAt: iso.nullable(),
  ciphertextBytes: z.number(),
};

export const headerOutput = z.object({ ...headerFields, unread: z.boolean() });

export const getOutput = z.object({
  ...headerFields,
  envelope: z.object({
    suite: z.string(),
    nonce: z.string(),
    ciphertext: z.string(),
    manifest: z.record(z.string(), z.unknown()),
    signature: z.string(),
  }),
  /** This device's wrapped key; null while the device waits for a backfill. */
  wrap: wrapInput.nullable(),
  /** The signed forward record that brought this device's key, when it came by backfill. */
  forward: z.record(z.string(), z.unknown()).nullable(),
});

const cursorInput = z
  .string()
  .regex(/^\d{1,18}$/, "cursor must be a nextCursor from a previous page")
  .nullish();
const limitInput = z.number().int("limit must be an integer").min(1, "limit is at least 1").max(100, "limit is at most 100").default(50);

export const listTeamInput = z.object({
  teamId: idInput("team", "teamId"),
  authorId: idInput("user", "authorId").optional(),
  cursor: cursorInput,
  limit: limitInput,
});
export const listDirectInput = z.object({ userId: idInput("user", "userId"), cursor: cursorInput, limit: limitInput });
export const pageOutput = z.object({ items: headerOutput.array(), nextCursor: z.string().nullable() });

export const deleteInput = z.object({ id: shareIdInput });
export const okOutput = z.object({ ok: z.literal(true) });

export const addRecipientsInput = z.object({
  id: shareIdInput,
  /** The signed forward record (`ShareForward` in @osmynt/sdk/crypto). */
  forward: z.record(z.string(), z.unknown()),
  recipients: wrapInput.array().min(1, "recipients must list at least one device").max(MAX_RECIPIENT_DEVICES),
});
export const addRecipientsOutput = z.object({ added: z.object({ userId: z.string(), deviceId: z.string() }).array() });

export const markReadInput = z.union(
  [
    z.object({ shareIds: shareIdInput.array().min(1, "shareIds must not be empty").max(500, "at most 500 shareIds at once") }).strict(),
    z.object({ teamId: idInput("team", "teamId") }).strict(),
    z.object({ userId: idInput("user", "userId") }).strict(),
  ],
  { error: "markRead takes { shareIds }, { teamId } (the whole feed) or { userId } (the whole direct thread)" },
);
export const markReadOutput = z.object({ marked: z.number() });

export const unreadOutput = z.object({
  total: z.number(),
  teams: z.object({ teamId: z.string(), unread: z.number() }).array(),
  direct: z.object({ userId: z.string(), unread: z.number() }).array(),
});

export const needingForwardInput = z.object({ deviceId: deviceIdInput("deviceId"), cursor: cursorInput, limit: limitInput });
export const needingForwardOutput = z.object({ ids: z.string().array(), nextCursor: z.string().nullable() });
