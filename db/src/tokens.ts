import { createHash, randomBytes } from "node:crypto";

/**
 * Secret tokens (refresh tokens, invite tokens): 32 random bytes behind a readable prefix.
 * Only the SHA-256 hash is stored; the plaintext is handed out once. Lookups go by hash, which
 * leaks nothing through timing because the hash of an unknown 256-bit secret is unpredictable.
 */
export function newSecretToken(prefix: string): {
  token: string;
  hash: string;
} {
  const token = `${prefix}_${randomBytes(32).toString("base64url")}`;
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
