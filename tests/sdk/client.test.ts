import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type AppRouter,
  createOsmyntClient,
  fileSessionStore,
  memorySessionStore,
  type OsmyntClient,
  type RouterInputs,
  type RouterOutputs,
  type Session,
  type SessionStore,
} from "@osmynt/sdk";
import type { AppRouter as ServerRouter } from "@osmynt/server";
import { isTRPCClientError } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// Checked by `pnpm typecheck`: the router the SDK rebuilds from its generated description gives
// callers the same inputs and outputs as the server's own router type would.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameInputs: Same<RouterInputs, inferRouterInputs<ServerRouter>> = true;
const sameOutputs: Same<RouterOutputs, inferRouterOutputs<ServerRouter>> = true;
void [sameInputs, sameOutputs];

let server: TestServer;
const clients: OsmyntClient[] = [];
beforeAll(async () => {
  // The shortest access token the server allows, so one test can outlive it for real.
  server = await startServer({ env: { ACCESS_TOKEN_TTL_SECONDS: "30" } });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server?.close();
});

/** A store that counts its writes: each refresh writes exactly one new session. */
function countingStore(initial: Session | null) {
  const inner = memorySessionStore(initial);
  const counter = { writes: 0 };
  const store: SessionStore = {
    get: () => inner.get(),
    set: (session) => {
      counter.writes++;
      return inner.set(session);
    },
  };
  return { store, counter, current: () => inner.get() as Session | null };
}

function client(options: { session?: SessionStore } = {}): OsmyntClient {
  const c = createOsmyntClient({ url: server.url, ...options });
  clients.push(c);
  return c;
}

const past = () => new Date(Date.now() - 1_000).toISOString();

describe("sign-in and calls", () => {
  it("signs in with devLogin, keeps the session and reads me", async () => {
    const login = randomLogin("sdk");
    const c = client();
    const session = await c.signInWithDevLogin(login);
    expect(session.user.login).toBe(login);
    expect(await c.getSession()).toEqual(session);
    const me = await c.auth.me.query();
    expect(me).toMatchObject({ id: session.user.id, login });
  });

  it("rejects invalid input with the server's zod issues in error.data", async () => {
    const error = await client()
      .auth.devLogin.mutate({ login: "-not-a-login-" })
      .catch((e: unknown) => e);
    expect(isTRPCClientError<AppRouter>(error)).toBe(true);
    if (!isTRPCClientError<AppRouter>(error)) return;
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.data?.zodError?.[0]?.path).toEqual(["login"]);
  });

  it("signs out: the server ends the session and the client forgets it", async () => {
    const c = client();
    const session = await c.signInWithDevLogin(randomLogin("sdk"));
    await c.signOut();
    expect(await c.getSession()).toBeNull();
    const me = await rawCall(server, "auth.me", { kind: "query", token: session.accessToken });
    expect(me.status).toBe(401);
  });
});

