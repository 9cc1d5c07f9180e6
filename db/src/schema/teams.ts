import { sql } from "drizzle-orm";
import { boolean, index, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";
import { users } from "./users.js";

export const teamRoles = ["owner", "admin", "member"] as const;
export type TeamRole = (typeof teamRoles)[number];

export const teams = pgTable(
  "teams",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** The team every user gets at first sign-in; it cannot be deleted or left. */
    personal: boolean("personal").notNull().default(false),
    createdBy: text("created_by").references(() => users.id, {
      onDelete: "set null",
    }),
    createdAt: createdAt(),
    /** Soft delete: the row stays so events and audit rows keep their reference. */
    deletedAt: tstz("deleted_at"),
  },
  (t) => [uniqueIndex("teams_personal_per_user").on(t.createdBy).where(sql`${t.personal}`)],
);

export const teamMembers = pgTable(
  "team_members",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: teamRoles }).notNull(),
    joinedAt: tstz("joined_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.userId] }),
    index("team_members_user_idx").on(t.userId),
    // exactly one owner per team, enforced by the database rather than by every caller
    uniqueIndex("team_members_one_owner").on(t.teamId).where(sql`${t.role} = 'owner'`),
  ],
);

/**
 * The last time each user was removed from a team (by an owner or admin, not by leaving). An
 * invite created before that moment cannot bring them back: a removal is not undone by a link
 * that was already circulating.
 */
export const teamRemovals = pgTable(
  "team_removals",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    removedAt: tstz("removed_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] })],
);
