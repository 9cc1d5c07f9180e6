import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { startPrivateRedis } from "../helpers/redis-process.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sessionIdOf } from "../helpers/tokens.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";
import { waitFor } from "../helpers/wait.js";

// Two instances on one PostgreSQL, each remembering active sessions for a while
// (SESSION_CACHE_TTL_SECONDS): a session ended on one must be refused by the other too. Polled
// until refused, never timed: the README (security) states the bounds.
const mine = (s: TestServer, token: string) => rawCall(s, "teams.mine", { kind: "query", token });

async function warm(s: TestServer, session: TestSession) {
  for (let i = 0; i < 3; i++) expect((await mine(s, session.accessToken)).status).toBe(200);
}

const refused = (s: TestServer, session: TestSession) => async () => (await mine(s, session.accessToken)).status === 401;

describe("two instances on one database and Redis, a long TTL", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    // The TTL is out of reach of the test: only the event (bus, then the log) can end it on B.
    a = await startServer({ env: { SESSION_CACHE_TTL_SECONDS: "300" } });
    b = await startServer({ env: { SESSION_CACHE_TTL_SECONDS: "300" } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("a logout on A is refused on B once the bus delivers, and at once on A", async () => {
    const session = await signUp(a);
    await warm(a, session);
    await warm(b, session);
    expect((await rawCall(a, "auth.logout", { token: session.accessToken })).status).toBe(200);
    expectTrpcError(await mine(a, session.accessToken), "UNAUTHORIZED", /session has ended/);
    await waitFor("B to refuse the session ended on A", refused(b, session));
    expectTrpcError(await mine(b, session.accessToken), "UNAUTHORIZED", /session has ended/);
  });

  it("other sessions and other users on B are untouched", async () => {
    const ended = await signUp(a);
    const sibling = await signUp(a, ended.user.login);
    const stranger = await signUp(b);
    for (const s of [ended, sibling, stranger]) await warm(b, s);
    expect((await rawCall(b, "auth.logout", { token: ended.accessToken })).status).toBe(200);
    await waitFor("A to refuse the session ended on B", refused(a, ended));
    expect((await mine(b, sibling.accessToken)).status).toBe(200);
    expect((await mine(a, sibling.accessToken)).status).toBe(200);
    expect((await mine(b, stranger.accessToken)).status).toBe(200);
  });
});

describe("the bus down: revocation still reaches the other instance, within the TTL at worst", () => {
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    const env = { REDIS_URL: redis.url, SESSION_CACHE_TTL_SECONDS: "1" };
    a = await startServer({ env });
    b = await startServer({ env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it("Redis gone: a revocation on A is refused on B", async () => {
    const session = await signUp(a);
    const other = await signUp(a, session.user.login);
    await warm(b, session);
    await redis.stop();
    await waitFor("B to see the bus down", async () => b.deps.bus.status() === "down");
    const revoked = await rawCall(a, "auth.sessions.revoke", {
      token: other.accessToken,
      input: { sessionId: sessionIdOf(session.accessToken) },
    });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    await waitFor("B to refuse the session revoked on A while the bus is down", refused(b, session));
  });

  it("B cannot read the log either (its hub stopped): the TTL still ends the session there", async () => {
    const session = await signUp(a);
    await warm(b, session);
    await b.deps.hub.stop();
    expect((await rawCall(a, "auth.logout", { token: session.accessToken })).status).toBe(200);
    await waitFor("B to refuse the session once its remembered answer is older than the TTL", refused(b, session));
  });
});
