import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { backend } from "../helpers/backend.js";
import { rawCall, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { collect, wsClient } from "../helpers/trpc.js";

const TOKEN = "metrics-token-0123456789abcdef";
let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    env: {
      METRICS_TOKEN: TOKEN,
      RATE_LIMIT_SIGN_IN_PER_MINUTE: "3",
      // A rate-limit namespace of its own: other files' sign-ins counted in Redis cannot spend this budget.
      REDIS_CHANNEL_PREFIX: `${inject("redisPrefix")}-metrics`,
    },
  });
});
afterAll(async () => {
  await server?.close();
});

/** The value of one series (name and exact labels) in a Prometheus text scrape; undefined when absent. */
function value(scrape: string, series: string): number | undefined {
  const line = scrape.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics after a scripted workload", () => {
  it("is refused without the bearer token", async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
  });

  it("shows every series with plausible values", async () => {
    const alice = await signUp(server);
    const team = await rawCall(server, "teams.create", { input: { name: "metrics" }, token: alice.accessToken });
    const teamId = team.body.result.data.id as string;
    const c = wsClient(server, alice.accessToken);
    const sub = collect((h) => c.client.events.subscribe.subscribe(undefined, h));
    await sub.until(() => sub.checkpoints > 0, 30_000);
    for (let i = 0; i < 3; i++) {
      const renamed = await rawCall(server, "teams.rename", { input: { teamId, name: `metrics ${i}` }, token: alice.accessToken });
      expect(renamed.status).toBe(200);
    }
    await sub.until(() => sub.events.filter((e) => e.type === "team.renamed").length >= 3, 30_000);
    expect((await rawCall(server, "auth.me", { kind: "query" })).status).toBe(401);
    // The sign-in budget is 3 a minute: alice used one; the fourth is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await rawCall(server, "auth.devLogin", { input: { login: `metrics-${i}` } })).status);
    expect(statuses).toContain(429);

    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    const scrape = await response.text();
    const db = backend === "services" ? "postgres" : "pglite";
    const bus = backend === "services" ? "redis" : "memory";

    expect(value(scrape, 'osmynt_trpc_call_duration_seconds_count{procedure="teams.rename",type="mutation",outcome="ok"}')).toBe(3);
    expect(value(scrape, 'osmynt_trpc_call_duration_seconds_count{procedure="auth.me",type="query",outcome="UNAUTHORIZED"}')).toBe(1);
    expect(
      value(scrape, 'osmynt_trpc_call_duration_seconds_count{procedure="auth.devLogin",type="mutation",outcome="TOO_MANY_REQUESTS"}'),
    ).toBeGreaterThanOrEqual(1);
    const renameSeconds =
      value(scrape, 'osmynt_trpc_call_duration_seconds_sum{procedure="teams.rename",type="mutation",outcome="ok"}') ?? -1;
    expect(renameSeconds).toBeGreaterThan(0);
    expect(renameSeconds).toBeLessThan(60);
    expect(value(scrape, "osmynt_websockets_open")).toBe(1);
    expect(value(scrape, "osmynt_subscriptions_open")).toBe(1);
    expect(value(scrape, "osmynt_connections_open")).toBeGreaterThanOrEqual(2); // the WebSocket and this scrape
    // teams.create writes the owner's join; each rename one event.
    expect(value(scrape, "osmynt_events_appended_total")).toBeGreaterThanOrEqual(4);
    expect(value(scrape, "osmynt_events_delivered_total")).toBeGreaterThanOrEqual(3);
    const lagCount = value(scrape, "osmynt_event_delivery_lag_seconds_count") ?? 0;
    expect(lagCount).toBe(value(scrape, "osmynt_events_delivered_total"));
    expect((value(scrape, "osmynt_event_delivery_lag_seconds_sum") ?? -1) / lagCount).toBeLessThan(30);
    expect(value(scrape, `osmynt_bus_up{kind="${bus}"}`)).toBe(1);
    expect(value(scrape, `osmynt_db_pool_size{kind="${db}"}`)).toBe(backend === "services" ? 5 : 1);
    expect(value(scrape, `osmynt_db_pool_in_use{kind="${db}"}`)).toBeGreaterThanOrEqual(0);
    expect(value(scrape, `osmynt_db_pool_waiting{kind="${db}"}`)).toBe(0);
    expect(value(scrape, 'osmynt_rate_limit_rejections_total{budget="procedure:signIn"}')).toBeGreaterThanOrEqual(1);
    expect(scrape).toMatch(/osmynt_http_request_duration_seconds_count\{method="POST",route="\/trpc\/:path",status="200"\} \d+/);
    expect(value(scrape, "osmynt_process_resident_memory_bytes")).toBeGreaterThan(0);

    sub.unsubscribe();
    c.close();
  });
});
