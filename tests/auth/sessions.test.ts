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

const me = (token?: string) => rawCall(server, "auth.me", { kind: "query", ...(token ? { token } : {}) });
const list = (token?: string) => rawCall(server, "auth.sessions.list", { kind: "query", ...(token ? { token } : {}) });
const logout = (token?: string) => rawCall(server, "auth.logout", { ...(token ? { token } : {}) });
const revoke = (token: string | undefined, input: unknown) =>
  rawCall(server, "auth.sessions.revoke", { input, ...(token ? { token } : {}) });
const refresh = (refreshToken: string) => rawCall(server, "auth.refresh", { input: { refreshToken } });

async function expectWorks(session: TestSession) {
  const response = await me(session.accessToken);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body.result.data.id).toBe(session.user.id);
}

async function expectEnded(session: TestSession) {
  expectTrpcError(await me(session.accessToken), "UNAUTHORIZED", /session has ended/);
  expectTrpcError(await refresh(session.refreshToken), "UNAUTHORIZED", /session of this refresh token has ended/);
}

describe("no session: every authed procedure answers UNAUTHORIZED with a message", () => {
  const procedures = [
    { name: "auth.me", call: (token?: string) => me(token) },
    { name: "auth.logout", call: (token?: string) => logout(token) },
    { name: "auth.sessions.list", call: (token?: string) => list(token) },
    { name: "auth.sessions.revoke", call: (token?: string) => revoke(token, { sessionId: "ses_whatever" }) },
  ];
  for (const p of procedures) {
    it(`${p.name} without a token`, async () => {
      expectTrpcError(await p.call(), "UNAUTHORIZED", /no access token: sign in and send `Authorization: Bearer <accessToken>`/);
    });
    it(`${p.name} with the token of an ended session`, async () => {
      const session = await signUp(server);
      expect((await logout(session.accessToken)).status).toBe(200);
      expectTrpcError(
        await p.call(session.accessToken),
        "UNAUTHORIZED",
        /session has ended \(signed out, revoked, or past its lifetime or idle timeout\); sign in again/,
      );
    });
  }

  it("a non-Bearer Authorization header counts as no token", async () => {
    const session = await signUp(server);
    const response = await rawCall(server, "auth.me", { kind: "query", headers: { authorization: `Basic ${session.accessToken}` } });
    expectTrpcError(response, "UNAUTHORIZED", /no access token/);
  });
});

describe("auth.me", () => {
  it("answers the signed-in user, and only self-visible fields", async () => {
    const session = await signUp(server);
    const response = await me(session.accessToken);
    expect(response.status).toBe(200);
    expect(response.body.result.data).toEqual(session.user);
    expect(Object.keys(response.body.result.data).sort()).toEqual(["avatarUrl", "createdAt", "email", "id", "login", "name"]);
  });

  it("answers each user their own record", async () => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    expect((await me(a.accessToken)).body.result.data.id).toBe(a.user.id);
    expect((await me(b.accessToken)).body.result.data.id).toBe(b.user.id);
  });
});

describe("auth.logout", () => {
  it("ends the session: the access token gets UNAUTHORIZED and the refresh token fails", async () => {
    const session = await signUp(server);
    const response = await logout(session.accessToken);
    expect(response.status).toBe(200);
    expect(response.body.result.data).toEqual({ ok: true });
    await expectEnded(session);
    const row = await sessionRow(server, sessionIdOf(session.accessToken));
    expect(row?.revokedAt).toBeInstanceOf(Date);
    expect(row?.revokedReason).toBe("logout");
  });

  it("ends only the current session; the user's other sessions keep working", async () => {
    const first = await signUp(server);
    const second = await signUp(server, first.user.login);
    expect((await logout(first.accessToken)).status).toBe(200);
    await expectEnded(first);
    await expectWorks(second);
    expect(await rowsForLogin(server, first.user.login)).toMatchObject({ sessions: 2, activeSessions: 1 });
  });

  it("does not touch other users' sessions", async () => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    expect((await logout(a.accessToken)).status).toBe(200);
    await expectWorks(b);
    expect(await rowsForLogin(server, b.user.login)).toMatchObject({ activeSessions: 1 });
  });

  it("a second logout with the same token is UNAUTHORIZED, not a crash", async () => {
    const session = await signUp(server);
    expect((await logout(session.accessToken)).status).toBe(200);
    expectTrpcError(await logout(session.accessToken), "UNAUTHORIZED", /session has ended/);
  });
});

