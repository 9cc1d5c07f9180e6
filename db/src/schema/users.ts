import { sql } from "drizzle-orm";
import { bigint, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** GitHub login, or the name given to devLogin. Unique, compared case-insensitively. */
    login: text("login").notNull(),
    name: text("name"),
    email: text("email"),
    avatarUrl: text("avatar_url"),
    /** GitHub's numeric user id; null for local development users. */
    githubId: bigint("github_id", { mode: "number" }),
    createdAt: createdAt(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("users_login_key").on(sql`lower(${t.login})`), uniqueIndex("users_github_id_key").on(t.githubId)],
);
