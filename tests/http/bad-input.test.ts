import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp as signUpUntracked, type TestSession } from "../helpers/factories.js";
import { rowsForLogin } from "../helpers/rows.js";
import { startServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server.js";
import { resignAccessToken, sessionIdOf, tamperPayload } from "../helpers/tokens.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

const BODY_LIMIT_BYTES = 2048;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) } });
});
afterAll(async () => {
  await server?.close();
});

async function post(path: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  const response = await fetch(`${server.trpcUrl}/${path}`, { method: "POST", headers, body });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed };
}

/** Every token handed out in this file: none of them may ever appear in the server's logs. */
const issuedTokens: string[] = [];
async function signUp(target: TestServer): Promise<TestSession> {
  const session = await signUpUntracked(target);
  issuedTokens.push(session.accessToken, session.refreshToken);
  return session;
}

const me = (token: string) => rawCall(server, "auth.me", { kind: "query", token });

describe("malformed JSON", () => {
  it("a body that is not JSON → PARSE_ERROR 400, and nothing is written", async () => {
    const login = randomLogin("parse");
    const response = await post("auth.devLogin", `{"login":"${login}"`);
    expectTrpcError(response, "PARSE_ERROR", /Request input is not valid JSON/);
    expect(response.body.error.code).toBe(-32700);
    expect(await rowsForLogin(server, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  for (const body of ["{", "login=abc", "{'login':'abc'}", '{"login":"abc",}', "\u0000"]) {
    it(`rejects ${JSON.stringify(body)} as PARSE_ERROR`, async () => {
      expectTrpcError(await post("auth.devLogin", body), "PARSE_ERROR");
    });
  }

  it("a batch with a body that is not JSON → 400 PARSE_ERROR for each call", async () => {
    const login = randomLogin("batch");
    const response = await post("auth.devLogin,auth.devLogin?batch=1", `{"0":{"login":"${login}"},"1":`);
    expect(response.status).toBe(400);
    expect(Array.isArray(response.body)).toBe(true);
    for (const item of response.body) expect(item.error.data.code).toBe("PARSE_ERROR");
    expect(await rowsForLogin(server, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });
});

describe("wrong types → BAD_REQUEST with zod issues and a message naming the field", () => {
  let session: TestSession;
  beforeAll(async () => {
    session = await signUp(server);
  });

  const cases = [
    { path: "auth.devLogin", input: { login: 42 }, field: "login", auth: false },
    { path: "auth.devLogin", input: { login: null }, field: "login", auth: false },
    { path: "auth.devLogin", input: { name: "x" }, field: "login", auth: false },
    { path: "auth.refresh", input: { refreshToken: true }, field: "refreshToken", auth: false },
    { path: "auth.refresh", input: { refreshToken: { $gt: "" } }, field: "refreshToken", auth: false },
    { path: "auth.sessions.revoke", input: { sessionId: 7 }, field: "sessionId", auth: true },
    { path: "auth.sessions.revoke", input: { sessionId: ["ses_a"] }, field: "sessionId", auth: true },
  ];
  for (const c of cases) {
    it(`${c.path} ${JSON.stringify(c.input)}`, async () => {
      const response = await rawCall(server, c.path, { input: c.input, ...(c.auth ? { token: session.accessToken } : {}) });
      expectTrpcError(response, "BAD_REQUEST", new RegExp(`^Invalid input: ${c.field}: `));
      const issues = response.body.error.data.zodError as { path: (string | number)[]; message: string }[];
      expect(issues.length).toBeGreaterThan(0);
      expect(issues[0]?.path).toEqual([c.field]);
      expect(issues[0]?.message.length).toBeGreaterThan(0);
    });
  }

  it("several bad fields are all named", async () => {
    const response = await rawCall(server, "auth.devLogin", { input: { login: "-x-" } });
    expectTrpcError(response, "BAD_REQUEST", /login: /);
    expect(response.body.error.data.zodError.every((i: { path: string[] }) => i.path[0] === "login")).toBe(true);
  });

  it("the session used for the bad calls is untouched", async () => {
    expect((await me(session.accessToken)).status).toBe(200);
    expect(await rowsForLogin(server, session.user.login)).toEqual({ users: 1, sessions: 1, activeSessions: 1 });
  });
});

describe("unknown procedures and methods", () => {
  it("an unknown procedure → NOT_FOUND 404 naming the path", async () => {
    expectTrpcError(await rawCall(server, "auth.nope", { input: {} }), "NOT_FOUND", /No procedure found on path "auth.nope"/);
    expectTrpcError(await rawCall(server, "nothing.here", { kind: "query" }), "NOT_FOUND", /nothing\.here/);
  });

  it("a router is not a procedure → NOT_FOUND", async () => {
    expectTrpcError(await rawCall(server, "auth.sessions", { kind: "query" }), "NOT_FOUND", /auth\.sessions/);
  });

  it("a mutation called with GET is refused with a 4xx, not run", async () => {
    const login = randomLogin("get");
    const response = await rawCall(server, "auth.devLogin", { kind: "query", input: { login } });
    expect(response.status).toBe(405);
    expect(response.body.error.data.code).toBe("METHOD_NOT_SUPPORTED");
    expect(await rowsForLogin(server, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });
});

describe("body size and content type", () => {
  it(`a 10 KB body over the ${BODY_LIMIT_BYTES}-byte limit → 413 PAYLOAD_TOO_LARGE in tRPC's shape, and nothing is written`, async () => {
    const login = randomLogin("big");
    const body = JSON.stringify({ login, padding: "x".repeat(10 * 1024) });
    const response = await post("auth.devLogin", body);
    expectTrpcError(response, "PAYLOAD_TOO_LARGE", new RegExp(`larger than the limit of ${BODY_LIMIT_BYTES} bytes`));
    expect(response.body).toMatchObject({ error: { data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413 } } });
    expect(await rowsForLogin(server, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("the same call under the limit goes through (the limit is the configured one)", async () => {
    const login = randomLogin("small");
    const response = await post("auth.devLogin", JSON.stringify({ login, padding: "x".repeat(1024) }));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(await rowsForLogin(server, login)).toMatchObject({ users: 1, sessions: 1 });
  });

  it("a body that is not JSON by content type → 415 in tRPC's shape, and nothing is written", async () => {
    const login = randomLogin("ctype");
    const response = await post("auth.devLogin", JSON.stringify({ login }), { "content-type": "text/plain" });
    expectTrpcError(response, "UNSUPPORTED_MEDIA_TYPE", /content-type/i);
    expect(await rowsForLogin(server, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });
});

describe("bad access tokens → UNAUTHORIZED 401 with distinct clear messages", () => {
  const OTHER_SECRET = "another-secret-another-secret-0123456789";
  const now = () => Math.floor(Date.now() / 1000);

  async function check(token: string, message: RegExp, owner?: TestSession): Promise<string> {
    const shown = expectTrpcError(await me(token), "UNAUTHORIZED", message).message;
    expectTrpcError(await rawCall(server, "auth.sessions.list", { kind: "query", token }), "UNAUTHORIZED", message);
    // a refused token ends nothing: logging out with it leaves the session it names alive
    expectTrpcError(await rawCall(server, "auth.logout", { token }), "UNAUTHORIZED", message);
    if (owner) expect((await me(owner.accessToken)).status).toBe(200);
    return shown;
  }

  it("expired, forged, tampered and refresh-token-as-access-token each say what is wrong", async () => {
    const a = await signUp(server);
    const b = await signUp(server);

    const expired = await resignAccessToken(a.accessToken, { secret: TEST_JWT_SECRET, iat: now() - 120, exp: now() - 60 });
    const forged = await resignAccessToken(a.accessToken, { secret: OTHER_SECRET });
    const tamperedClaims = tamperPayload(a.accessToken, { sub: b.user.id, sid: sessionIdOf(b.accessToken) });
    // change a character in the middle of the signature (the last one may only hold padding bits)
    const at = a.accessToken.length - 10;
    const tamperedSignature = `${a.accessToken.slice(0, at)}${a.accessToken[at] === "A" ? "B" : "A"}${a.accessToken.slice(at + 1)}`;

    const messages = {
      expired: await check(expired, /^access token expired; refresh the session$/, a),
      forged: await check(forged, /^access token signature is invalid$/, a),
      tamperedClaims: await check(tamperedClaims, /^access token signature is invalid$/, b),
      tamperedSignature: await check(tamperedSignature, /^access token signature is invalid$/, a),
      refreshAsAccess: await check(a.refreshToken, /^access token is malformed \(a refresh token is not an access token\)$/, a),
      none: expectTrpcError(await rawCall(server, "auth.me", { kind: "query" }), "UNAUTHORIZED", /^no access token/),
    };
    // one message per kind of failure (forged and tampered are both a signature that does not match)
    const kinds = [messages.expired, messages.forged, messages.refreshAsAccess, messages.none];
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(messages.tamperedClaims).toBe(messages.forged);

    expect((await me(a.accessToken)).status).toBe(200);
    expect((await me(b.accessToken)).status).toBe(200);
  });

  it("a well-signed token for another API or of another kind is refused", async () => {
    const a = await signUp(server);
    await check(
      await resignAccessToken(a.accessToken, { secret: TEST_JWT_SECRET, claims: { aud: "someone-else" } }),
      /not issued for this API/,
      a,
    );
    await check(
      await resignAccessToken(a.accessToken, { secret: TEST_JWT_SECRET, claims: { iss: "someone-else" } }),
      /not issued for this API/,
      a,
    );
    await check(
      await resignAccessToken(a.accessToken, { secret: TEST_JWT_SECRET, claims: { use: "refresh" } }),
      /^not an access token$/,
      a,
    );
  });

  it("an unsigned (alg: none) token, garbage and an oversized token are refused", async () => {
    const a = await signUp(server);
    const [, payload] = a.accessToken.split(".");
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
    await check(unsigned, /malformed/, a);
    await check("not-a-token", /malformed/, a);
    await check(`${a.accessToken}${"A".repeat(5000)}`, /too long/, a);
  });

  it("a valid token of an ended session is refused even though its signature is fine", async () => {
    const a = await signUp(server);
    expect((await rawCall(server, "auth.logout", { token: a.accessToken })).status).toBe(200);
    await check(a.accessToken, /session has ended/);
  });
});

describe("after all of the above", () => {
  it("the server logged no error (nothing became a 500) and no token", () => {
    const lines = server.logs.join("").split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    const errors = lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
    expect(issuedTokens.length).toBeGreaterThan(10);
    for (const token of issuedTokens) expect(server.logs.join("")).not.toContain(token);
  });
});
