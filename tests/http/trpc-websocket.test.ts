import { describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { rawWs } from "../helpers/raw-ws.js";
import { startServer } from "../helpers/server.js";

// /trpc upgrades are served by the engine's own `ws` server (server/src/http/trpc-websocket.ts).
describe("the /trpc WebSocket endpoint", () => {
  it("a plain GET without an upgrade is answered 404; an upgrade to another path is not served", async () => {
    const server = await startServer();
    try {
      expect((await fetch(`${server.url}/trpc`)).status).toBe(404);
      await expect(rawWs({ ...server, wsUrl: `${server.url.replace("http", "ws")}/trpc-other` })).rejects.toThrow(/404/);
    } finally {
      await server.close();
    }
  });

  it("on a graceful shutdown, tells every client to reconnect, then closes with 1012", async () => {
    const server = await startServer();
    const login = await fetch(`${server.trpcUrl}/auth.devLogin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ login: randomLogin("shutdown") }),
    });
    const token = ((await login.json()) as any).result.data.accessToken as string;
    const client = await rawWs(server, { token });
    expect((await client.call("auth.me")).result).toBeDefined();
    const notified = client.next();
    const closed = new Promise<number>((resolve) => client.ws.once("close", (code) => resolve(code)));
    await server.close();
    expect(await notified).toEqual({ id: null, method: "reconnect" });
    expect(await closed).toBe(1012);
  });
});
