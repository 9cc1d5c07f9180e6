import { schema } from "@osmynt/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sessionIdOf } from "../helpers/tokens.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";
import { waitFor } from "../helpers/wait.js";

// The instance remembers for a while that a session is active (SESSION_CACHE_TTL_SECONDS); ending
// a session must still be felt at once. Every session here is used a few times first, so the
// refusal that follows has to get past the remembered answer.
let server: TestServer;
let shortTtl: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { SESSION_CACHE_TTL_SECONDS: "300" } });
  // The same database and cache, checked with a 1 s TTL (one PGlite is enough for a loaded machine).
  shortTtl = await startServer({ shareDepsWith: server, env: { SESSION_CACHE_TTL_SECONDS: "1" } });
});
afterAll(async () => {
  await shortTtl?.close();
  await server?.close();
});

const mine = (s: TestServer, token: string) => rawCall(s, "teams.mine", { kind: "query", token });

async function warm(s: TestServer, session: TestSession) {
  for (let i = 0; i < 3; i++) {
    const answer = await mine(s, session.accessToken);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }
}

const ENDED = /session has ended/;

describe("a remembered session that ends is refused on the same instance at once", () => {
  it("after logout", async () => {
    const session = await signUp(server);
    await warm(server, session);
    expect((await rawCall(server, "auth.logout", { token: session.accessToken })).status).toBe(200);
    expectTrpcError(await mine(server, session.accessToken), "UNAUTHORIZED", ENDED);
  });

  it("after auth.sessions.revoke from another session of the same user; the revoking session keeps working", async () => {
    const victim = await signUp(server);
    const other = await signUp(server, victim.user.login);
    await warm(server, victim);
    await warm(server, other);
    const revoked = await rawCall(server, "auth.sessions.revoke", {
      token: other.accessToken,
      input: { sessionId: sessionIdOf(victim.accessToken) },
    });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expectTrpcError(await mine(server, victim.accessToken), "UNAUTHORIZED", ENDED);
    expect((await mine(server, other.accessToken)).status).toBe(200);
  });

  it("after a rotated refresh token comes back (reuse revokes the session)", async () => {
    const session = await signUp(server);
    await warm(server, session);
    const rotated = await rawCall(server, "auth.refresh", { input: { refreshToken: session.refreshToken } });
    expect(rotated.status).toBe(200);
    const fresh: TestSession = rotated.body.result.data;
    await warm(server, fresh);
    expectTrpcError(
      await rawCall(server, "auth.refresh", { input: { refreshToken: session.refreshToken } }),
      "UNAUTHORIZED",
      /already used/,
    );
    expectTrpcError(await mine(server, fresh.accessToken), "UNAUTHORIZED", ENDED);
    expectTrpcError(await mine(server, session.accessToken), "UNAUTHORIZED", ENDED);
  });

  it("another user's attempt to revoke it is NOT_FOUND and the session keeps working", async () => {
    const [owner, intruder] = await Promise.all([signUp(server), signUp(server)]);
    await warm(server, owner);
    expectTrpcError(
      await rawCall(server, "auth.sessions.revoke", { token: intruder.accessToken, input: { sessionId: sessionIdOf(owner.accessToken) } }),
      "NOT_FOUND",
    );
    expect((await mine(server, owner.accessToken)).status).toBe(200);
  });

  it("without a token, nothing is remembered for anyone: UNAUTHORIZED", async () => {
    expectTrpcError(await rawCall(server, "teams.mine", { kind: "query" }), "UNAUTHORIZED", /no access token/);
  });
});

describe("a session ended behind the engine's back (no event) is refused within SESSION_CACHE_TTL_SECONDS", () => {
  it("an operator's UPDATE of the sessions table, seen once the remembered answer is older than the TTL", async () => {
    const session = await signUp(shortTtl);
    await warm(shortTtl, session);
    await shortTtl.deps.db
      .update(schema.sessions)
      .set({ revokedAt: sql`now()`, revokedReason: "operator" })
      .where(eq(schema.sessions.id, sessionIdOf(session.accessToken)));
    await waitFor("the ended session to be refused", async () => (await mine(shortTtl, session.accessToken)).status === 401);
    expectTrpcError(await mine(shortTtl, session.accessToken), "UNAUTHORIZED", ENDED);
  });
});

describe("auth.me reads the profile now, not with the remembered session", () => {
  it("a profile changed since the session was last checked is answered as it is now", async () => {
    const session = await signUp(server);
    await warm(server, session);
    await server.deps.db.update(schema.users).set({ name: "Renamed Now" }).where(eq(schema.users.id, session.user.id));
    const me = await rawCall(server, "auth.me", { kind: "query", token: session.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.result.data.name).toBe("Renamed Now");
  });
});
