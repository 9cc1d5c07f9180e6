import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { rowsForLogin, sessionRow } from "../helpers/rows.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sessionIdOf } from "../helpers/tokens.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const refresh = (refreshToken: unknown) => rawCall(server, "auth.refresh", { input: { refreshToken } });
const me = (token: string) => rawCall(server, "auth.me", { kind: "query", token });

async function refreshed(refreshToken: string): Promise<TestSession> {
  const response = await refresh(refreshToken);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.result.data as TestSession;
}

describe("auth.refresh: rotation", () => {
  it("answers a new session of the same sign-in with a new refresh token", async () => {
    const session = await signUp(server);
    const next = await refreshed(session.refreshToken);
    expect(next.refreshToken).toMatch(/^osr_/);
    expect(next.refreshToken).not.toBe(session.refreshToken);
    expect(next.user).toEqual(session.user);
    expect(sessionIdOf(next.accessToken)).toBe(sessionIdOf(session.accessToken));
    expect(Date.parse(next.refreshTokenExpiresAt)).toBeGreaterThanOrEqual(Date.parse(session.refreshTokenExpiresAt));
    expect((await me(next.accessToken)).body.result.data.id).toBe(session.user.id);
    // rotation keeps one session: no new session row
    expect(await rowsForLogin(server, session.user.login)).toMatchObject({ sessions: 1, activeSessions: 1 });
  });

  it("chains: each new refresh token refreshes once more", async () => {
    let current = await signUp(server);
    const seen = new Set([current.refreshToken]);
    for (let i = 0; i < 4; i++) {
      current = await refreshed(current.refreshToken);
      expect(seen.has(current.refreshToken)).toBe(false);
      seen.add(current.refreshToken);
    }
    expect((await me(current.accessToken)).status).toBe(200);
  });

  it("the old refresh token then fails", async () => {
    const session = await signUp(server);
    await refreshed(session.refreshToken);
    expectTrpcError(await refresh(session.refreshToken), "UNAUTHORIZED", /refresh token was already used/);
  });
});

describe("auth.refresh: reuse of a rotated token revokes the whole family", () => {
  it("ends the session for every holder: newest refresh token and current access token stop working", async () => {
    const session = await signUp(server);
    const legit = await refreshed(session.refreshToken);
    const newest = await refreshed(legit.refreshToken);
    expect((await me(newest.accessToken)).status).toBe(200);

    // Someone replays the first (stolen) token.
    const replay = await refresh(session.refreshToken);
    expectTrpcError(replay, "UNAUTHORIZED", /refresh token was already used, so the session has been revoked; sign in again/);

    expectTrpcError(await me(newest.accessToken), "UNAUTHORIZED", /session has ended/);
    expectTrpcError(await me(session.accessToken), "UNAUTHORIZED", /session has ended/);
    expectTrpcError(await refresh(newest.refreshToken), "UNAUTHORIZED", /session of this refresh token has ended/);
    const row = await sessionRow(server, sessionIdOf(session.accessToken));
    expect(row?.revokedReason).toBe("refresh-reuse");
    // the replayed token stays dead too
    expectTrpcError(await refresh(session.refreshToken), "UNAUTHORIZED", /sign in again/);
  });

  it("revokes only that session: the user's other sessions keep working", async () => {
    const victim = await signUp(server);
    const otherDevice = await signUp(server, victim.user.login);
    await refreshed(victim.refreshToken);
    expectTrpcError(await refresh(victim.refreshToken), "UNAUTHORIZED", /already used/);
    expect((await me(otherDevice.accessToken)).status).toBe(200);
    await refreshed(otherDevice.refreshToken);
  });

  it("two concurrent refreshes with the same token: one succeeds, and the session ends up revoked", async () => {
    const session = await signUp(server);
    const results = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses, JSON.stringify(results.map((r) => r.body))).toEqual([200, 401]);
    const winner = results.find((r) => r.status === 200)?.body.result.data as TestSession;
    const loser = results.find((r) => r.status === 401);
    if (!loser) throw new Error("no loser");
    expectTrpcError(loser, "UNAUTHORIZED", /already used/);

    expectTrpcError(await me(winner.accessToken), "UNAUTHORIZED", /session has ended/);
    expectTrpcError(await refresh(winner.refreshToken), "UNAUTHORIZED", /session of this refresh token has ended/);
    expect((await sessionRow(server, sessionIdOf(session.accessToken)))?.revokedReason).toBe("refresh-reuse");
  });

  it("races of three refreshes on several sessions at once: exactly one winner each, every session revoked", async () => {
    const sessions = await Promise.all([1, 2, 3, 4, 5].map(() => signUp(server)));
    const rounds = await Promise.all(sessions.map((s) => Promise.all([1, 2, 3].map(() => refresh(s.refreshToken)))));
    for (const [i, round] of rounds.entries()) {
      const statuses = round.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(round.map((r) => r.body))).toEqual([200, 401, 401]);
      const session = sessions[i] as TestSession;
      expect((await sessionRow(server, sessionIdOf(session.accessToken)))?.revokedReason).toBe("refresh-reuse");
      expect(await rowsForLogin(server, session.user.login)).toMatchObject({ sessions: 1, activeSessions: 0 });
    }
  });
});

