import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { RATE_LIMIT_PER_MINUTE: "5" } });
});
afterAll(async () => {
  await server?.close();
});

describe("rate limiting", () => {
  it("answers TOO_MANY_REQUESTS in tRPC's shape past the per-minute limit, and health stays reachable", async () => {
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await rawCall(server, "auth.me", { kind: "query" }));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expectTrpcError(
      answers[5] as { status: number; body: unknown },
      "TOO_MANY_REQUESTS",
      /Too many requests: at most 5 a minute; retry in \d+ s/,
    );
    expect(answers[6]?.status).toBe(429);
    // Probes are exempt so a load balancer never marks a busy instance dead.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });
});
