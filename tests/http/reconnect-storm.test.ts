import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { rawWs } from "../helpers/raw-ws.js";
import { startServer, type TestServer } from "../helpers/server.js";

const CLIENTS = 2_000;
const PER_USER = 1_000;
let server: TestServer;
let tokens: string[];

async function devLogin(login: string): Promise<string> {
  const res = await fetch(`${server.trpcUrl}/auth.devLogin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login }),
  });
  return ((await res.json()) as any).result.data.accessToken;
}

/** Every client opens its WebSocket at once, authenticates and makes one call; the failures, by reason. */
async function storm(): Promise<{ open: Awaited<ReturnType<typeof rawWs>>[]; failures: string[] }> {
  const results = await Promise.allSettled(
    tokens.map(async (token) => {
      const client = await rawWs(server, { token });
      const answer = await client.call("auth.me");
      if (!answer.result) {
        client.close();
        throw new Error(`auth.me answered ${JSON.stringify(answer.error?.message)}`);
      }
      return client;
    }),
  );
  const open = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error)?.message ?? r.reason)] : []));
  return { open, failures };
}

beforeAll(async () => {
  server = await startServer({ env: { WS_MAX_CONNECTIONS_PER_USER: String(PER_USER) } });
  const users = await Promise.all(Array.from({ length: CLIENTS / PER_USER }, () => devLogin(randomLogin("storm"))));
  tokens = Array.from({ length: CLIENTS }, (_, i) => users[i % users.length] as string);
});
afterAll(async () => {
  await server?.close();
});

// Under load the slowloris guard (HEADERS_TIMEOUT_MS) once answered upgrades of a reconnect storm
// with 408; every client of a storm must get its connection (the defaults otherwise).
describe("a reconnect storm", () => {
  it(`${CLIENTS} clients connecting at once, twice: none refused`, { timeout: 240_000 }, async () => {
    const first = await storm();
    expect(first.failures.slice(0, 5)).toEqual([]);
    expect(first.open).toHaveLength(CLIENTS);
    for (const client of first.open) client.ws.terminate();

    const again = await storm();
    expect(again.failures.slice(0, 5)).toEqual([]);
    expect(again.open).toHaveLength(CLIENTS);
    for (const client of again.open) client.close();
  });
});