describe("access token refresh", () => {
  it("refreshes before a call when the stored access token has expired", async () => {
    const session = await signUp(server);
    const { store, counter, current } = countingStore({ ...session, accessTokenExpiresAt: past() });
    const me = await client({ session: store }).auth.me.query();
    expect(me.id).toBe(session.user.id);
    expect(counter.writes).toBe(1);
    expect(current()?.refreshToken).not.toBe(session.refreshToken);
    expect(Date.parse(current()?.accessTokenExpiresAt ?? "")).toBeGreaterThan(Date.now());
  });

  it("refreshes once and retries when the server refuses the access token", async () => {
    const session = await signUp(server);
    const { store, counter, current } = countingStore({ ...session, accessToken: "refused.by.server" });
    const me = await client({ session: store }).auth.me.query();
    expect(me.id).toBe(session.user.id);
    expect(counter.writes).toBe(1);
    expect(current()?.accessToken).not.toBe("refused.by.server");
  });

  it.each([
    ["expired before the calls", (s: Session) => ({ ...s, accessTokenExpiresAt: past() })],
    ["refused by the server", (s: Session) => ({ ...s, accessToken: "refused.by.server" })],
  ])("shares one refresh among 5 concurrent calls (token %s) and the session survives", async (_, tamper) => {
    const session = await signUp(server);
    const { store, counter } = countingStore(tamper(session));
    const c = client({ session: store });
    const results = await Promise.all([
      c.auth.me.query(),
      c.auth.me.query(),
      c.auth.sessions.list.query(),
      c.auth.me.query(),
      c.auth.me.query(),
    ]);
    expect(results.filter((r) => !Array.isArray(r)).map((r) => (r as { id: string }).id)).toEqual(Array(4).fill(session.user.id));
    expect(counter.writes).toBe(1);
    // A second refresh with the rotated-away token would have revoked the session: it is still active.
    const sessions = await c.auth.sessions.list.query();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.current).toBe(true);
  });

  it("outlives a real 30 s access token, proactively and after a refusal", { timeout: 90_000 }, async () => {
    const ahead = countingStore(await signUp(server));
    // This one believes its token is good for an hour; only the server knows it has expired.
    const refused = await signUp(server);
    const believer = countingStore({ ...refused, accessTokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const expiry = Math.max(Date.parse(ahead.current()?.accessTokenExpiresAt ?? ""), Date.parse(refused.accessTokenExpiresAt));
    await new Promise((resolve) => setTimeout(resolve, expiry - Date.now() + 1_500));
    expect((await rawCall(server, "auth.me", { kind: "query", token: refused.accessToken })).status).toBe(401);

    await expect(client({ session: ahead.store }).auth.me.query()).resolves.toMatchObject({ login: expect.any(String) });
    await expect(client({ session: believer.store }).auth.me.query()).resolves.toMatchObject({ id: refused.user.id });
    expect([ahead.counter.writes, believer.counter.writes]).toEqual([1, 1]);
  });

  it("forgets a session whose refresh token no longer works, and says UNAUTHORIZED", async () => {
    const session = await signUp(server);
    expect((await rawCall(server, "auth.logout", { token: session.accessToken })).status).toBe(200);
    const { store, current } = countingStore({ ...session, accessTokenExpiresAt: past() });
    const error = await client({ session: store })
      .auth.me.query()
      .catch((e: unknown) => e);
    expect(isTRPCClientError(error) && error.data?.code).toBe("UNAUTHORIZED");
    expect(current()).toBeNull();
  });
});

describe("subscriptions", () => {
  it("receives tracked events over the WebSocket, authenticated by the stored session", async () => {
    const login = randomLogin("sdk");
    const c = client();
    await c.signInWithDevLogin(login);
    const other = await signUp(server, login);
    const otherSessionId = (await c.auth.sessions.list.query()).find((s) => !s.current)?.id;
    expect(otherSessionId).toBeDefined();

    type StreamEvent = RouterOutputs["events"]["subscribe"] extends AsyncIterable<infer E> ? E : never;
    const events: StreamEvent[] = [];
    let started = false;
    const subscription = c.events.subscribe.subscribe(undefined, {
      onStarted: () => {
        started = true;
      },
      onData: (event) => {
        events.push(event);
      },
    });
    await waitFor("the subscription to start", async () => started);
    expect(c.connectionState.get().state).toBe("pending");

    await c.auth.sessions.revoke.mutate({ sessionId: otherSessionId as string });
    const { value } = await waitFor("the session.revoked event", async () =>
      events.find((e) => e.data.type === "session.revoked" && e.data.payload.sessionId === otherSessionId),
    );
    expect(value.id).toMatch(/^\d+$/);
    expect((await rawCall(server, "auth.me", { kind: "query", token: other.accessToken })).status).toBe(401);
    subscription.unsubscribe();
  });
});

describe("fileSessionStore", () => {
  it("keeps the session in an owner-only file and removes it on sign-out", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "osmynt-store-"));
    try {
      const file = path.join(dir, "nested", "session.json");
      const store = fileSessionStore(file);
      expect(await store.get()).toBeNull();
      const session = await signUp(server);
      await store.set(session);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await fileSessionStore(file).get()).toEqual(session);
      await store.set(null);
      expect(await store.get()).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
