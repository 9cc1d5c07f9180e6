import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";
import { teams } from "./teams.js";
import { users } from "./users.js";

/** Roles an invite may grant: ownership moves only through a transfer. */
export const inviteRoles = ["admin", "member"] as const;
export type InviteRole = (typeof inviteRoles)[number];

/**
 * Team invitations. The token is shown once to its creator; only its SHA-256 hash is kept, so a
 * leaked database cannot be turned into invitations. `uses` climbs atomically on accept and never
 * passes `maxUses` (the check constraint backs up the conditional update that enforces it).
 */
export const teamInvites = pgTable(
  "team_invites",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    role: text("role", { enum: inviteRoles }).notNull(),
    maxUses: integer("max_uses").notNull().default(1),
    uses: integer("uses").notNull().default(0),
    expiresAt: tstz("expires_at").notNull(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [
    index("team_invites_team_idx").on(t.teamId, t.createdAt, t.id),
    check("team_invites_uses_within_max", sql`${t.uses} >= 0 and ${t.uses} <= ${t.maxUses}`),
    check("team_invites_max_uses_positive", sql`${t.maxUses} >= 1`),
  ],
);
