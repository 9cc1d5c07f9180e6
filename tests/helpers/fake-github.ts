import { randomBytes, randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeGitHubUser {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
  avatarUrl: string | null;
}

/** How the fake answers: normally, HTTP 503, never (to test timeouts), or GitHub's 200-with-error. */
export type FakeMode = "ok" | "5xx" | "hang" | "error200";

const CLIENT_ID = "fake-client-id";
const CLIENT_SECRET = "fake-client-secret-0123456789";

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/html; charset=utf-8" : "application/json", ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

/**
 * A GitHub on 127.0.0.1 over real HTTP, enough for sign-in: the authorize page (Approve and Deny
 * links, or `decision=` in the URL), the code exchange, `/api/user` and `/api/user/emails`.
 * It hands out `gho_…` tokens and remembers them, so tests can search logs for each one.
 */
export async function startFakeGitHub() {
  const users = new Map<string, FakeGitHubUser>();
  const codes = new Map<string, { login: string; redirectUri: string | null }>();
  const tokens = new Map<string, string>();
  const modes = { token: "ok" as FakeMode, user: "ok" as FakeMode };
  let approveAs: string | null = null;
  // Requests the fake leaves unanswered ("hang"), so tests can see whether the engine let go of them.
  const hung = new Set<IncomingMessage>();
  const hang = (req: IncomingMessage) => {
    hung.add(req);
    req.socket.once("close", () => hung.delete(req));
  };
  // GitHub ids are unique in the engine's database, which test files share on the services backend.
  let nextId = randomInt(1, 2 ** 40);

  const issueToken = (login: string) => {
    const token = `gho_${randomBytes(18).toString("hex")}`;
    tokens.set(token, login);
    return token;
  };
  const userOf = (req: IncomingMessage) => {
    const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const login = token ? tokens.get(token) : undefined;
    return login ? users.get(login) : undefined;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const q = url.searchParams;

    if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
      const redirect = q.get("redirect_uri");
      if (q.get("client_id") !== CLIENT_ID || !redirect) return send(res, 400, "<h1>bad client_id or no redirect_uri</h1>");
      const decision = q.get("decision");
      const back = new URL(redirect);
      back.searchParams.set("state", q.get("state") ?? "");
      if (decision === "deny") {
        back.searchParams.set("error", "access_denied");
        back.searchParams.set("error_description", "The user has denied your application access.");
        return send(res, 302, "", { location: back.toString() });
      }
      if (decision === "approve" && approveAs) {
        const code = randomBytes(10).toString("hex");
        codes.set(code, { login: approveAs, redirectUri: redirect });
        back.searchParams.set("code", code);
        return send(res, 302, "", { location: back.toString() });
      }
      const link = (d: string) => {
        const next = new URL(url);
        next.searchParams.set("decision", d);
        return `${next.pathname}${next.search}`.replace(/&/g, "&amp;");
      };
      return send(
        res,
        200,
        `<!doctype html><title>Authorize</title><h1>Authorize Osmynt as ${approveAs ?? "nobody"}</h1>` +
          `<p>Scopes: ${q.get("scope") ?? ""}</p><a id="approve" href="${link("approve")}">Approve</a> <a id="deny" href="${link("deny")}">Deny</a>`,
      );
    }

    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      const form = new URLSearchParams(await readBody(req));
      if (modes.token === "hang") return hang(req);
      if (modes.token === "5xx") return send(res, 503, { message: "unicorn" });
      const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`;
      if (req.headers.authorization !== basic) return send(res, 200, { error: "incorrect_client_credentials" });
      const grant = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      if (modes.token === "error200" || !grant || grant.redirectUri !== form.get("redirect_uri")) {
        return send(res, 200, {
          error: "bad_verification_code",
          error_description: "The code passed is incorrect or expired.",
          error_uri: "https://docs.github.com/apps/troubleshooting",
        });
      }
      return send(res, 200, { access_token: issueToken(grant.login), token_type: "bearer", scope: "read:user,user:email" });
    }

    if (req.method === "GET" && (url.pathname === "/api/user" || url.pathname === "/api/user/emails")) {
      if (modes.user === "hang") return hang(req);
      if (modes.user === "5xx") return send(res, 502, { message: "Server Error" });
      const user = userOf(req);
      if (!user) return send(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
      if (url.pathname === "/api/user/emails")
        return send(res, 200, user.email ? [{ email: user.email, primary: true, verified: true, visibility: "private" }] : []);
      return send(res, 200, { id: user.id, login: user.login, name: user.name, email: null, avatar_url: user.avatarUrl });
    }
    send(res, 404, { message: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    modes,
    /** Unanswered ("hang") requests whose socket the client still holds open. */
    hungOpen: () => hung.size,
    /** Every token this fake handed out: none of them may ever appear in the engine's logs. */
    issuedTokens: () => [...tokens.keys()],
    /** Adds a GitHub user; the authorize page approves as the latest one added (or `approveAs`). */
    addUser(user: Partial<FakeGitHubUser> & { login: string }): FakeGitHubUser {
      const full = { id: nextId++, name: null, email: null, avatarUrl: null, ...user };
      users.set(full.login, full);
      approveAs = full.login;
      return full;
    },
    approveAs(login: string) {
      approveAs = login;
    },
    /** A token for `login`, as `gh auth token` would print it. */
    tokenFor: (login: string) => issueToken(login),
    /** The environment that points an engine at this GitHub. */
    env: (extra: Record<string, string> = {}) => ({
      GITHUB_CLIENT_ID: CLIENT_ID,
      GITHUB_CLIENT_SECRET: CLIENT_SECRET,
      GITHUB_OAUTH_URL: url,
      GITHUB_API_URL: `${url}/api`,
      ...extra,
    }),
    reset() {
      modes.token = "ok";
      modes.user = "ok";
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type FakeGitHub = Awaited<ReturnType<typeof startFakeGitHub>>;
