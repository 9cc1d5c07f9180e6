import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { signUp } from "../helpers/factories.js";
import { emitUserEvents } from "../helpers/load.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, wsClient } from "../helpers/trpc.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { WS_MAX_BUFFERED_BYTES: "65536" } });
});
afterAll(async () => {
  await server?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("backpressure", () => {
  it("disconnects a consumer that stops reading, with a reason, and it resumes cleanly with lastEventId", async () => {
    const user = await signUp(server);
    // A raw tRPC WebSocket client speaking the wire protocol, so the test can stop reading.
    const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const received: { id: string; n: number }[] = [];
    let closeCode = 0;
    let closeReason = "";
    ws.on("message", (raw) => {
      // tRPC's keep-alive: on a loaded machine the flood below can take longer than its 25 s.
      if (String(raw) === "PING") return ws.send("PONG");
      const msg = JSON.parse(String(raw));
      if (msg.result?.type === "data" && msg.result.data.data.type !== "sync.checkpoint")
        received.push({ id: msg.result.id, n: msg.result.data.data.payload.n });
    });
    ws.on("close", (code, reason) => {
      closeCode = code;
      closeReason = String(reason);
    });
    ws.send(JSON.stringify({ method: "connectionParams", data: { token: user.accessToken } }));
    ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "events.subscribe", input: {} } }));
    await sleep(300);

    // Stop reading at the TCP level; the server's send buffer for this socket then grows.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const total = 20_000;
    await emitUserEvents(server, user.user.id, total, 500, "flood");
    await sleep(1500);
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.resume();
    const deadline = Date.now() + 20_000;
    while (closeCode === 0 && Date.now() < deadline) await sleep(50);

    expect(closeCode).toBe(4408);
    expect(closeReason).toMatch(/slow consumer/);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(total);
    const ids = received.map((r) => Number(r.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    // Resume where it stopped: the rest arrives, nothing twice.
    const last = received.at(-1)?.id;
    const client = wsClient(server, user.accessToken);
    const rest = collect((h) => client.client.events.subscribe.subscribe({ lastEventId: last }, h));
    await rest.until(() => received.length + rest.events.length >= total, 60_000);
    const all = [...received.map((r) => r.n), ...rest.events.map((e) => e.payload.n as number)];
    expect(all).toHaveLength(total);
    // n counts within each batch of 500, so check completeness via the ids' ordering and count.
    const allIds = [...ids, ...rest.events.map((e) => Number(e.id))];
    expect(new Set(allIds).size).toBe(total);
    expect([...allIds].sort((a, b) => a - b)).toEqual(allIds);
    rest.unsubscribe();
    client.close();
  });
});
