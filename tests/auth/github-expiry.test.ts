import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { followBrowser, refOf, retrieve, startHandshake, submitCode } from "../helpers/github-flow.js";
import { rowsForLogin } from "../helpers/rows.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { wsClient } from "../helpers/trpc.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

// Handshakes here live two seconds, so expiry is real, not simulated (and a quick flow still fits).
const TTL_MS = 2000;
let fake: FakeGitHub;
let server: TestServer;

beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: { ...fake.env({ HANDSHAKE_TTL_SECONDS: String(TTL_MS / 1000) }), LOG_LEVEL: "debug" } });
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

const pastExpiry = () => new Promise((resolve) => setTimeout(resolve, TTL_MS + 300));

describe("an expired handshake", () => {
  it("cannot start: /start answers 410 with a page saying it expired", async () => {
    const { handshakeId, authorizeUrl } = await startHandshake(server);
    await pastExpiry();
    const page = await fetch(authorizeUrl, { redirect: "manual" });
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("This sign-in has expired.");
    expectTrpcError(await retrieve(server, handshakeId), "NOT_FOUND", /has expired; start a new sign-in/);
  });

  it("cannot finish: GitHub coming back after expiry signs nobody in", async () => {
    const { login } = fake.addUser({ login: randomLogin("gh") });
    const { handshakeId, authorizeUrl, userCode } = await startHandshake(server);
    const start = await submitCode(authorizeUrl, userCode);
    expect(start.status).toBe(303);
    await pastExpiry();
    const github = new URL(start.location ?? "");
    github.searchParams.set("decision", "approve");
    const back = await fetch(github, { redirect: "manual" });
    const page = await fetch(back.headers.get("location") ?? "", { redirect: "manual" });
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("This sign-in has expired.");
    expect(await rowsForLogin(server, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
    expectTrpcError(await retrieve(server, handshakeId), "NOT_FOUND", /has expired/);
  });

  it("ends a waiting onComplete with NOT_FOUND at expiry instead of waiting forever", async () => {
    const { handshakeId } = await startHandshake(server);
    const ws = wsClient(server, "");
    try {
      const started = Date.now();
      const error = await new Promise<any>((resolve) => {
        ws.client.auth.handshake.onComplete.subscribe(refOf(handshakeId), {
          onData: () => resolve(new Error("got data")),
          onError: resolve,
          onComplete: () => resolve(new Error("ended without error")),
        });
      });
      expect(error?.data?.code, String(error)).toBe("NOT_FOUND");
      expect(error.message).toMatch(/has expired; start a new sign-in/);
      expect(Date.now() - started).toBeLessThan(TTL_MS + 2000);
    } finally {
      ws.close();
    }
  });

  it("a completed flow still hands over its session before expiry only, and one never retrieved leaves no session", async () => {
    const { login } = fake.addUser({ login: randomLogin("gh") });
    const { handshakeId, authorizeUrl } = await startHandshake(server);
    const { page } = await followBrowser(authorizeUrl);
    expect(page.status, page.text).toBe(200);
    await pastExpiry();
    expectTrpcError(await retrieve(server, handshakeId), "NOT_FOUND", /has expired/);
    expect(await rowsForLogin(server, login)).toEqual({ users: 1, sessions: 0, activeSessions: 0 });
  });

  it("logged no token", () => {
    expectNoSecretsInLogs(server.logs, fake.issuedTokens());
  });
});