describe("auth.sessions.list", () => {
  it("lists the user's active sessions and marks the calling one as current", async () => {
    const first = await signUp(server);
    const second = await signUp(server, first.user.login);
    const ids = [sessionIdOf(first.accessToken), sessionIdOf(second.accessToken)];

    const fromFirst = await list(first.accessToken);
    expect(fromFirst.status).toBe(200);
    const sessions = fromFirst.body.result.data as {
      id: string;
      current: boolean;
      method: string;
      createdAt: string;
      lastUsedAt: string;
    }[];
    expect(sessions.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(sessions.filter((s) => s.current).map((s) => s.id)).toEqual([ids[0]]);
    for (const s of sessions) {
      expect(s.method).toBe("dev");
      expect(Number.isNaN(Date.parse(s.createdAt))).toBe(false);
      expect(Number.isNaN(Date.parse(s.lastUsedAt))).toBe(false);
      expect(JSON.stringify(s)).not.toMatch(/osr_|refresh|token/i);
    }

    const fromSecond = (await list(second.accessToken)).body.result.data as { id: string; current: boolean }[];
    expect(fromSecond.filter((s) => s.current).map((s) => s.id)).toEqual([ids[1]]);
  });

  it("never shows another user's sessions", async () => {
    const [a, b] = await Promise.all([signUp(server), signUp(server)]);
    const seen = ((await list(a.accessToken)).body.result.data as { id: string }[]).map((s) => s.id);
    expect(seen).toEqual([sessionIdOf(a.accessToken)]);
    expect(seen).not.toContain(sessionIdOf(b.accessToken));
  });

  it("drops ended sessions", async () => {
    const first = await signUp(server);
    const second = await signUp(server, first.user.login);
    expect((await logout(second.accessToken)).status).toBe(200);
    const seen = ((await list(first.accessToken)).body.result.data as { id: string }[]).map((s) => s.id);
    expect(seen).toEqual([sessionIdOf(first.accessToken)]);
  });
});

describe("auth.sessions.revoke", () => {
  it("revokes another session of the same user; the calling session keeps working", async () => {
    const laptop = await signUp(server);
    const lost = await signUp(server, laptop.user.login);
    const response = await revoke(laptop.accessToken, { sessionId: sessionIdOf(lost.accessToken) });
    expect(response.status).toBe(200);
    expect(response.body.result.data).toEqual({ ok: true });
    await expectEnded(lost);
    await expectWorks(laptop);
    expect((await sessionRow(server, sessionIdOf(lost.accessToken)))?.revokedReason).toBe("revoked");
    const seen = ((await list(laptop.accessToken)).body.result.data as { id: string }[]).map((s) => s.id);
    expect(seen).toEqual([sessionIdOf(laptop.accessToken)]);
  });

  it("revoking the current session ends it", async () => {
    const session = await signUp(server);
    expect((await revoke(session.accessToken, { sessionId: sessionIdOf(session.accessToken) })).status).toBe(200);
    await expectEnded(session);
  });

  it("another user's session id is NOT_FOUND, and that session still works", async () => {
    const [attacker, victim] = await Promise.all([signUp(server), signUp(server)]);
    const victimSessionId = sessionIdOf(victim.accessToken);
    const response = await revoke(attacker.accessToken, { sessionId: victimSessionId });
    expectTrpcError(response, "NOT_FOUND", new RegExp(`No active session ${victimSessionId} for this user`));
    await expectWorks(victim);
    expect((await sessionRow(server, victimSessionId))?.revokedAt).toBeNull();
    const refreshed = await refresh(victim.refreshToken);
    expect(refreshed.status).toBe(200);
  });

  it("an unknown or already revoked session id is NOT_FOUND", async () => {
    const session = await signUp(server);
    expectTrpcError(
      await revoke(session.accessToken, { sessionId: "ses_doesnotexist" }),
      "NOT_FOUND",
      /No active session ses_doesnotexist/,
    );
    const other = await signUp(server, session.user.login);
    const otherId = sessionIdOf(other.accessToken);
    expect((await revoke(session.accessToken, { sessionId: otherId })).status).toBe(200);
    expectTrpcError(await revoke(session.accessToken, { sessionId: otherId }), "NOT_FOUND", /No active session/);
  });

  const badInputs: { name: string; input: unknown; message: RegExp }[] = [
    { name: "missing sessionId", input: {}, message: /sessionId: .*expected string/ },
    { name: "sessionId is a number", input: { sessionId: 12 }, message: /sessionId: .*expected string/ },
    { name: "sessionId is empty", input: { sessionId: "" }, message: /sessionId: / },
    { name: "sessionId is too long", input: { sessionId: `ses_${"x".repeat(80)}` }, message: /sessionId: / },
    { name: "input is null", input: null, message: /expected object/ },
  ];
  for (const c of badInputs) {
    it(`bad input (${c.name}) → BAD_REQUEST naming the field, and no session ends`, async () => {
      const session = await signUp(server);
      const other = await signUp(server, session.user.login);
      const response = await revoke(session.accessToken, c.input);
      expectTrpcError(response, "BAD_REQUEST", c.message);
      expect(response.body.error.data.zodError.length).toBeGreaterThan(0);
      await expectWorks(session);
      await expectWorks(other);
      expect(await rowsForLogin(server, session.user.login)).toMatchObject({ sessions: 2, activeSessions: 2 });
    });
  }
});
