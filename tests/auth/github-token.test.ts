import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, type TestSession } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { rowsForLogin } from "../helpers/rows.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

const TIMEOUT_MS = 600;
let fake: FakeGitHub;
let server: TestServer;
const seen: string[] = [];

beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: { ...fake.env({ GITHUB_TIMEOUT_MS: String(TIMEOUT_MS) }), LOG_LEVEL: "debug" } });
});
afterEach(() => fake.reset());
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

const login = (githubToken: unknown) => rawCall(server, "auth.loginWithGitHubToken", { input: { githubToken } });

async function signIn(githubToken: string): Promise<TestSession> {
  const response = await login(githubToken);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const session = response.body.result.data as TestSession;
  seen.push(session.accessToken, session.refreshToken);
  return session;
}

describe("auth.loginWithGitHubToken", () => {
  it("signs in the token's GitHub user, creating them with a personal team on first use", async () => {
    const user = fake.addUser({
      login: randomLogin("gh"),
      name: "The Octocat",
      email: "octo@example.test",
      avatarUrl: "https://a.example/o.png",
    });
    const session = await signIn(fake.tokenFor(user.login));
    expect(session.user).toMatchObject({
      login: user.login,
      name: "The Octocat",
      email: "octo@example.test",
      avatarUrl: "https://a.example/o.png",
    });
    const me = await rawCall(server, "auth.me", { kind: "query", token: session.accessToken });
    expect(me.body.result.data.id).toBe(session.user.id);
    const sessions = await rawCall(server, "auth.sessions.list", { kind: "query", token: session.accessToken });
    expect(sessions.body.result.data).toEqual([expect.objectContaining({ method: "github-token", current: true })]);
    const teams = await rawCall(server, "teams.mine", { kind: "query", token: session.accessToken });
    expect(teams.body.result.data).toEqual([
      expect.objectContaining({ name: `${user.login} (personal)`, personal: true, myRole: "owner" }),
    ]);
  });

  it("a later sign-in is the same user, following GitHub's profile (even a renamed login), with no second personal team", async () => {
    const user = fake.addUser({ login: randomLogin("gh"), name: "Before" });
    const first = await signIn(fake.tokenFor(user.login));
    const renamed = randomLogin("gh");
    fake.addUser({ ...user, login: renamed, name: "After", email: "after@example.test" });
    const second = await signIn(fake.tokenFor(renamed));
    expect(second.user).toMatchObject({ id: first.user.id, login: renamed, name: "After", email: "after@example.test" });
    expect(await rowsForLogin(server, user.login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
    expect(await rowsForLogin(server, renamed)).toEqual({ users: 1, sessions: 2, activeSessions: 2 });
    const teams = await rawCall(server, "teams.mine", { kind: "query", token: second.accessToken });
    expect(teams.body.result.data.filter((t: { personal: boolean }) => t.personal)).toHaveLength(1);
  });

  it("concurrent first sign-ins of one GitHub user make one user and one personal team", async () => {
    const user = fake.addUser({ login: randomLogin("gh") });
    const sessions = await Promise.all(Array.from({ length: 5 }, () => signIn(fake.tokenFor(user.login))));
    expect(new Set(sessions.map((s) => s.user.id)).size).toBe(1);
    expect(await rowsForLogin(server, user.login)).toEqual({ users: 1, sessions: 5, activeSessions: 5 });
    const teams = await rawCall(server, "teams.mine", { kind: "query", token: sessions[0]?.accessToken });
    expect(teams.body.result.data.filter((t: { personal: boolean }) => t.personal)).toHaveLength(1);
  });

  it("a user with no verified primary email signs in without one", async () => {
    const user = fake.addUser({ login: randomLogin("gh"), email: null });
    expect((await signIn(fake.tokenFor(user.login))).user.email).toBeNull();
  });

  it("a token GitHub does not accept: UNAUTHORIZED, nothing created", async () => {
    const user = fake.addUser({ login: randomLogin("gh") });
    expectTrpcError(
      await login("gho_notAValidTokenAtAll0000000000000000"),
      "UNAUTHORIZED",
      /GitHub did not accept the token \(401 Bad credentials\)/,
    );
    expect(await rowsForLogin(server, user.login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("GitHub answering 5xx, or not answering within the timeout: BAD_GATEWAY, nothing created", async () => {
    const user = fake.addUser({ login: randomLogin("gh") });
    fake.modes.user = "5xx";
    expectTrpcError(await login(fake.tokenFor(user.login)), "BAD_GATEWAY", /GitHub answered \/user with HTTP 502; try again/);
    fake.modes.user = "hang";
    const started = Date.now();
    expectTrpcError(await login(fake.tokenFor(user.login)), "BAD_GATEWAY", new RegExp(`did not answer /user within ${TIMEOUT_MS} ms`));
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 3000);
    expect(await rowsForLogin(server, user.login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  describe("bad input: BAD_REQUEST, and the token is never echoed", () => {
    const token = "gho_echoMe0123456789abcdef0123456789abcdef";
    const cases: [string, unknown, RegExp][] = [
      ["no token", undefined, /githubToken/],
      ["an empty token", "   ", /githubToken is required/],
      ["a number", 12345, /githubToken/],
      ["a too long token", `gho_${"a".repeat(300)}`, /githubToken is too long/],
      ["characters no token has", `${token} <script>`, /githubToken holds characters no GitHub token has/],
    ];
    for (const [what, value, message] of cases) {
      it(what, async () => {
        const response = await login(value);
        expectTrpcError(response, "BAD_REQUEST", message);
        expect(JSON.stringify(response.body)).not.toContain("echoMe");
      });
    }
    it("no input at all", async () => {
      expectTrpcError(await rawCall(server, "auth.loginWithGitHubToken", {}), "BAD_REQUEST", /input/);
    });
  });

  it("is public: an access token on the call is ignored, the GitHub token decides who signs in", async () => {
    const a = fake.addUser({ login: randomLogin("gh") });
    const b = fake.addUser({ login: randomLogin("gh") });
    const sessionA = await signIn(fake.tokenFor(a.login));
    const response = await rawCall(server, "auth.loginWithGitHubToken", {
      input: { githubToken: fake.tokenFor(b.login) },
      token: sessionA.accessToken,
    });
    expect(response.body.result.data.user.login).toBe(b.login);
    seen.push(response.body.result.data.accessToken, response.body.result.data.refreshToken);
  });
});

describe("logs", () => {
  it("hold no access, refresh or GitHub token", () => {
    expectNoSecretsInLogs(server.logs, [...seen, ...fake.issuedTokens(), "echoMe"]);
  });
});
