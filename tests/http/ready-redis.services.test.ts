import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp } from "../helpers/factories.js";
import { freePort } from "../helpers/ports.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

/**
 * A throwaway Redis that this file stops and restarts on the same port, so the outage is real and
 * touches nobody else's Redis. Services backend only (the embedded bus has no Redis).
 */
let port: number;
let redis: ChildProcess | null = null;
let server: TestServer;

function canConnect(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function startRedis() {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
    {
      stdio: "ignore",
    },
  );
  child.once("error", (error) => {
    throw new Error(`could not start redis-server: ${error.message}`);
  });
  redis = child;
  await waitFor(`redis-server on port ${port}`, async () => (await canConnect()) || child.exitCode !== null, { timeoutMs: 10_000 });
  if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (port ${port} taken?)`);
}

async function stopRedis() {
  const child = redis;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
  redis = null;
}

async function ready() {
  const response = await fetch(`${server.url}/ready`);
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
});

afterAll(async () => {
  // Close the server while its Redis is reachable, so its connections say goodbye cleanly.
  if (!redis && port) await startRedis().catch(() => {});
  await server?.close();
  await stopRedis();
});

describe("/ready follows the bus through a Redis outage", () => {
  it("503 naming the bus while Redis is down, auth keeps working, 200 again by itself after a restart", async () => {
    const up = await waitFor("/ready 200 with the private Redis", async () => {
      const r = await ready();
      return r.status === 200 ? r : undefined;
    });
    expect(up.value.body.checks.bus).toEqual({ kind: "redis", ok: true });

    await stopRedis();
    const down = await waitFor(
      "/ready 503 after Redis stopped",
      async () => {
        const r = await ready();
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 10_000 },
    );
    console.log(`/ready turned 503 ${down.elapsedMs} ms after Redis was killed`);
    expect(down.value.body).toMatchObject({ status: "unavailable", failed: ["bus"], message: "not ready: bus unreachable" });
    expect(down.value.body.checks.database).toEqual({ kind: "postgres", ok: true });
    expect(down.value.body.checks.bus.ok).toBe(false);
    expect(down.value.body.checks.bus.error).toMatch(/redis/i);

    // The database is the source of truth: signing in, reading and signing out need no bus.
    const session = await signUp(server);
    const me = await rawCall(server, "auth.me", { kind: "query", token: session.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.result.data.id).toBe(session.user.id);
    const refreshed = await rawCall(server, "auth.refresh", { input: { refreshToken: session.refreshToken } });
    expect(refreshed.status).toBe(200);
    const logout = await rawCall(server, "auth.logout", { token: refreshed.body.result.data.accessToken });
    expect(logout.status).toBe(200);
    expect((await ready()).status).toBe(503);

    const restartedAt = Date.now();
    await startRedis();
    const back = await waitFor(
      "/ready 200 after Redis came back",
      async () => {
        const r = await ready();
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 20_000 },
    );
    console.log(`/ready returned to 200 ${Date.now() - restartedAt} ms after redis-server was started again`);
    expect(back.value.body.checks).toEqual({ database: { kind: "postgres", ok: true }, bus: { kind: "redis", ok: true } });
    expect((await signUp(server)).user.id).toMatch(/^usr_/);
  }, 60_000);
});
