import { and, eq, isNull, or, type SQL, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { AppError } from "../errors.js";
import { newId } from "../ids.js";
import { users } from "../schema/users.js";
import { type SelfUser, selfUserColumns } from "./users.js";

/** What GitHub says about the person signing in, already checked by the caller. */
export interface GitHubProfile {
  githubId: number;
  login: string;
  name: string | null;
  email: string | null;
  avatarUrl: string | null;
}

const profileColumns = (p: GitHubProfile) => ({ login: p.login, name: p.name, email: p.email, avatarUrl: p.avatarUrl });

/**
 * Logins are unique on this server, but GitHub lets people rename: a login may still sit on another
 * account here (a local development user, or a GitHub user who has since renamed). Linking by login
 * would hand that account over, so it is refused with a clear conflict instead.
 */
async function assertLoginFree(db: Executor, p: GitHubProfile) {
  const notThisAccount: SQL | undefined = or(isNull(users.githubId), sql`${users.githubId} <> ${p.githubId}`);
  const [other] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(sql`lower(${users.login}) = lower(${p.login})`, notThisAccount));
  if (other)
    throw new AppError("CONFLICT", `The login ${p.login} belongs to another account on this server; ask the operator to rename it`, {
      login: p.login,
    });
}

/**
 * Finds the user by GitHub id (their login, name, email and avatar follow GitHub's) or creates them.
 * Two first sign-ins at once race on the unique GitHub id; the loser's insert does nothing and it
 * takes the winner's row. `created` tells the caller to provision what a new user gets.
 */
export async function upsertGitHubUser(db: Executor, profile: GitHubProfile): Promise<{ user: SelfUser; created: boolean }> {
  await assertLoginFree(db, profile);
  const update = () =>
    db
      .update(users)
      .set({ ...profileColumns(profile), updatedAt: sql`now()` })
      .where(eq(users.githubId, profile.githubId))
      .returning(selfUserColumns);
  const [updated] = await update();
  if (updated) return { user: updated, created: false };
  const [inserted] = await db
    .insert(users)
    .values({ id: newId("user"), githubId: profile.githubId, ...profileColumns(profile) })
    .onConflictDoNothing()
    .returning(selfUserColumns);
  if (inserted) return { user: inserted, created: true };
  const [raced] = await update();
  if (raced) return { user: raced, created: false };
  // The login was taken between the check and the insert.
  await assertLoginFree(db, profile);
  throw new Error("GitHub user insert did nothing and no row has that GitHub id");
}
