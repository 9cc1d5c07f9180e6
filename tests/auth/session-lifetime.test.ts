import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sessionIdOf } from "../helpers/tokens.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

// Real time, really waited for: a 4-second absolute lifetime on one server, a 3-second idle
// timeout on another (same database), each with the other limit out of the way.
const DAY_S = 86_400;
const MAX_AGE_S = 4;
const IDLE_S = 3;
let maxAge: TestServer;
let idle: TestServer;
beforeAll(async () => {
  maxAge = await startServer({ env: { SESSION_MAX_AGE_DAYS: String(MAX_AGE_S / DAY_S) } });
  idle = await startServer({ shareDepsWith: maxAge, env: { SESSION_IDLE_TIMEOUT_DAYS: String(IDLE_S / DAY_S) } });
});
afterAll(async () => {
  await idle?.close();
  await maxAge?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function refresh(server: TestServer, session: TestSession): Promise<TestSession> {
  const answer = await rawCall(server, "auth.refresh", { input: { refreshToken: session.refreshToken } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.result.data;
}

describe("sessions end, however often they are refreshed", () => {
  it("at the absolute lifetime (SESSION_MAX_AGE_DAYS): refreshing does not restart it", async () => {
    const started = Date.now();
    let session = await signUp(maxAge);
    // The session's end, by the server's clock: its first refresh token expires exactly then.
    const end = Date.parse(session.refreshTokenExpiresAt);
    expect(end - started).toBeLessThanOrEqual(MAX_AGE_S * 1000 + 1000);
    // Refreshes early in the lifetime (well clear of its end, even on a loaded machine).
    for (let i = 0; i < 3; i++) {
      await sleep(400);
      session = await refresh(maxAge, session);
      // A rotated refresh token never outlives the session's end.
      expect(Date.parse(session.refreshTokenExpiresAt)).toBeLessThanOrEqual(end);
    }
    await sleep(Math.max(0, end + 800 - Date.now()));
    expectTrpcError(
      await rawCall(maxAge, "auth.refresh", { input: { refreshToken: session.refreshToken } }),
      "UNAUTHORIZED",
      /refresh token has expired|maximum lifetime/,
    );
    expectTrpcError(await rawCall(maxAge, "auth.me", { kind: "query", token: session.accessToken }), "UNAUTHORIZED", /session has ended/);
    const fresh = await signUp(maxAge, session.user.login);
    const listed = await rawCall(maxAge, "auth.sessions.list", { kind: "query", token: fresh.accessToken });
    expect(listed.body.result.data.map((s: { id: string }) => s.id)).not.toContain(sessionIdOf(session.accessToken));
  });

  it("the maximum lifetime holds even for a refresh token issued under a longer one", async () => {
    // Issued by the server without the limit (idle has the default 90 days): then the operator lowers it.
    const session = await signUp(idle);
    await sleep(MAX_AGE_S * 1000 + 500);
    expectTrpcError(
      await rawCall(maxAge, "auth.refresh", { input: { refreshToken: session.refreshToken } }),
      "UNAUTHORIZED",
      /maximum lifetime \(SESSION_MAX_AGE_DAYS\)/,
    );
    expectTrpcError(await rawCall(maxAge, "auth.me", { kind: "query", token: session.accessToken }), "UNAUTHORIZED");
  });

  it("after the idle timeout (SESSION_IDLE_TIMEOUT_DAYS) without a refresh; refreshing in time keeps it alive", async () => {
    const unused = await signUp(idle);
    let used = await signUp(idle);
    for (let i = 0; i < 4; i++) {
      await sleep(1000);
      used = await refresh(idle, used);
    }
    // 4 s in: past the idle timeout for `unused`, not for `used`.
    expectTrpcError(
      await rawCall(idle, "auth.refresh", { input: { refreshToken: unused.refreshToken } }),
      "UNAUTHORIZED",
      /unused for longer than its idle timeout/,
    );
    expectTrpcError(await rawCall(idle, "auth.me", { kind: "query", token: unused.accessToken }), "UNAUTHORIZED", /session has ended/);
    expect((await rawCall(idle, "auth.me", { kind: "query", token: used.accessToken })).status).toBe(200);
  });
});
