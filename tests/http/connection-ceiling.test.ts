import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { randomLogin, type TestSession } from "../helpers/factories.js";
import { rawWs } from "../helpers/raw-ws.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const CEILING = 4;
let server: TestServer;
let session: TestSession;

/** One request on a connection of its own (no keep-alive pool), so the test knows how many are open. */
function get(path: string, token?: string, post?: unknown): Promise<{ status: number; body: any; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        agent: false,
        method: post === undefined ? "GET" : "POST",
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(post === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), connection: res.headers.connection }));
      },
    );
    req.on("error", reject);
    req.end(post === undefined ? undefined : JSON.stringify(post));
  });
}

function openConnections(): Promise<number> {
  return new Promise((resolve, reject) => server.app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
}

beforeAll(async () => {
  server = await startServer({ env: { MAX_CONNECTIONS: String(CEILING) } });
  session = (await get("/trpc/auth.devLogin", undefined, { login: randomLogin("ceiling") })).body.result.data;
  await waitFor("no connection open", async () => (await openConnections()) === 0);
});
afterAll(async () => {
  await server?.close();
});

describe("MAX_CONNECTIONS", () => {
  it("past the ceiling: HTTP 503 and WebSocket refused with a reason; open connections and probes keep working", async () => {
    const held = await Promise.all(Array.from({ length: CEILING }, () => rawWs(server, { token: session.accessToken })));
    expect(await openConnections()).toBe(CEILING);

    const refused = await get("/trpc/auth.me", session.accessToken);
    expect(refused.status).toBe(503);
    expect(refused.connection).toBe("close");
    expect(refused.body.error.data.code).toBe("SERVICE_UNAVAILABLE");
    expect(refused.body.error.message).toMatch(/connection ceiling \(MAX_CONNECTIONS=4\)/);

    // An orchestrator's probes are answered even then: a busy instance is not a dead one.
    const health = await get("/health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
    expect((await get("/ready")).status).toBe(200);

    const ws = new WebSocket(server.wsUrl);
    ws.on("error", () => {}); // the refusal itself, read below
    const upgrade = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.on("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on("open", () => reject(new Error("a WebSocket opened past the ceiling")));
    });
    expect(upgrade.status).toBe(503);
    expect(upgrade.body).toMatch(/MAX_CONNECTIONS=4/);

    // The connections already open are untouched.
    for (const c of held) {
      const answer = await c.call("auth.me");
      expect(answer.result?.data?.id).toBe(session.user.id);
    }

    // Room again once one closes.
    held[0]?.close();
    await waitFor("a connection below the ceiling", async () => (await openConnections()) < CEILING);
    const again = await get("/trpc/auth.me", session.accessToken);
    expect(again.status).toBe(200);
    for (const c of held.slice(1)) c.close();
  });

  it("/health reads no file: its memory figure is a sample taken on a timer", async () => {
    const health = await get("/health");
    expect(health.status).toBe(200);
    expect(health.body.memory.rssBytes).toBeGreaterThan(0);
    expect(Date.parse(health.body.memory.sampledAt)).toBeGreaterThan(0);
  });
});
