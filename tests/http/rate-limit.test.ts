import { randomBytes } from "node:crypto";
import { loadConfig } from "@osmynt/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backend } from "../helpers/backend.js";
import { rawCall, signUp } from "../helpers/factories.js";
import { rawWs } from "../helpers/raw-ws.js";
import { startPrivateRedis } from "../helpers/redis-process.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

/**
 * Every server here counts under a Redis prefix of its own (on the services backend), so the
 * budgets of other test files' servers, which share the address 127.0.0.1, never mix in.
 */
const opened: TestServer[] = [];
async function limited(env: Record<string, string>, prefix = `rl-${randomBytes(4).toString("hex")}`): Promise<TestServer> {
  const server = await startServer({ env: { REDIS_CHANNEL_PREFIX: prefix, ...env } });
  opened.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const codeOf = (answer: any) => answer?.error?.data?.code;

describe("per-address budget", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_PER_MINUTE: "5", REDIS_CHANNEL_PREFIX: `rl-${randomBytes(4).toString("hex")}` } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers TOO_MANY_REQUESTS in tRPC's shape past the per-minute limit, and health stays reachable", async () => {
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await rawCall(server, "auth.me", { kind: "query" }));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expectTrpcError(
      answers[5] as { status: number; body: unknown },
      "TOO_MANY_REQUESTS",
      /Too many requests: at most 5 a minute from this address; retry in \d+ s/,
    );
    expect(answers[6]?.status).toBe(429);
    // Probes are exempt so a load balancer never marks a busy instance dead.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });
});

describe("calls over WebSocket count like HTTP requests", () => {
  it("every message on one socket draws from the same per-address budget as HTTP", async () => {
    const server = await limited({ RATE_LIMIT_PER_MINUTE: "6" });
    const socket = await rawWs(server); // the upgrade request is one
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(codeOf(await socket.call("auth.me")));
    expect(answers.slice(0, 5)).toEqual(Array(5).fill("UNAUTHORIZED"));
    expect(answers.slice(5)).toEqual(Array(5).fill("TOO_MANY_REQUESTS"));
    // And HTTP from the same address finds the budget spent.
    expectTrpcError(await rawCall(server, "auth.me", { kind: "query" }), "TOO_MANY_REQUESTS");
    socket.close();
  });

  it("sign-in has a stricter budget that a socket opened earlier cannot get around", async () => {
    const server = await limited({ RATE_LIMIT_SIGN_IN_PER_MINUTE: "3" });
    const socket = await rawWs(server);
    for (let i = 0; i < 3; i++)
      expect((await rawCall(server, "auth.devLogin", { input: { login: `sign-${i}-${randomBytes(3).toString("hex")}` } })).status).toBe(
        200,
      );
    expectTrpcError(
      await rawCall(server, "auth.devLogin", { input: { login: "one-more" } }),
      "TOO_MANY_REQUESTS",
      /at most 3 a minute for sign-in from this address/,
    );
    const overWs = [];
    for (let i = 0; i < 5; i++) overWs.push(codeOf(await socket.call("auth.devLogin", { login: `ws-${i}` }, "mutation")));
    expect(overWs).toEqual(Array(5).fill("TOO_MANY_REQUESTS"));
    // The sign-in procedures share the budget: refresh is spent too, the rest of the API is not.
    expectTrpcError(await rawCall(server, "auth.refresh", { input: { refreshToken: "x".repeat(40) } }), "TOO_MANY_REQUESTS");
    expect((await rawCall(server, "auth.me", { kind: "query" })).status).toBe(401);
    socket.close();
  });

  it("invite acceptance has its own budget, per address and per user", async () => {
    const server = await limited({ RATE_LIMIT_INVITE_ACCEPT_PER_MINUTE: "2" });
    const user = await signUp(server);
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const answer = await rawCall(server, "teams.invites.accept", { token: user.accessToken, input: { token: `guess-${i}` } });
      codes.push(answer.body?.error?.data?.code);
    }
    expect(codes.slice(0, 2)).not.toContain("TOO_MANY_REQUESTS");
    expect(codes.slice(2)).toEqual(["TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS"]);
  });

  it("each user has a budget of calls over every transport", async () => {
    const server = await limited({ RATE_LIMIT_PER_USER_PER_MINUTE: "4" });
    const alice = await signUp(server);
    const bob = await signUp(server);
    for (let i = 0; i < 3; i++) expect((await rawCall(server, "auth.me", { kind: "query", token: alice.accessToken })).status).toBe(200);
    const socket = await rawWs(server, { token: alice.accessToken });
    expect(codeOf(await socket.call("auth.me"))).toBeUndefined();
    const over = await socket.call("auth.me");
    expect(codeOf(over)).toBe("TOO_MANY_REQUESTS");
    expect(over.error.message).toMatch(/at most 4 a minute for this user/);
    expectTrpcError(await rawCall(server, "auth.me", { kind: "query", token: alice.accessToken }), "TOO_MANY_REQUESTS");
    // Someone else on the same address is not affected.
    expect((await rawCall(server, "auth.me", { kind: "query", token: bob.accessToken })).status).toBe(200);
    socket.close();
  });
});

