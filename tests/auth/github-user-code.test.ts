import { openSealedSession } from "@osmynt/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { followBrowser, refOf, retrieve, startHandshake, submitCode } from "../helpers/github-flow.js";
import { rowsForLogin } from "../helpers/rows.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

// Login CSRF / session phishing: whoever holds a sign-in link must not be able to hand their
// session to someone else, or take someone else's.
let fake: FakeGitHub;
let server: TestServer;
beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: { ...fake.env(), LOG_LEVEL: "debug" } });
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

/** Another plausible code: same alphabet, not this one. */
const otherCode = (code: string) => (code.startsWith("B") ? `C${code.slice(1)}` : `B${code.slice(1)}`);

describe("/auth/github/start asks for the editor's code before GitHub", () => {
  it("never redirects straight to GitHub: it answers a page with the code form", async () => {
    const { authorizeUrl } = await startHandshake(server);
    const page = await fetch(authorizeUrl, { redirect: "manual" });
    expect(page.status).toBe(200);
    expect(page.headers.get("location")).toBeNull();
    const html = await page.text();
    expect(html).toContain("Type the code <strong>your editor</strong> is showing");
    expect(html).toMatch(/<form method="post" action="start">/);
    expect(page.headers.get("content-security-policy")).toContain(`form-action 'self' ${fake.url}`);
  });

  it("an attacker's link sent to a victim: without the attacker's code the victim's browser cannot go on; the attacker gets nothing", async () => {
    const victim = fake.addUser({ login: randomLogin("victim") });
    const attacker = await startHandshake(server);
    // The victim clicks; their browser is signed in to GitHub and would approve at once — but the page wants a code.
    const { page, github } = await followBrowser(attacker.authorizeUrl, "approve", "");
    expect(github).toBeNull();
    expect(page.status).toBe(400);
    expect(page.text).toContain("That code does not match. 4 attempts left.");
    expect((await retrieve(server, attacker.handshakeId)).body.result.data).toEqual({ status: "pending" });
    expect(await rowsForLogin(server, victim.login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("only the matching code continues (case, spaces and dashes aside); another handshake's code does not", async () => {
    const mine = await startHandshake(server);
    const other = await startHandshake(server);
    const wrong = await submitCode(mine.authorizeUrl, other.userCode);
    expect(wrong.status).toBe(400);
    expect(wrong.location).toBeNull();
    const right = await submitCode(mine.authorizeUrl, ` ${mine.userCode.toLowerCase().replace("-", " ")} `);
    expect(right.status).toBe(303);
    expect(right.location?.startsWith(`${fake.url}/login/oauth/authorize?`)).toBe(true);
  });

  it("too many wrong codes kill the handshake: the page says so, the editor hears why, the right code no longer works", async () => {
    const editor = await startHandshake(server);
    for (let left = 4; left >= 1; left--) {
      const wrong = await submitCode(editor.authorizeUrl, otherCode(editor.userCode));
      expect(wrong.status).toBe(400);
      expect(wrong.text).toContain(`${left} ${left === 1 ? "attempt" : "attempts"} left`);
    }
    const last = await submitCode(editor.authorizeUrl, otherCode(editor.userCode));
    expect(last.status).toBe(429);
    expect(last.text).toContain("Too many wrong codes: this sign-in is cancelled");
    const late = await submitCode(editor.authorizeUrl, editor.userCode);
    expect(late.status).toBe(400);
    expect(late.location).toBeNull();
    expectTrpcError(await retrieve(server, editor.handshakeId), "PRECONDITION_FAILED", /too many wrong codes were typed/);
  });

  it("a forwarded link opened by someone else cannot be finished with their account; the editor's own code still works", async () => {
    const onlooker = fake.addUser({ login: randomLogin("onlooker") });
    const editor = await startHandshake(server);
    const attempt = await followBrowser(editor.authorizeUrl, "approve", "WDJB-MJHT");
    expect(attempt.github).toBeNull();
    expect(await rowsForLogin(server, onlooker.login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
    const owner = fake.addUser({ login: randomLogin("owner") });
    const { page } = await followBrowser(editor.authorizeUrl, "approve", editor.userCode);
    expect(page.status, page.text).toBe(200);
    const answer = await retrieve(server, editor.handshakeId);
    const session = await openSealedSession({
      keyPair: editor.key.keyPair,
      handshakeId: editor.handshakeId,
      sealedSession: answer.body.result.data.sealedSession,
    });
    expect(session.user.login).toBe(owner.login);
  });
});

describe("the retrieval secret, not the link, is the credential", () => {
  it("a link holder (handshake id only) can neither spend nor race the retrieval; no session exists until the editor retrieves", async () => {
    const github = fake.addUser({ login: randomLogin("gh") });
    const editor = await startHandshake(server);
    const { page } = await followBrowser(editor.authorizeUrl);
    expect(page.status, page.text).toBe(200);
    expect(await rowsForLogin(server, github.login)).toEqual({ users: 1, sessions: 0, activeSessions: 0 });
    for (const input of [
      { handshakeId: editor.handshakeId },
      { handshakeId: editor.handshakeId, retrievalSecret: "osh_guessedguessedguessedguessedguessedguess" },
    ]) {
      const stolen = await retrieve(server, input);
      expect([400, 404]).toContain(stolen.status);
    }
    expect(await rowsForLogin(server, github.login)).toEqual({ users: 1, sessions: 0, activeSessions: 0 });
    const mine = await retrieve(server, refOf(editor.handshakeId));
    expect(mine.body.result.data.status).toBe("complete");
    expect(await rowsForLogin(server, github.login)).toEqual({ users: 1, sessions: 1, activeSessions: 1 });
  });
});