describe("auth.refresh: tokens that are not valid refresh tokens", () => {
  it("an unknown refresh token is UNAUTHORIZED: not recognised", async () => {
    expectTrpcError(await refresh(`osr_${"A".repeat(43)}`), "UNAUTHORIZED", /refresh token is not recognised; sign in again/);
    expectTrpcError(await refresh("garbage"), "UNAUTHORIZED", /not recognised/);
  });

  it("an access token is not a refresh token", async () => {
    const session = await signUp(server);
    // A JWT is longer than any refresh token, so input validation may turn it away first.
    const response = await refresh(session.accessToken);
    expect([400, 401], JSON.stringify(response.body)).toContain(response.status);
    expect(response.body.error.message).toMatch(/refreshToken is too long|not recognised/);
    expect((await me(session.accessToken)).status).toBe(200);
  });

  it("the refresh token of a revoked session is UNAUTHORIZED: the session has ended", async () => {
    const session = await signUp(server);
    const other = await signUp(server, session.user.login);
    const revoked = await rawCall(server, "auth.sessions.revoke", {
      token: other.accessToken,
      input: { sessionId: sessionIdOf(session.accessToken) },
    });
    expect(revoked.status).toBe(200);
    expectTrpcError(await refresh(session.refreshToken), "UNAUTHORIZED", /the session of this refresh token has ended; sign in again/);
  });

  it("refreshing needs no access token and ignores one of another user", async () => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    const response = await rawCall(server, "auth.refresh", { input: { refreshToken: a.refreshToken }, token: b.accessToken });
    expect(response.status).toBe(200);
    expect(response.body.result.data.user.id).toBe(a.user.id);
  });
});

describe("auth.refresh: bad input", () => {
  const cases: { name: string; input: unknown; message: RegExp }[] = [
    { name: "missing refreshToken", input: {}, message: /refreshToken: .*expected string/ },
    { name: "refreshToken is a number", input: { refreshToken: 123 }, message: /refreshToken: .*expected string/ },
    { name: "refreshToken is an array", input: { refreshToken: ["osr_x"] }, message: /refreshToken: .*expected string/ },
    { name: "refreshToken is empty", input: { refreshToken: "" }, message: /refreshToken: refreshToken is required/ },
    {
      name: "refreshToken is too long",
      input: { refreshToken: `osr_${"x".repeat(300)}` },
      message: /refreshToken: refreshToken is too long/,
    },
    { name: "input is null", input: null, message: /expected object/ },
  ];
  for (const c of cases) {
    it(`${c.name} → BAD_REQUEST naming the field`, async () => {
      const response = await rawCall(server, "auth.refresh", { input: c.input });
      expectTrpcError(response, "BAD_REQUEST", c.message);
      expect(response.body.error.data.zodError.length).toBeGreaterThan(0);
    });
  }

  it("a body that is not JSON is a PARSE_ERROR and spends nothing", async () => {
    const session = await signUp(server);
    const response = await rawCall(server, "auth.refresh", { body: `{"refreshToken":"${session.refreshToken}"` });
    expectTrpcError(response, "PARSE_ERROR", /not valid JSON/);
    // the token was not spent: refreshing it now succeeds (and is not reported as reuse)
    await refreshed(session.refreshToken);
  });
});
