import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backend } from "../helpers/backend.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

async function getJson(path: string) {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: (await response.json()) as any };
}

describe("/health", () => {
  it("answers 200 with status, version, uptime, memory and cpu", async () => {
    const { status, body } = await getJson("/health");
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
    expect(typeof body.version).toBe("string");
    expect(Number.isInteger(body.uptimeSeconds)).toBe(true);
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(body.memory.rssBytes).toBeGreaterThan(0);
    expect(body.memory.heapUsedBytes).toBeGreaterThan(0);
    expect(body.cpu.userMicros).toBeGreaterThan(0);
  });

  it("uptime grows", async () => {
    const first = (await getJson("/health")).body.uptimeSeconds as number;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = (await getJson("/health")).body.uptimeSeconds as number;
    expect(second).toBeGreaterThanOrEqual(first);
    expect(second).toBeGreaterThan(0);
  });
});

describe("/ready", () => {
  it("answers 200 after really checking the database and the bus of this backend", async () => {
    const { status, body } = await getJson("/ready");
    expect(status).toBe(200);
    expect(body.status).toBe("ready");
    expect(body.failed).toBeUndefined();
    const expected = backend === "services" ? { database: "postgres", bus: "redis" } : { database: "pglite", bus: "memory" };
    expect(body.checks).toEqual({ database: { kind: expected.database, ok: true }, bus: { kind: expected.bus, ok: true } });
  });

  it("is not rate-limited and answers quickly under repeated probes", async () => {
    const started = Date.now();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => getJson("/ready").then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("other routes", () => {
  it("an unknown route outside /trpc is a 404, not a 500", async () => {
    const response = await fetch(`${server.url}/no-such-route`);
    expect(response.status).toBe(404);
  });
});
