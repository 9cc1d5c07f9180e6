import { openSealedSession } from "@osmynt/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backend } from "../helpers/backend.js";
import { randomLogin, rawCall, signUp } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { followBrowser, refOf, startHandshake } from "../helpers/github-flow.js";
import { startServer, type TestServer } from "../helpers/server.js";

// Anonymous load: waiting for a handshake must cost no query per subscriber, and one client
// must not be able to pile up subscriptions or connections.
const ANONYMOUS_PER_IP = 8;
let fake: FakeGitHub;
let server: TestServer;
/** Same database, no GitHub: devLogin makes the bystander whose latency is measured. */
let local: TestServer;
beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: { ...fake.env(), WS_MAX_ANONYMOUS_PER_IP: String(ANONYMOUS_PER_IP) } });
  local = await startServer({ shareDepsWith: server });
});
afterAll(async () => {
  await local?.close();
  await server?.close();
  await fake?.close();
});

interface Answer {
  id: number;
  result?: { type: string; data?: unknown };
  error?: { message: string; data?: { code?: string } };
}

/** A raw anonymous tRPC WebSocket: send subscriptions, collect every answer by id. */
async function anonymousSocket(target: TestServer) {
  const socket = new WebSocket(target.wsUrl);
  const answers: Answer[] = [];
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    if (typeof message.id === "number") answers.push(message);
  });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const subscribe = (id: number, input: unknown) =>
    socket.send(JSON.stringify({ id, method: "subscription", params: { path: "auth.handshake.onComplete", input } }));
  return { socket, answers, closed, subscribe };
}

const refusedIds = (answers: Answer[]) => new Set(answers.filter((a) => a.error?.data?.code === "TOO_MANY_REQUESTS").map((a) => a.id));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function medianMeLatency(token: string, samples = 40): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const me = await rawCall(server, "auth.me", { kind: "query", token });
    times.push(performance.now() - started);
    expect(me.status).toBe(200);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

describe("waiting for a handshake", () => {
  it("2,000 subscriptions from one client: all but a few refused with TOO_MANY_REQUESTS; other users' latency is measured", async () => {
    const bystander = await signUp(local);
    const idle = await medianMeLatency(bystander.accessToken);
    const attacker = await startHandshake(server);
    const ws = await anonymousSocket(server);
    try {
      for (let id = 1; id <= 2000; id++) ws.subscribe(id, refOf(attacker.handshakeId));
      // Every refusal is an answer; the accepted few just wait.
      const deadline = Date.now() + 20_000;
      while (refusedIds(ws.answers).size < 1990 && Date.now() < deadline) await sleep(100);
      const refused = refusedIds(ws.answers);
      const accepted = 2000 - refused.size;
      await sleep(1000);
      const underLoad = await medianMeLatency(bystander.accessToken);
      console.log(
        `[handshake-load ${backend}] 2000 onComplete subscriptions on one connection: ${accepted} waiting, ${refused.size} refused; ` +
          `auth.me median ${idle.toFixed(1)} ms idle, ${underLoad.toFixed(1)} ms with the subscriptions waiting (${(underLoad / idle).toFixed(2)}×)`,
      );
      const reasons = new Map<string, number>();
      for (const a of ws.answers) if (a.error) reasons.set(a.error.message, (reasons.get(a.error.message) ?? 0) + 1);
      console.log(`[handshake-load ${backend}] refusals: ${JSON.stringify(Object.fromEntries(reasons))}`);
      expect(accepted).toBeLessThanOrEqual(4);
      expect(refused.size).toBeGreaterThanOrEqual(1996);
      expect(ws.answers.find((a) => a.error && refused.has(a.id))?.error?.message).toMatch(/too many/);
    } finally {
      ws.socket.terminate();
    }
  });

  it("caps waiters per connection (4), across handshakes", async () => {
    const handshakes = await Promise.all(Array.from({ length: 6 }, () => startHandshake(server)));
    const ws = await anonymousSocket(server);
    try {
      handshakes.forEach((h, i) => {
        ws.subscribe(i + 1, refOf(h.handshakeId));
      });
      await sleep(1000);
      const refused = refusedIds(ws.answers);
      expect(refused.size).toBe(2);
      expect(ws.answers.find((a) => a.error && refused.has(a.id))?.error?.message).toMatch(
        /sign-in subscriptions on this connection \(at most 4\)/,
      );
    } finally {
      ws.socket.terminate();
    }
  });

  it("caps waiters per handshake across connections", async () => {
    const editor = await startHandshake(server);
    const sockets = await Promise.all([anonymousSocket(server), anonymousSocket(server), anonymousSocket(server)]);
    try {
      for (const s of sockets) s.subscribe(1, refOf(editor.handshakeId));
      await sleep(1000);
      const refused = sockets.filter((s) => refusedIds(s.answers).has(1)).length;
      expect(refused).toBe(1);
    } finally {
      for (const s of sockets) s.socket.terminate();
    }
  });

  it(`caps anonymous connections per address (${ANONYMOUS_PER_IP}); the next ones are refused`, async () => {
    const editor = await startHandshake(server);
    const sockets = [];
    try {
      for (let i = 0; i < ANONYMOUS_PER_IP + 3; i++) sockets.push(await anonymousSocket(server));
      for (const s of sockets) s.subscribe(1, refOf(editor.handshakeId));
      await sleep(1000);
      const over = sockets.slice(ANONYMOUS_PER_IP);
      for (const s of over) expect(refusedIds(s.answers).has(1)).toBe(true);
      expect(over.every((s) => s.answers.some((a) => /too many connections without an access token/.test(a.error?.message ?? "")))).toBe(
        true,
      );
      expect(await over[0]?.closed).toBe(4429);
    } finally {
      for (const s of sockets) s.socket.terminate();
    }
  });

  it.runIf(backend === "services")(
    "a waiter on one instance wakes when the browser finishes through another (through the bus)",
    async () => {
      const other = await startServer({ env: fake.env() });
      try {
        fake.addUser({ login: randomLogin("gh") });
        const editor = await startHandshake(server);
        const ws = await anonymousSocket(other);
        ws.subscribe(1, refOf(editor.handshakeId));
        await sleep(300);
        await followBrowser(editor.authorizeUrl);
        const deadline = Date.now() + 5000;
        while (!ws.answers.some((a) => a.result?.type === "data") && Date.now() < deadline) await sleep(50);
        const data = ws.answers.find((a) => a.result?.type === "data")?.result?.data as {
          sealedSession: { enc: string; ciphertext: string };
        };
        const session = await openSealedSession({
          keyPair: editor.key.keyPair,
          handshakeId: editor.handshakeId,
          sealedSession: data.sealedSession,
        });
        expect(session.accessToken).toBeTypeOf("string");
        ws.socket.terminate();
      } finally {
        await other.close();
      }
    },
  );
});
