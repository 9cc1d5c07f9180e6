import { index, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";
import { users } from "./users.js";

/**
 * A session is one sign-in on one device: the family of refresh tokens rotated from it.
 * Revoking the session ends every token of the family, and the access tokens that name it.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** How the session began: `dev`, `github`, `github-token`. */
    method: text("method").notNull(),
    userAgent: text("user_agent"),
    createdAt: createdAt(),
    lastUsedAt: tstz("last_used_at").notNull().defaultNow(),
    revokedAt: tstz("revoked_at"),
    /** `logout`, `revoked`, `refresh-reuse`: why the session ended. */
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/**
 * Opaque refresh tokens, stored as SHA-256 hashes. Each is good for one refresh: `usedAt` marks a
 * rotated token, and presenting a used one again is reuse, which revokes the whole session.
 */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    expiresAt: tstz("expires_at").notNull(),
    usedAt: tstz("used_at"),
    createdAt: createdAt(),
  },
  (t) => [index("refresh_tokens_session_idx").on(t.sessionId)],
);
