import { schema } from "@osmynt/db";
import { z } from "zod";
import { deviceIdInput, idInput } from "../../trpc/id-input.js";

const b64 = (what: string, max: number) =>
  z
    .string()
    .min(1, `${what} is required`)
    .max(max, `${what} is too long (at most ${max} characters)`)
    .regex(/^[A-Za-z0-9_-]+$/, `${what} must be base64url (A–Z, a–z, 0–9, - and _)`);

const deviceId = deviceIdInput("deviceId");

export const pairingIdSchema = idInput("pairing", "pairingId");

/** A P-256 public key as the relay passes it on: an uncompressed point, checked on the curve. */
const point = (what: string) => b64(what, 200);

/** Step 1, from the new device: its id and long-term keys, the transaction id and the commitment. */
export const pairingRequestSchema = z.object({
  transactionId: b64("transactionId", 64),
  deviceId,
  name: z
    .string()
    .max(128, "name is at most 128 characters")
    .regex(/^[^\p{Cc}\p{Cs}]*$/u, "name must not contain control characters or lone surrogates"),
  signingKey: point("signingKey"),
  kemKey: point("kemKey"),
  commitment: b64("commitment", 64),
});

/** Step 2, from an existing device: its id and ephemeral ECDH key. */
export const pairingResponseSchema = z.object({ deviceId, ephemeralKey: point("ephemeralKey") });

/** Step 3, from the new device: its ephemeral ECDH key, which the commitment bound. */
export const pairingRevealSchema = z.object({ ephemeralKey: point("ephemeralKey") });

/** Step 6: each side's key confirmation. The existing device names the log head its MAC covers. */
export const existingConfirmationSchema = z.object({
  mac: b64("mac", 64),
  headSeq: z.number().int().min(0).max(1_000_000),
});

/** The new device's MAC, and its signature over the add_device link (built at the confirmed head). */
export const newConfirmationSchema = z.object({
  mac: b64("mac", 64),
  reverseSignature: b64("reverseSignature", 256),
  createdAt: z.number().int().min(0).max(8_640_000_000_000_000),
});

export const pairingInitInput = pairingRequestSchema;
export const pairingRefInput = z.object({ pairingId: pairingIdSchema });
export const pairingRespondInput = pairingResponseSchema.extend({ pairingId: pairingIdSchema });
export const pairingRevealInput = pairingRevealSchema.extend({ pairingId: pairingIdSchema });
export const pairingConfirmInput = z.discriminatedUnion("side", [
  existingConfirmationSchema.extend({ pairingId: pairingIdSchema, side: z.literal("existing") }),
  newConfirmationSchema.extend({ pairingId: pairingIdSchema, side: z.literal("new") }),
]);

export const pairingAbortReasons = [
  "cancelled",
  "code_mismatch",
  "commitment_mismatch",
  "mac_mismatch",
  "log_mismatch",
  "timeout",
] as const;
export const pairingAbortInput = z.object({ pairingId: pairingIdSchema, reason: z.enum(pairingAbortReasons) });

/** Everything relayed so far: both sides read the other's messages from here. */
export const pairingOutput = z.object({
  pairingId: z.string(),
  status: z.enum(schema.pairingStatuses),
  request: pairingRequestSchema,
  response: pairingResponseSchema.nullable(),
  reveal: pairingRevealSchema.nullable(),
  existingConfirmation: existingConfirmationSchema.nullable(),
  newConfirmation: newConfirmationSchema.nullable(),
  abortReason: z.string().nullable(),
  expiresAt: z.string().describe("ISO 8601 timestamp"),
  createdAt: z.string().describe("ISO 8601 timestamp"),
});

export const pendingPairingsOutput = z.object({
  pairings: z
    .object({
      pairingId: z.string(),
      deviceId: z.string(),
      name: z.string(),
      createdAt: z.string(),
      expiresAt: z.string(),
    })
    .array(),
});
