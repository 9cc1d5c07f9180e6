import { connect } from "node:net";
import { loadConfig } from "@osmynt/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { emitUserEvents } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, sseClient, wsClient } from "../helpers/trpc.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { REQUEST_TIMEOUT_MS: "1000", HEADERS_TIMEOUT_MS: "1000" } });
});
afterAll(async () => {
  await server?.close();
});

/**
 * Sends `head` at once, then `drip` one byte every 200 ms (a slowloris client) until the server
 * closes the connection or `giveUpMs` passes. Resolves with what the server answered and when.
 */
function slowClient(head: string, drip: string, giveUpMs = 8000): Promise<{ answer: string; closedAfterMs: number | null }> {
  const port = Number(new URL(server.url).port);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    let i = 0;
    const timer = setInterval(() => {
      if (i < drip.length && !socket.destroyed) socket.write(drip[i++] ?? "");
    }, 200);
    const done = (closedAfterMs: number | null) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ answer, closedAfterMs });
    };
    const giveUp = setTimeout(() => done(null), giveUpMs);
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8");
    });
    socket.on("close", () => done(Date.now() - started));
    socket.on("error", () => {});
    socket.write(head);
  });
}

describe("request timeouts", () => {
  it("a request body sent one byte at a time is cut off with 408 once REQUEST_TIMEOUT_MS has passed", async () => {
    const body = JSON.stringify({ name: "slow".padEnd(60, "w") });
    const head = `POST /trpc/teams.create HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const { answer, closedAfterMs } = await slowClient(head, body);
    expect(closedAfterMs, "the server never closed the slow request").not.toBeNull();
    // The timeout (1 s) plus Node's check interval, far below the ~14 s the body takes to drip in.
    expect(closedAfterMs).toBeLessThan(4000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("headers sent one byte at a time are cut off too", async () => {
    const { answer, closedAfterMs } = await slowClient(
      "",
      "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
    );
    expect(closedAfterMs, "the server never closed the slow request").not.toBeNull();
    expect(closedAfterMs).toBeLessThan(4000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("long-lived event streams (WebSocket and SSE) are not cut by the request timeout", async () => {
    const user = await signUp(server);
    const ws = wsClient(server, user.accessToken);
    const overWs = collect((h) => ws.client.events.subscribe.subscribe(undefined, h));
    const overSse = collect((h) => sseClient(server, user.accessToken).events.subscribe.subscribe(undefined, h));
    await new Promise((r) => setTimeout(r, 2500));
    await emitUserEvents(server, user.user.id, 1);
    await overWs.until(() => overWs.events.length === 1);
    await overSse.until(() => overSse.events.length === 1);
    expect([...overWs.errors, ...overSse.errors]).toEqual([]);
    overWs.unsubscribe();
    overSse.unsubscribe();
    ws.close();
  });
});

describe("timeout settings", () => {
  it("default to 30 s for a request and 10 s for its headers, and refuse headers given longer than the whole", () => {
    expect(loadConfig({}).timeouts).toEqual({ requestMs: 30_000, headersMs: 10_000 });
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: "2000", HEADERS_TIMEOUT_MS: "5000" })).toThrow(
      /HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/,
    );
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: "0" })).toThrow(/REQUEST_TIMEOUT_MS/);
  });
});
