import { createOsmyntClient, memorySessionStore, type OsmyntEvent } from "@osmynt/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { signUp } from "../helpers/factories.js";
import { emitUserEvents, loadOf } from "../helpers/load.js";
import { startServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server.js";
import { resignAccessToken } from "../helpers/tokens.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LIFETIME_S = 3;

/** A real access token of the session that expires `seconds` from now (same secret, same claims). */
async function shortLived(accessToken: string, seconds: number) {
  const exp = Math.floor(Date.now() / 1000) + seconds;
  return { token: await resignAccessToken(accessToken, { secret: TEST_JWT_SECRET, exp }), expiresAt: new Date(exp * 1000) };
}

/** A raw tRPC WebSocket authenticated with `token` in connectionParams, and `auth.me` over it. */
async function openAuthed(token: string) {
  const socket = new WebSocket(`${server.wsUrl}?connectionParams=1`);
  const closed = new Promise<{ code: number; at: number }>((resolve) => socket.once("close", (code) => resolve({ code, at: Date.now() })));
  const pending = new Map<number, (message: any) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    pending.get(message.id)?.(message);
  });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  socket.send(JSON.stringify({ method: "connectionParams", data: { token } }));
  let next = 1;
  const me = () =>
    new Promise<any>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method: "query", params: { path: "auth.me" } }));
    });
  return { socket, closed, me };
}

describe("a WebSocket is authorized for the lifetime of its access token", () => {
  it("is closed with 4401 when the token it opened with expires (no calls succeed past expiry)", async () => {
    const session = await signUp(server);
    const { token, expiresAt } = await shortLived(session.accessToken, LIFETIME_S);
    const ws = await openAuthed(token);
    try {
      expect((await ws.me()).result?.data?.id).toBe(session.user.id);
      const outcome = await Promise.race([ws.closed, sleep(LIFETIME_S * 1000 + 2500).then(() => null)]);
      if (outcome === null) {
        const late = await ws.me();
        expect.fail(`the WebSocket is still open ${LIFETIME_S + 2.5} s after its token expired; auth.me answered ${JSON.stringify(late)}`);
      }
      expect(outcome.code).toBe(4401);
      expect(outcome.at).toBeGreaterThanOrEqual(expiresAt.getTime() - 50);
      // Over HTTP the same token is refused too: both transports agree.
      const http = await fetch(`${server.trpcUrl}/auth.me`, { headers: { authorization: `Bearer ${token}` } });
      expect(http.status).toBe(401);
    } finally {
      ws.socket.terminate();
    }
  });

  it("the SDK reconnects with a refreshed token and its event stream resumes without loss or repeats", async () => {
    const session = await signUp(server);
    const { token, expiresAt } = await shortLived(session.accessToken, LIFETIME_S);
    const client = createOsmyntClient({
      url: server.url,
      session: memorySessionStore({ ...session, accessToken: token, accessTokenExpiresAt: expiresAt.toISOString() }),
    });
    const closes: number[] = [];
    const stopWatching = client.onConnectionStatus((status) => {
      if (status.state === "reconnecting") closes.push(Date.now());
    });
    try {
      const stream = client.events();
      await stream.ready;
      const seen: OsmyntEvent[] = [];
      const collect = (async () => {
        for await (const event of stream) {
          seen.push(event);
          if (seen.length === 30) break;
        }
      })();
      await emitUserEvents(server, session.user.id, 10, 1, "before");
      // Events keep coming while the server closes the socket at expiry and the SDK comes back.
      for (let i = 0; i < 10; i++) {
        await emitUserEvents(server, session.user.id, 1, 1, `around${i}`);
        await sleep(400);
      }
      await emitUserEvents(server, session.user.id, 10, 1, "after");
      await Promise.race([collect, sleep(15_000).then(() => Promise.reject(new Error(`only ${seen.length} of 30 events arrived`)))]);
      expect(seen.map((e) => `${loadOf(e).tag}${loadOf(e).tag === "before" || loadOf(e).tag === "after" ? loadOf(e).n : ""}`)).toEqual([
        ...Array.from({ length: 10 }, (_, n) => `before${n}`),
        ...Array.from({ length: 10 }, (_, n) => `around${n}`),
        ...Array.from({ length: 10 }, (_, n) => `after${n}`),
      ]);
      expect(closes.length, "the server closed the WebSocket at token expiry").toBeGreaterThanOrEqual(1);
      const stored = await client.getSession();
      expect(stored?.accessToken).not.toBe(token);
      expect((await client.auth.me.query()).id).toBe(session.user.id);
    } finally {
      stopWatching();
      await client.close();
    }
  });
});
