import { eq, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { users } from "../schema/users.js";

/** What a client may see of a user: never more than this. */
export const publicUserColumns = {
  id: users.id,
  login: users.login,
  name: users.name,
  avatarUrl: users.avatarUrl,
} as const;

export const selfUserColumns = {
  ...publicUserColumns,
  email: users.email,
  createdAt: users.createdAt,
} as const;

export type SelfUser = {
  id: string;
  login: string;
  name: string | null;
  avatarUrl: string | null;
  email: string | null;
  createdAt: Date;
};

export async function getUserByLogin(db: Executor, login: string): Promise<SelfUser | undefined> {
  const [row] = await db.select(selfUserColumns).from(users).where(sql`lower(${users.login}) = lower(${login})`);
  return row;
}

export async function getUserById(db: Executor, id: string): Promise<SelfUser | undefined> {
  const [row] = await db.select(selfUserColumns).from(users).where(eq(users.id, id));
  return row;
}

/**
 * Finds or creates a local development user by login. Concurrent first sign-ins race on the unique
 * index; the loser's insert does nothing and it reads the winner's row.
 */
export async function findOrCreateLocalUser(
  db: Executor,
  params: { id: string; login: string },
): Promise<{ user: SelfUser; created: boolean }> {
  const inserted = await db
    .insert(users)
    .values({ id: params.id, login: params.login, name: params.login })
    .onConflictDoNothing()
    .returning(selfUserColumns);
  if (inserted[0]) return { user: inserted[0], created: true };
  const existing = await getUserByLogin(db, params.login);
  if (!existing) throw new Error("user vanished between insert and read");
  return { user: existing, created: false };
}
