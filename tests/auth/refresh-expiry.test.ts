import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sessionIdOf } from "../helpers/tokens.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

/**
 * Real expiry, really waited for: 0.0005 days (43 s) of refresh lifetime, longer than 30 s, the smallest
 * access token lifetime. The wait is computed from the expiry the server answered.
 */
const REFRESH_TOKEN_TTL_DAYS = "0.0005";
const ACCESS_TOKEN_TTL_SECONDS = "30";
const MAX_WAIT_MS = 100_000;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { REFRESH_TOKEN_TTL_DAYS, ACCESS_TOKEN_TTL_SECONDS } });
});
afterAll(async () => {
  await server?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("expiry of server-issued tokens", () => {
  it(
    "an expired access token and an expired refresh token are UNAUTHORIZED with clear messages",
    async () => {
      const old = await signUp(server);
      const expiring = await signUp(server, old.user.login);
      const accessLeft = Date.parse(old.accessTokenExpiresAt) - Date.now();
      const refreshLeft = Date.parse(old.refreshTokenExpiresAt) - Date.now();
      expect(accessLeft).toBeLessThanOrEqual(30_000);
      expect(refreshLeft).toBeLessThanOrEqual(MAX_WAIT_MS);
      expect(refreshLeft).toBeGreaterThan(accessLeft);

      await sleep(accessLeft + 1500);
      expectTrpcError(
        await rawCall(server, "auth.me", { kind: "query", token: old.accessToken }),
        "UNAUTHORIZED",
        /access token expired; refresh the session/,
      );
      // The access token ran out, the refresh token has not: refreshing is the way back.
      const back = await rawCall(server, "auth.refresh", { input: { refreshToken: old.refreshToken } });
      expect(back.status, JSON.stringify(back.body)).toBe(200);
      const rotated = back.body.result.data;
      expect((await rawCall(server, "auth.me", { kind: "query", token: rotated.accessToken })).status).toBe(200);

      const started = Date.now();
      await sleep(Math.max(0, Date.parse(expiring.refreshTokenExpiresAt) - Date.now()) + 1500);
      console.log(`waited ${Date.now() - started} ms for a refresh token to expire`);

      const refreshed = await rawCall(server, "auth.refresh", { input: { refreshToken: expiring.refreshToken } });
      expectTrpcError(refreshed, "UNAUTHORIZED", /refresh token has expired; sign in again/);

      // A session whose newest refresh token expired is over: sessions.list no longer shows it.
      const fresh = await signUp(server, old.user.login);
      const listed = await rawCall(server, "auth.sessions.list", { kind: "query", token: fresh.accessToken });
      expect(listed.status).toBe(200);
      const ids = (listed.body.result.data as { id: string }[]).map((s) => s.id);
      expect(ids).toContain(sessionIdOf(fresh.accessToken));
      expect(ids).not.toContain(sessionIdOf(expiring.accessToken));
      // the session refreshed half-way is still alive: its newest refresh token has time left
      expect(ids).toContain(sessionIdOf(old.accessToken));
      expect((await rawCall(server, "auth.refresh", { input: { refreshToken: fresh.refreshToken } })).status).toBe(200);
    },
    MAX_WAIT_MS + 60_000,
  );
});
