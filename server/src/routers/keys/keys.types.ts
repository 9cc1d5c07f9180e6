import { schema } from "@osmynt/db";
import { z } from "zod";
import { deviceIdInput, idInput } from "../../trpc/id-input.js";

const base64url = /^[A-Za-z0-9_-]*$/;
const iso = z.string().describe("ISO 8601 timestamp");

/** A base64url field with a size bound: bigger than any P-256 value, small enough to refuse junk early. */
const b64 = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is too long (at most ${max} characters)`)
    .regex(base64url, `${what} must be base64url (A–Z, a–z, 0–9, - and _)`);

const text = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is at most ${max} characters`)
    .regex(/^[^\p{Cc}\p{Cs}]*$/u, `${what} must not contain control characters or lone surrogates`);

/**
 * A signed device-log link on the wire (crypto.md §4; `DeviceLink` in @osmynt/sdk/crypto). The
 * shape and sizes are checked here; what the link means (signatures, chain, keys on the curve) is
 * checked by the crypto core against the user's log. Keys travel as uncompressed P-256 points
 * (87 base64url characters); the bound leaves room to say "wrong curve" for bigger keys.
 */
const linkFields = {
  v: z.literal(1, "v must be 1 (the only device-link version)"),
  suite: z.literal("SNIP1-P256", "suite must be SNIP1-P256"),
  userId: z.string(),
  seq: z.number().int("seq must be an integer").min(0, "seq must not be negative").max(1_000_000, "seq is too large"),
  prev: b64("prev", 64).nullable(),
  type: z.enum(schema.deviceLinkTypes),
  deviceId: z.string(),
  signerDeviceId: z.string(),
  signingKey: b64("signingKey", 200).nullable(),
  kemKey: b64("kemKey", 200).nullable(),
  name: text("name", 128),
  createdAt: z.number().int("createdAt must be an integer (ms since the epoch)").min(0).max(8_640_000_000_000_000),
  signature: b64("signature", 200).min(1, "signature is required"),
  reverseSignature: b64("reverseSignature", 200).nullable(),
};

/** What appends take: nothing but the link's own fields, with ids of their kind. */
export const deviceLinkInput = z
  .object({
    ...linkFields,
    userId: idInput("user", "userId"),
    deviceId: deviceIdInput("deviceId"),
    signerDeviceId: deviceIdInput("signerDeviceId"),
  })
  .strict();
/** What reads hand out: the stored link. */
export const deviceLinkOutput = z.object(linkFields);

export const appendInput = z.object({ link: deviceLinkInput });

export const addDeviceInput = z.object({
  link: deviceLinkInput,
  /** The pairing this link completes, when the device was paired (its keys must be the ones paired). */
  pairingId: idInput("pairing", "pairingId").optional(),
});

export const appendOutput = z.object({
  userId: z.string(),
  /** The new head of the log. */
  seq: z.number(),
  hash: z.string(),
  /** The user fingerprint (UFP) the log is rooted in. */
  fingerprint: z.string(),
});

export const deviceLogOutput = z.object({
  userId: z.string(),
  links: deviceLinkOutput.array(),
});

export const deviceSchema = z.object({
  deviceId: z.string(),
  kind: z.enum(schema.deviceKinds),
  name: z.string(),
  status: z.enum(schema.deviceStatuses),
  signingKey: z.string(),
  kemKey: z.string().nullable(),
  kemKeyId: z.string().nullable(),
  addedSeq: z.number(),
  revokedSeq: z.number().nullable(),
  createdAt: iso,
});

export const mineOutput = deviceLogOutput.extend({ devices: deviceSchema.array() });

export const forUserInput = z.object({ userId: idInput("user", "userId") });

export const forTeamOutput = z.object({
  teamId: z.string(),
  members: deviceLogOutput.array(),
});

export type DeviceLinkOutput = z.infer<typeof deviceLinkOutput>;
