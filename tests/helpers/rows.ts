import { schema } from "@osmynt/db";
import { and, count, eq, isNull, sql } from "drizzle-orm";
import type { TestServer } from "./server.js";

/**
 * What the database holds for a login, read straight from the tables: the "nothing was written"
 * check after a refused sign-in or bad input.
 */
export async function rowsForLogin(
  server: TestServer,
  login: string,
): Promise<{ users: number; sessions: number; activeSessions: number }> {
  const { users, sessions } = schema;
  const byLogin = sql`lower(${users.login}) = lower(${login})`;
  const [u] = await server.deps.db.select({ n: count() }).from(users).where(byLogin);
  const [s] = await server.deps.db.select({ n: count() }).from(sessions).innerJoin(users, eq(users.id, sessions.userId)).where(byLogin);
  const [a] = await server.deps.db
    .select({ n: count() })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(byLogin, isNull(sessions.revokedAt)));
  return { users: u?.n ?? 0, sessions: s?.n ?? 0, activeSessions: a?.n ?? 0 };
}

/** One session row as stored (revocation and its reason). */
export async function sessionRow(server: TestServer, sessionId: string) {
  const [row] = await server.deps.db
    .select({
      id: schema.sessions.id,
      userId: schema.sessions.userId,
      revokedAt: schema.sessions.revokedAt,
      revokedReason: schema.sessions.revokedReason,
    })
    .from(schema.sessions)
    .where(eq(schema.sessions.id, sessionId));
  return row;
}
