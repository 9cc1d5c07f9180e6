import { schema } from "@osmynt/db";
import { openSealedSession } from "@osmynt/sdk";
import { count, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { followBrowser, retrieve, startHandshake, submitCode } from "../helpers/github-flow.js";
import { rowsForLogin } from "../helpers/rows.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";
import { waitFor } from "../helpers/wait.js";

const TIMEOUT_MS = 600;
let fake: FakeGitHub;
let server: TestServer;
/** Same database, no GitHub: devLogin works there, to make a local user whose login GitHub also has. */
let local: TestServer;
const seen: string[] = [];

beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: { ...fake.env({ GITHUB_TIMEOUT_MS: String(TIMEOUT_MS) }), LOG_LEVEL: "debug" } });
  local = await startServer({ shareDepsWith: server, env: { LOG_LEVEL: "debug" } });
});
afterEach(() => fake.reset());
afterAll(async () => {
  await local?.close();
  await server?.close();
  await fake?.close();
});

/** Nothing at all exists for the login: no user, no session, no personal team. */
async function expectNothingFor(login: string) {
  expect(await rowsForLogin(server, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  const [teams] = await server.deps.db
    .select({ n: count() })
    .from(schema.teams)
    .where(eq(schema.teams.name, `${login} (personal)`));
  expect(teams?.n).toBe(0);
}

const secretsOf = (callbackUrl: string | null) => {
  const params = new URL(callbackUrl ?? "http://x").searchParams;
  return [params.get("code") ?? "", params.get("state") ?? ""];
};

/** Runs the browser flow for a fresh GitHub user and checks that it failed cleanly. */
async function failingFlow(options: { decision?: "approve" | "deny"; status: number; page: RegExp; failure: RegExp }) {
  const { login } = fake.addUser({ login: randomLogin("gh") });
  const { handshakeId, authorizeUrl } = await startHandshake(server);
  const started = Date.now();
  const { page, callbackUrl } = await followBrowser(authorizeUrl, options.decision);
  seen.push(...secretsOf(callbackUrl));
  expect(page.status, page.text).toBe(options.status);
  expect(page.text).toMatch(options.page);
  expect(page.text).not.toMatch(/eyJ|osr_|gho_/);
  expectTrpcError(await retrieve(server, handshakeId), "PRECONDITION_FAILED", options.failure);
  await expectNothingFor(login);
  return { elapsedMs: Date.now() - started, callbackUrl };
}

/** A request GitHub never answers is aborted at the timeout: the engine closes its socket, not GitHub. */
async function expectSocketsReleased() {
  await waitFor("the engine to close its sockets to the unanswering GitHub", async () => fake.hungOpen() === 0, { timeoutMs: 1500 });
}

describe("the browser flow refuses cleanly", () => {
  it("denied consent: a page that says so, the editor hears `declined`, nothing is created", async () => {
    await failingFlow({ decision: "deny", status: 403, page: /You declined access on GitHub/, failure: /sign-in was declined on GitHub/ });
  });

  it("GitHub's token endpoint answering 5xx: BAD_GATEWAY page, nothing created", async () => {
    fake.modes.token = "5xx";
    await failingFlow({ status: 502, page: /GitHub answered the code exchange with HTTP 503/, failure: /GitHub failed or did not answer/ });
  });

  it("GitHub's token endpoint not answering: the configured timeout ends it, nothing created", async () => {
    fake.modes.token = "hang";
    const { elapsedMs } = await failingFlow({
      status: 502,
      page: new RegExp(`did not answer the code exchange within ${TIMEOUT_MS} ms`),
      failure: /did not answer in time/,
    });
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS + 3000);
    await expectSocketsReleased();
  });

  it("GitHub's HTTP-200-with-error answer to the code exchange: refused, nothing created", async () => {
    fake.modes.token = "error200";
    await failingFlow({ status: 400, page: /bad_verification_code: The code passed is incorrect or expired/, failure: /GitHub refused/ });
  });

  it("GitHub's user API answering 5xx or not answering: BAD_GATEWAY, nothing created", async () => {
    fake.modes.user = "5xx";
    await failingFlow({ status: 502, page: /GitHub answered \/user with HTTP 502/, failure: /GitHub failed/ });
    fake.modes.user = "hang";
    await failingFlow({ status: 502, page: new RegExp(`GitHub did not answer /user within ${TIMEOUT_MS} ms`), failure: /GitHub failed/ });
    await expectSocketsReleased();
  });

  it("a GitHub login that belongs to a local account here: refused, the local account untouched", async () => {
    const localUser = await signUp(local);
    fake.addUser({ login: localUser.user.login });
    const { handshakeId, authorizeUrl } = await startHandshake(server);
    const { page, callbackUrl } = await followBrowser(authorizeUrl);
    seen.push(...secretsOf(callbackUrl), localUser.accessToken, localUser.refreshToken);
    expect(page.status).toBe(409);
    expect(page.text).toContain(`The login ${localUser.user.login} belongs to another account on this server`);
    expectTrpcError(await retrieve(server, handshakeId), "PRECONDITION_FAILED", /belongs to another account/);
    expect(await rowsForLogin(server, localUser.user.login)).toEqual({ users: 1, sessions: 1, activeSessions: 1 });
  });
});

describe("state and links are single use", () => {
  it("a replayed callback (same code and state) is refused and signs nobody in twice", async () => {
    const { login } = fake.addUser({ login: randomLogin("gh") });
    const { key, handshakeId, authorizeUrl } = await startHandshake(server);
    const { page, callbackUrl } = await followBrowser(authorizeUrl);
    seen.push(...secretsOf(callbackUrl));
    expect(page.status).toBe(200);
    const replay = await fetch(callbackUrl ?? "", { redirect: "manual" });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("This sign-in link was already used.");
    // The user exists; the session is opened only when the editor retrieves it.
    expect(await rowsForLogin(server, login)).toEqual({ users: 1, sessions: 0, activeSessions: 0 });
    const sealed = (await retrieve(server, handshakeId)).body.result.data.sealedSession;
    expect(await rowsForLogin(server, login)).toEqual({ users: 1, sessions: 1, activeSessions: 1 });
    const session = await openSealedSession({ keyPair: key.keyPair, handshakeId, sealedSession: sealed });
    seen.push(session.accessToken, session.refreshToken);
  });

  it("the authorize link works once: after the code was confirmed, a second visit gets a page, not a second trip to GitHub", async () => {
    const { handshakeId, authorizeUrl, userCode } = await startHandshake(server);
    expect((await submitCode(authorizeUrl, userCode)).status).toBe(303);
    const again = await fetch(authorizeUrl, { redirect: "manual" });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("This sign-in link was already used.");
    const resubmitted = await submitCode(authorizeUrl, userCode);
    expect(resubmitted.status).toBe(400);
    expect(resubmitted.text).toContain("This sign-in link was already used.");
    expect((await retrieve(server, handshakeId)).body.result.data).toEqual({ status: "pending" });
  });

  it("a callback with an unknown state, or none, is refused without touching any handshake", async () => {
    const { handshakeId, authorizeUrl, userCode } = await startHandshake(server);
    await submitCode(authorizeUrl, userCode);
    for (const [query, text] of [
      ["?code=abc&state=forged-state", "This sign-in answer does not belong to any sign-in."],
      ["?code=abc", "answer carries no state."],
      [`?code=abc&state=${"x".repeat(300)}`, "answer carries no state."],
    ] as const) {
      const page = await fetch(`${server.url}/auth/github/callback${query}`, { redirect: "manual" });
      expect(page.status).toBe(400);
      expect(page.headers.get("cache-control")).toBe("no-store");
      expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
      expect(await page.text()).toContain(text);
    }
    expect((await retrieve(server, handshakeId)).body.result.data).toEqual({ status: "pending" });
  });

  it("/start with no handshake, a malformed one or an unknown one answers a page saying so", async () => {
    for (const [query, status, text] of [
      ["", 400, "The link has no valid handshake id."],
      ["?handshake=ses_nope", 400, "The link has no valid handshake id."],
      ["?handshake=hs_unknown00000000000000", 400, "This sign-in link is not known to the server."],
    ] as const) {
      const page = await fetch(`${server.url}/auth/github/start${query}`, { redirect: "manual" });
      expect(page.status).toBe(status);
      expect(await page.text()).toContain(text);
    }
  });
});

describe("logs", () => {
  it("hold no access, refresh or GitHub token, nor OAuth code or state, after all these failures", async () => {
    const sessions = await rawCall(server, "auth.me", { kind: "query" });
    expect(sessions.status).toBe(401);
    expectNoSecretsInLogs([...server.logs, ...local.logs], [...seen.filter(Boolean), ...fake.issuedTokens()]);
  });
});
