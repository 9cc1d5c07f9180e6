import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp } from "../helpers/factories.js";
import { rowsForLogin } from "../helpers/rows.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sessionIdOf } from "../helpers/tokens.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

// One database for the file: the refused-mode servers share the local server's database and bus,
// so "nothing was written" is checked in the same tables a successful sign-in writes to.
let local: TestServer;
let publicHost: TestServer;
let production: TestServer;
beforeAll(async () => {
  local = await startServer();
  publicHost = await startServer({ env: { HOST: "0.0.0.0" }, shareDepsWith: local });
  production = await startServer({ env: { NODE_ENV: "production" }, shareDepsWith: local });
});
afterAll(async () => {
  await production?.close();
  await publicHost?.close();
  await local?.close();
});

describe("auth.devLogin: happy path", () => {
  it("creates a user and a session, and answers a complete session", async () => {
    const login = randomLogin("dev");
    const before = Date.now();
    const { status, body } = await rawCall(local, "auth.devLogin", { input: { login } });
    expect(status).toBe(200);
    const session = body.result.data;
    expect(session.user).toMatchObject({ login, name: login, email: null, avatarUrl: null });
    expect(session.user.id).toMatch(/^usr_/);
    expect(session.accessToken.split(".")).toHaveLength(3);
    expect(session.refreshToken).toMatch(/^osr_/);
    const accessExpiry = Date.parse(session.accessTokenExpiresAt);
    const refreshExpiry = Date.parse(session.refreshTokenExpiresAt);
    expect(accessExpiry).toBeGreaterThan(before);
    expect(refreshExpiry).toBeGreaterThan(accessExpiry);
    expect(await rowsForLogin(local, login)).toEqual({ users: 1, sessions: 1, activeSessions: 1 });

    const me = await rawCall(local, "auth.me", { kind: "query", token: session.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.result.data).toEqual(session.user);
  });

  it("signs the same user in again (login compared case-insensitively) with a new session", async () => {
    const login = randomLogin("Dev");
    const first = await signUp(local, login);
    const second = await signUp(local, login.toLowerCase().replace("dev", "DEV"));
    expect(second.user.id).toBe(first.user.id);
    expect(second.user.login).toBe(login);
    expect(sessionIdOf(second.accessToken)).not.toBe(sessionIdOf(first.accessToken));
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(await rowsForLogin(local, login)).toEqual({ users: 1, sessions: 2, activeSessions: 2 });
  });

  it("creates one user when the same new login signs in concurrently", async () => {
    const login = randomLogin("race");
    const results = await Promise.all([1, 2, 3].map(() => rawCall(local, "auth.devLogin", { input: { login } })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(results.map((r) => r.body.result.data.user.id)).size).toBe(1);
    expect(await rowsForLogin(local, login)).toEqual({ users: 1, sessions: 3, activeSessions: 3 });
  });
});

describe("auth.devLogin: bad input writes nothing", () => {
  const namedLogin = randomLogin("bad");
  const cases: { name: string; input: unknown; login?: string; message: RegExp }[] = [
    { name: "no input", input: undefined, message: /input|login/i },
    { name: "missing login", input: {}, message: /login/ },
    { name: "login is a number", input: { login: 42 }, message: /login: .*expected string/ },
    { name: "login is an object", input: { login: { $ne: "" } }, message: /login: .*expected string/ },
    { name: "empty login", input: { login: "   " }, login: "   ", message: /login: login is required/ },
    { name: "leading hyphen", input: { login: `-${namedLogin}` }, login: `-${namedLogin}`, message: /login: login may hold/ },
    { name: "double hyphen", input: { login: `${namedLogin}--x` }, login: `${namedLogin}--x`, message: /login: login may hold/ },
    { name: "spaces and symbols", input: { login: `${namedLogin} ';--` }, login: `${namedLogin} ';--`, message: /login: login may hold/ },
    {
      name: "too long",
      input: { login: `${namedLogin}${"x".repeat(40)}` },
      login: `${namedLogin}${"x".repeat(40)}`,
      message: /login: login is at most 39/,
    },
    { name: "input is an array", input: [namedLogin], message: /expected object/ },
    { name: "input is a string", input: namedLogin, message: /expected object/ },
  ];

  for (const c of cases) {
    it(`${c.name} → BAD_REQUEST with zod issues`, async () => {
      const response = await rawCall(local, "auth.devLogin", { input: c.input });
      expectTrpcError(response, "BAD_REQUEST", c.message);
      expect(Array.isArray(response.body.error.data.zodError)).toBe(true);
      expect(response.body.error.data.zodError.length).toBeGreaterThan(0);
      if (c.login !== undefined) expect(await rowsForLogin(local, c.login)).toMatchObject({ users: 0, sessions: 0 });
      expect(await rowsForLogin(local, namedLogin)).toMatchObject({ users: 0, sessions: 0 });
    });
  }
});

describe("auth.devLogin: refused outside local development", () => {
  it("is FORBIDDEN when the server is configured for a non-loopback address, and writes nothing", async () => {
    const login = randomLogin("public");
    const response = await rawCall(publicHost, "auth.devLogin", { input: { login } });
    expectTrpcError(response, "FORBIDDEN", /devLogin is disabled .*0\.0\.0\.0.*not on loopback/);
    expect(await rowsForLogin(local, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("is FORBIDDEN in production mode, and writes nothing", async () => {
    const login = randomLogin("prod");
    const response = await rawCall(production, "auth.devLogin", { input: { login } });
    expectTrpcError(response, "FORBIDDEN", /devLogin is disabled in production/);
    expect(await rowsForLogin(local, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("opens no session for an existing user either", async () => {
    const existing = await signUp(local);
    for (const server of [publicHost, production]) {
      const response = await rawCall(server, "auth.devLogin", { input: { login: existing.user.login } });
      expectTrpcError(response, "FORBIDDEN");
    }
    expect(await rowsForLogin(local, existing.user.login)).toEqual({ users: 1, sessions: 1, activeSessions: 1 });
  });

  it("still validates input first (BAD_REQUEST, not FORBIDDEN, for a bad login)", async () => {
    const response = await rawCall(production, "auth.devLogin", { input: { login: 7 } });
    expectTrpcError(response, "BAD_REQUEST", /login/);
  });

  it("refuses only devLogin: other auth procedures keep working in production mode", async () => {
    const session = await signUp(local);
    const me = await rawCall(production, "auth.me", { kind: "query", token: session.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.result.data.id).toBe(session.user.id);
    const refreshed = await rawCall(production, "auth.refresh", { input: { refreshToken: session.refreshToken } });
    expect(refreshed.status).toBe(200);
  });
});
