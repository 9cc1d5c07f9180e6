import { randomBytes } from "node:crypto";
import type { AppRouter } from "@osmynt/server";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { LOG_LEVEL: "debug" } });
});
afterAll(async () => {
  await server?.close();
});

async function ok(path: string, who: TestSession, input: unknown): Promise<any> {
  const answer = await rawCall(server, path, { input, token: who.accessToken });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.result.data;
}

async function invite(owner: TestSession, teamName: string, options: Record<string, unknown> = {}) {
  const team = await ok("teams.create", owner, { name: teamName });
  const created = await ok("teams.invites.create", owner, { teamId: team.id, ...options });
  return { team, ...created } as { team: { id: string }; inviteId: string; token: string; url: string; expiresAt: string };
}

async function open(url: string) {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, html: await response.text() };
}

function expectLockedDown(answer: { headers: Headers }) {
  const csp = answer.headers.get("content-security-policy") ?? "";
  expect(csp).toMatch(/default-src 'none'/);
  expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
  expect(csp).not.toMatch(/unsafe-inline|script-src/);
  expect(csp).toMatch(/frame-ancestors 'none'/);
  expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(answer.headers.get("cache-control")).toBe("no-store");
  expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
}

/** The text of the page, as a person reads it. */
function text(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

const INVALID = /This invite link cannot be used/;

describe("the invite page", () => {
  it("is linked at the address the server was reached on, over HTTP and over WebSocket (the server listens on port 0 here)", async () => {
    const owner = await signUp(server);
    const overHttp = await invite(owner, "Linked Team");
    expect(overHttp.url).toBe(`${server.url}/invite/${overHttp.token}`);
    const ws = createWSClient({
      url: server.wsUrl,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: () => ({ token: owner.accessToken }),
    });
    try {
      const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
      const overWs = await client.teams.invites.create.mutate({ teamId: overHttp.team.id });
      expect(overWs.url).toBe(`${server.url}/invite/${overWs.token}`);
      expect((await open(overWs.url)).status).toBe(200);
    } finally {
      ws.close();
    }
  });

  it("opens from the invite URL: team, inviter, role, expiry, and how to join from the editor, the CLI and a script", async () => {
    const owner = await signUp(server);
    const { url, token, expiresAt } = await invite(owner, "Platform Team", { role: "admin" });
    expect(url.endsWith(`/invite/${token}`)).toBe(true);
    const answer = await open(`${server.url}/invite/${token}`);
    expect(answer.status).toBe(200);
    expectLockedDown(answer);
    const shown = text(answer.html);
    expect(shown).toMatch(/Join Platform Team on Osmynt/);
    expect(shown).toContain(`${owner.user.name} (@${owner.user.login}) invited you to join Platform Team as an admin`);
    expect(answer.html).toContain(`datetime="${expiresAt}"`);
    expect(shown).toMatch(/expires on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(shown).toContain(`osmynt teams join '${server.url}/invite/${token}'`);
    expect(shown).toContain(`POST /api/v1/teams/invites/accept`);
    expect(shown).toContain(JSON.stringify({ token }));
    expect(shown).toMatch(/Join team/);
    // The page is a way in, not the way: the invite is still unspent.
    const joiner = await signUp(server);
    const joined = await ok("teams.invites.accept", joiner, { token: `${server.url}/invite/${token}` });
    expect(joined.joined).toBe(true);
  });

  it("escapes what users wrote: a team name with markup is shown as text", async () => {
    const owner = await signUp(server);
    const name = `<script>alert("x")</script> & 'co'`;
    const { token } = await invite(owner, name);
    const answer = await open(`${server.url}/invite/${token}`);
    expect(answer.status).toBe(200);
    expect(answer.html).not.toContain("<script>");
    expect(answer.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;");
    expect(text(answer.html)).toContain(`Join ${name} on Osmynt`);
  });

  it("shows one plain page for unknown, malformed, expired, revoked, used-up and deleted-team invites, revealing nothing", async () => {
    const owner = await signUp(server);
    const revoked = await invite(owner, "Revoked Team");
    await ok("teams.invites.revoke", owner, { teamId: revoked.team.id, inviteId: revoked.inviteId });
    const usedUp = await invite(owner, "Used Team", { maxUses: 1 });
    await ok("teams.invites.accept", await signUp(server), { token: usedUp.token });
    const deleted = await invite(owner, "Deleted Team");
    await ok("teams.delete", owner, { teamId: deleted.team.id });
    const expired = await invite(owner, "Expired Team", { expiresInHours: 0.0003 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const unknown = `osi_${"A".repeat(43)}`;

    const cases = [revoked.token, usedUp.token, deleted.token, expired.token, unknown, "not-a-token", encodeURIComponent("<b>x</b>")];
    const pages = [];
    for (const token of cases) pages.push(await open(`${server.url}/invite/${token}`));
    for (const page of pages) {
      expect(page.status).toBe(404);
      expectLockedDown(page);
      expect(text(page.html)).toMatch(INVALID);
      expect(page.html).not.toMatch(/Team|osi_|<b>/);
    }
    // The same bytes whatever the reason: a token's fate is not told to whoever holds it.
    expect(new Set(pages.map((p) => p.html)).size).toBe(1);
  });

  it("keeps invite tokens out of the logs", async () => {
    const owner = await signUp(server);
    const { token } = await invite(owner, "Quiet Team");
    await open(`${server.url}/invite/${token}`);
    await open(`${server.url}/invite/${token}?utm=x`);
    expect(server.logs.some((line) => line.includes("/invite/[redacted]"))).toBe(true);
    expectNoSecretsInLogs(server.logs, [token, owner.accessToken, owner.refreshToken]);
  });
});

describe("the invite page under load", () => {
  let limited: TestServer;
  beforeAll(async () => {
    // A Redis prefix of its own (services backend): other files' servers share the address 127.0.0.1.
    limited = await startServer({
      env: { RATE_LIMIT_INVITE_ACCEPT_PER_MINUTE: "3", REDIS_CHANNEL_PREFIX: `rl-${randomBytes(4).toString("hex")}` },
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it("is rate limited per address, answering a plain page that says when to retry", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await open(`${limited.url}/invite/osi_${"B".repeat(43)}`));
    expect(statuses.slice(0, 3).map((s) => s.status)).toEqual([404, 404, 404]);
    const last = statuses[3] as Awaited<ReturnType<typeof open>>;
    expect(last.status).toBe(429);
    expectLockedDown(last);
    expect(text(last.html)).toMatch(/At most 3 invite pages a minute from one address; retry in \d+ s/);
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
