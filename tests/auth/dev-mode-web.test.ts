import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { randomLogin, rawCall } from "../helpers/factories.js";
import { rowsForLogin } from "../helpers/rows.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

// The attacks of a web page open in the developer's browser, and of a DNS-rebinding domain,
// against a local development server (devLogin on), and of forwarded requests.
let local: TestServer;
let allowList: TestServer;
let proxied: TestServer;
beforeAll(async () => {
  local = await startServer();
  allowList = await startServer({ shareDepsWith: local, env: { CORS_ORIGINS: "https://app.example" } });
  proxied = await startServer({ shareDepsWith: local, env: { TRUST_PROXY: "1" } });
});
afterAll(async () => {
  await proxied?.close();
  await allowList?.close();
  await local?.close();
});

type Opened = { opened: true; socket: WebSocket } | { opened: false; status: number; body: string };

/** Opens a raw WebSocket as a browser page on `origin` would (a browser always sends its page's Origin). */
function openSocket(server: TestServer, headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(server.wsUrl, { headers });
    socket.once("open", () => resolve({ opened: true, socket }));
    socket.once("unexpected-response", (req, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => {
        // ws leaves a refused upgrade's request to whoever listens for it: let go of the socket.
        req.destroy();
        resolve({ opened: false, status: res.statusCode ?? 0, body });
      });
    });
    socket.once("error", reject);
  });
}

/** auth.devLogin over an open WebSocket, as tRPC's wire protocol carries it. */
function devLoginOver(socket: WebSocket, login: string): Promise<any> {
  return new Promise((resolve) => {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.id === 1) resolve(message);
    });
    socket.send(JSON.stringify({ id: 1, method: "mutation", params: { path: "auth.devLogin", input: { login } } }));
  });
}

/** A plain HTTP request with headers fetch() will not send (Host). */
function rawHttp(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ login: randomLogin("rebind") }));
  });
}

describe("WebSocket upgrades check Origin", () => {
  it("a page on a foreign origin cannot open one, so it cannot call devLogin through it", async () => {
    const login = randomLogin("evil");
    const result = await openSocket(local, { origin: "https://evil.example" });
    if (result.opened) {
      const answer = await devLoginOver(result.socket, login);
      result.socket.close();
      expect.fail(`the WebSocket opened from https://evil.example and devLogin answered ${JSON.stringify(answer).slice(0, 120)}`);
    }
    expect(result.status).toBe(403);
    expect(result.body).toMatch(/WebSocket connections from origin https:\/\/evil\.example are not allowed/);
    expect(await rowsForLogin(local, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("without CORS_ORIGINS: no Origin (editors, CLIs) and loopback pages are allowed", async () => {
    const cases: Record<string, string>[] = [{}, { origin: "http://localhost:5173" }, { origin: "http://127.0.0.1:3000" }];
    for (const headers of cases) {
      const result = await openSocket(local, headers);
      expect(result.opened, JSON.stringify(headers)).toBe(true);
      if (result.opened) {
        const answer = await devLoginOver(result.socket, randomLogin("ok"));
        expect(answer.result?.data?.accessToken).toBeTypeOf("string");
        result.socket.close();
      }
    }
  });

  it("with CORS_ORIGINS: only the listed origins (and none) may open one", async () => {
    const listed = await openSocket(allowList, { origin: "https://app.example" });
    expect(listed.opened).toBe(true);
    if (listed.opened) listed.socket.close();
    const none = await openSocket(allowList, {});
    expect(none.opened).toBe(true);
    if (none.opened) none.socket.close();
    for (const origin of ["https://evil.example", "http://localhost:5173", "null"]) {
      const refused = await openSocket(allowList, { origin });
      expect(refused.opened, origin).toBe(false);
      if (!refused.opened) expect(refused.status).toBe(403);
    }
  });
});

describe("local development mode serves loopback Host names only (DNS rebinding)", () => {
  it("a request for Host: rebind.attacker.example is refused, over HTTP and WebSocket", async () => {
    const { port } = new URL(local.url);
    const refused = await rawHttp(`${local.trpcUrl}/auth.devLogin`, { host: `rebind.attacker.example:${port}` });
    expect(refused.status, refused.body).toBe(403);
    expect(refused.body).toMatch(/answers only to loopback host names/);
    const ws = await openSocket(local, { host: `rebind.attacker.example:${port}` });
    expect(ws.opened).toBe(false);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const served = await rawHttp(`${local.trpcUrl}/auth.devLogin`, { host });
      expect(served.status, served.body).toBe(200);
    }
  });
});

describe("devLogin and proxies", () => {
  it("refuses a forwarded request even on a loopback server", async () => {
    const cases: Record<string, string>[] = [
      { "x-forwarded-for": "203.0.113.7" },
      { forwarded: "for=203.0.113.7" },
      { "x-real-ip": "203.0.113.7" },
    ];
    for (const headers of cases) {
      const login = randomLogin("fwd");
      expectTrpcError(await rawCall(local, "auth.devLogin", { input: { login }, headers }), "FORBIDDEN", /refuses forwarded requests/);
      expect(await rowsForLogin(local, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
    }
  });

  it("is off whenever TRUST_PROXY is set, forwarded or not", async () => {
    const cases: Record<string, string>[] = [{ "x-forwarded-for": "127.0.0.1" }, {}];
    for (const headers of cases) {
      const login = randomLogin("proxy");
      expectTrpcError(await rawCall(proxied, "auth.devLogin", { input: { login }, headers }), "FORBIDDEN", /TRUST_PROXY is set/);
      expect(await rowsForLogin(local, login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
    }
  });
});