describe("batches", () => {
  it("an HTTP batch holds at most MAX_BATCH_SIZE calls (default 10); a bigger one changes nothing", async () => {
    const server = await limited({});
    const user = await signUp(server);
    const batch = (n: number) =>
      fetch(`${server.trpcUrl}/${Array(n).fill("teams.create").join(",")}?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${user.accessToken}` },
        body: JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { name: `batch team ${i}` }]))),
      });
    const mine = async () => (await rawCall(server, "teams.mine", { kind: "query", token: user.accessToken })).body.result.data.length;
    const before = await mine();
    const tooBig = await batch(11);
    expect(tooBig.status).toBe(400);
    expect(JSON.stringify(await tooBig.json())).toMatch(/a batch may hold at most 10 calls \(MAX_BATCH_SIZE\); this one has 11/);
    expect(await mine()).toBe(before);
    expect((await batch(10)).status).toBe(200);
    expect(await mine()).toBe(before + 10);
  });

  it("every call of a batch counts against the per-address budget", async () => {
    const server = await limited({ RATE_LIMIT_PER_MINUTE: "12" });
    const batch = await fetch(`${server.trpcUrl}/${Array(10).fill("auth.me").join(",")}?batch=1`);
    expect(batch.status).toBe(401);
    expect((await rawCall(server, "auth.me", { kind: "query" })).status).toBe(401);
    expect((await rawCall(server, "auth.me", { kind: "query" })).status).toBe(401);
    expectTrpcError(await rawCall(server, "auth.me", { kind: "query" }), "TOO_MANY_REQUESTS");
  });

  it("a WebSocket message holds at most MAX_BATCH_SIZE calls too", async () => {
    const server = await limited({ MAX_BATCH_SIZE: "3" });
    const socket = await rawWs(server);
    const answer = socket.next();
    socket.sendBatch("auth.me", 4);
    expect(JSON.stringify(await answer)).toMatch(/Batch call exceeds maximum size/);
    socket.close();
  });
});

describe("TRUST_PROXY", () => {
  it("refuses a bare true and says what to give instead; takes a hop count or proxy addresses", () => {
    expect(() => loadConfig({ TRUST_PROXY: "true" })).toThrow(
      /TRUST_PROXY: "true" would believe any X-Forwarded-For .* give the number of proxies in front of the engine \(e\.g\. TRUST_PROXY=1\) or their addresses/,
    );
    expect(() => loadConfig({ TRUST_PROXY: "10.0.0.1,not-an-address" })).toThrow(/TRUST_PROXY: .*not-an-address/);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toEqual({ hops: 2 });
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 192.168.1.5" }).trustProxy).toEqual({ addresses: ["10.0.0.0/8", "192.168.1.5"] });
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
  });

  const forwardedFor = (server: TestServer, xff: string) =>
    rawCall(server, "auth.me", { kind: "query", headers: { "x-forwarded-for": xff } });

  it("X-Forwarded-For from a peer that is not a trusted proxy is ignored: made-up addresses share one budget", async () => {
    const server = await limited({ RATE_LIMIT_PER_MINUTE: "3", TRUST_PROXY: "10.1.2.3" });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await forwardedFor(server, `198.51.100.${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it("behind trusted proxies the client is the address the nearest one saw, not what the client claims", async () => {
    for (const trust of ["1", "127.0.0.1"]) {
      const server = await limited({ RATE_LIMIT_PER_MINUTE: "3", TRUST_PROXY: trust });
      // The proxy appends the address it saw; whatever the client put before it is not believed.
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await forwardedFor(server, `198.51.100.${i}, 203.0.113.7`)).status);
      expect(statuses, `TRUST_PROXY=${trust}`).toEqual([401, 401, 401, 429, 429]);
      // Another client behind the same proxy has its own budget, over HTTP and WebSocket alike.
      expect((await forwardedFor(server, "203.0.113.8")).status).toBe(401);
      // The upgrade request counts, then the calls on the socket, all as 203.0.113.8.
      const socket = await rawWs(server, { headers: { "x-forwarded-for": "203.0.113.8" } });
      expect(codeOf(await socket.call("auth.me"))).toBe("UNAUTHORIZED");
      expect(codeOf(await socket.call("auth.me"))).toBe("TOO_MANY_REQUESTS");
      socket.close();
    }
  });
});

describe.runIf(backend === "services")("shared through Redis", () => {
  // README (Security): with Redis unreachable each instance counts in its own memory until it is
  // back — the limits stay on (never fail-open), N instances allow up to N budgets between them,
  // and nobody is locked out (never fail-closed). A private redis-server, killed for real.
  it("with Redis down, each instance still applies the budget on its own count, and answers every call", async () => {
    const redis = await startPrivateRedis();
    try {
      const env = { RATE_LIMIT_PER_MINUTE: "4", REDIS_URL: redis.url };
      const prefix = `rl-${randomBytes(4).toString("hex")}`;
      const a = await limited(env, prefix);
      const b = await limited(env, prefix);
      await redis.stop();
      const calls = async (server: TestServer) => {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) statuses.push((await rawCall(server, "auth.me", { kind: "query" })).status);
        return statuses;
      };
      // anonymous auth.me: 401 while the budget lasts, then 429; never a 5xx, never refused early
      expect(await calls(a)).toEqual([401, 401, 401, 401, 429, 429]);
      expect(await calls(b)).toEqual([401, 401, 401, 401, 429, 429]);
    } finally {
      await redis.stop();
    }
  });

  it("two instances draw from one budget", async () => {
    const prefix = `rl-${randomBytes(4).toString("hex")}`;
    const a = await limited({ RATE_LIMIT_PER_MINUTE: "4" }, prefix);
    const b = await limited({ RATE_LIMIT_PER_MINUTE: "4" }, prefix);
    const statuses = [];
    for (const server of [a, b, a, b, a, b]) statuses.push((await rawCall(server, "auth.me", { kind: "query" })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });
});
