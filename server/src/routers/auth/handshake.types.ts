import { z } from "zod";

const base64url = /^[A-Za-z0-9_-]+$/;

export const handshakeIdSchema = z
  .string()
  .trim()
  .min(1, "handshakeId is required")
  .max(64, "handshakeId is too long")
  .regex(/^hs_[A-Za-z0-9_-]+$/, "handshakeId is not a handshake id (hs_…)");

export const handshakeInitInput = z.object({
  publicKey: z
    .string()
    .min(1, "publicKey is required")
    .max(200, "publicKey is too long for a P-256 public key")
    .regex(base64url, "publicKey must be base64url (A–Z, a–z, 0–9, - and _)")
    .describe("The editor's ephemeral HPKE key: an uncompressed P-256 point (65 bytes), base64url"),
});

export const handshakeInitOutput = z.object({
  handshakeId: z.string(),
  /** Open this in a browser: its page asks for `userCode`, then goes on to GitHub and back. */
  authorizeUrl: z.string(),
  userCode: z.string().describe("Show this to the person: the sign-in page asks for it (e.g. WDJB-MJHT)"),
  retrievalSecret: z.string().describe("Keep this in the editor: retrieve and onComplete need it; never put it in a URL"),
  expiresAt: z.string().describe("ISO 8601 timestamp"),
});

export const handshakeRefInput = z.object({
  handshakeId: handshakeIdSchema,
  retrievalSecret: z
    .string()
    .min(1, "retrievalSecret is required (auth.handshake.init answered it)")
    .max(100, "retrievalSecret is too long")
    .regex(/^osh_[A-Za-z0-9_-]+$/, "retrievalSecret is not a retrieval secret (osh_…)"),
});

export const sealedSessionSchema = z.object({
  /** HPKE encapsulated key, base64url. */
  enc: z.string(),
  /** AES-128-GCM ciphertext of the session JSON, base64url. */
  ciphertext: z.string(),
});

export const handshakeRetrieveOutput = z.discriminatedUnion("status", [
  z.object({ status: z.literal("pending") }),
  z.object({ status: z.literal("complete"), sealedSession: sealedSessionSchema }),
]);

export const githubTokenInput = z.object({
  githubToken: z
    .string()
    .trim()
    .min(1, "githubToken is required")
    .max(255, "githubToken is too long for a GitHub token")
    .regex(/^[A-Za-z0-9_.-]+$/, "githubToken holds characters no GitHub token has"),
});
