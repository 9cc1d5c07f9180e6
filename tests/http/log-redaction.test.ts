import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp } from "../helpers/factories.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { LOG_LEVEL: "trace" } });
});
afterAll(async () => {
  await server?.close();
});

const levels = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
const secret = (label: string) => `${label}-${randomBytes(12).toString("hex")}`;

/** Every secret-shaped field name the logger must censor, each with a value of its own. */
function secretFields() {
  return {
    token: secret("token"),
    githubToken: secret("gh"),
    accessToken: secret("access"),
    refresh_token: secret("refresh"),
    retrievalSecret: secret("retrieval"),
    clientSecret: secret("client"),
    authorization: `Bearer ${secret("bearer")}`,
    Authorization: `Bearer ${secret("Bearer")}`,
    cookie: `sid=${secret("cookie")}`,
    "set-cookie": [`sid=${secret("setcookie")}`],
    code: secret("oauthcode").toLowerCase(),
    state: secret("oauthstate"),
    userCode: "WDJB-MJHT",
    password: secret("password"),
  };
}

/** The same fields at the top, nested 1–6 levels deep, inside arrays and in child bindings. */
function nestings(fields: Record<string, unknown>): Record<string, unknown>[] {
  const deep = (n: number): Record<string, unknown> => (n === 0 ? { ...fields } : { level: n, inner: deep(n - 1) });
  return [
    { ...fields },
    { input: { ...fields } },
    { ctx: { meta: { headers: { ...fields } } } },
    deep(6),
    { list: [{ ...fields }, [{ nested: { ...fields } }]] },
  ];
}

describe("log redaction by the shape of a field, at any depth and level", () => {
  it("censors token, secret, authorization, cookie, code and state fields wherever they are", () => {
    const logger = server.deps.logger;
    const values: string[] = [];
    for (const level of levels) {
      const fields = secretFields();
      values.push(
        ...Object.values(fields)
          .flat()
          .filter((v) => v !== "WDJB-MJHT"),
      );
      for (const object of nestings(fields)) logger[level](object, `logging secrets at ${level}`);
      logger.child({ githubToken: fields.githubToken, nested: { state: fields.state } })[level]({ ok: true }, "child bindings");
      const error = Object.assign(new Error("upstream failed"), { code: "ECONNRESET", token: fields.token });
      logger[level]({ err: error, request: { authorization: fields.authorization } }, "an error with a token on it");
    }
    const lines = server.logs.filter((l) => l.includes("logging secrets") || l.includes("child bindings") || l.includes("an error with"));
    expect(lines).toHaveLength(levels.length * 7);
    for (const line of lines) {
      for (const value of values) expect(line.includes(value), `a secret in: ${line}`).toBe(false);
      expect(line).not.toContain("WDJB-MJHT");
    }
    expect(lines.join("")).toContain("[redacted]");
    // Error codes stay readable: only strings shaped like a secret are censored under `code`.
    expect(lines.find((l) => l.includes("an error with"))).toContain('"code":"ECONNRESET"');
  });

  it("keeps credentials of real requests out of the request logs", async () => {
    const session = await signUp(server);
    const me = await rawCall(server, "auth.me", {
      kind: "query",
      token: session.accessToken,
      headers: { cookie: "sid=cookie-value-0123456789" },
    });
    expect(me.status).toBe(200);
    expectNoSecretsInLogs(server.logs, [session.accessToken, session.refreshToken, "cookie-value-0123456789"]);
  });
});
