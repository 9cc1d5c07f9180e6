import { schema } from "@osmynt/db";
import { createOsmyntClient, generateHandshakeKeyPair, openSealedSession, SealedSessionError, toBase64url } from "@osmynt/sdk";
import { count, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { randomLogin, rawCall } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { followBrowser, refOf, retrieve, startHandshake } from "../helpers/github-flow.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { wsClient } from "../helpers/trpc.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

let fake: FakeGitHub;
let server: TestServer;
/** The same database and bus, without GitHub configured. */
let plain: TestServer;
const seen: string[] = [];

beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: { ...fake.env(), LOG_LEVEL: "debug" } });
  plain = await startServer({ shareDepsWith: server, env: { LOG_LEVEL: "debug" } });
});
afterAll(async () => {
  await plain?.close();
  await server?.close();
  await fake?.close();
});

const handshakeRow = async (id: string) => (await server.deps.db.select().from(schema.handshakes).where(eq(schema.handshakes.id, id)))[0];
/** Rows holding any of these public keys: other files' handshakes share the database on the services backend. */
const handshakesWith = async (keys: string[]) =>
  (await server.deps.db.select({ n: count() }).from(schema.handshakes).where(inArray(schema.handshakes.publicKey, keys)))[0]?.n ?? 0;
const init = (input: unknown, on: TestServer = server) => rawCall(on, "auth.handshake.init", { input });

type Sealed = { enc: string; ciphertext: string };

/** Subscribes to onComplete with a plain tRPC WebSocket client; `ended` settles when the server ends it. */
function onCompleteOf(ws: ReturnType<typeof wsClient>, input: unknown) {
  const data: { sealedSession: Sealed }[] = [];
  let sub: { unsubscribe(): void } | undefined;
  const ended = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("onComplete did not end within 10 s")), 10_000);
    sub = ws.client.auth.handshake.onComplete.subscribe(input as { handshakeId: string; retrievalSecret: string }, {
      onData: (d) => data.push(d),
      onError: (error) => {
        clearTimeout(timer);
        reject(error);
      },
      onComplete: () => {
        clearTimeout(timer);
        resolve();
      },
    });
  });
  ended.catch(() => {});
  return { data, ended, unsubscribe: () => sub?.unsubscribe() };
}

describe("auth.handshake.init", () => {
  it("answers a handshake id, the browser URL on this server, the user code, a retrieval secret and a 10-minute expiry, storing only the public key and the secret's hash", async () => {
    const { key, handshakeId, authorizeUrl, expiresAt, userCode, retrievalSecret } = await startHandshake(server);
    expect(handshakeId).toMatch(/^hs_[\w-]{20}$/);
    expect(authorizeUrl).toBe(`${server.url}/auth/github/start?handshake=${handshakeId}`);
    expect(userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(retrievalSecret).toMatch(/^osh_[\w-]{43}$/);
    expect(authorizeUrl).not.toContain(retrievalSecret);
    expect(authorizeUrl).not.toContain(userCode);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(9.5 * 60_000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    const row = await handshakeRow(handshakeId);
    expect(row).toMatchObject({
      publicKey: key.publicKey,
      status: "pending",
      stateHash: null,
      userId: null,
      failure: null,
      codeAttempts: 0,
    });
    expect(JSON.stringify(row)).not.toContain(retrievalSecret);
  });

  it("refuses a key that is not a P-256 point, and stores nothing", async () => {
    const valid = await generateHandshakeKeyPair();
    const raw = Uint8Array.from(Buffer.from(valid.publicKey, "base64url"));
    const offCurve = raw.slice();
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    const compressed = Uint8Array.from([2 + ((raw[64] ?? 0) & 1), ...raw.slice(1, 33)]);
    const sent = [toBase64url(offCurve), toBase64url(compressed), toBase64url(new Uint8Array(65)), `${valid.publicKey}=`, "A".repeat(201)];
    expectTrpcError(await init({ publicKey: sent[0] }), "BAD_REQUEST", /not a point on the P-256 curve/);
    expectTrpcError(await init({ publicKey: sent[1] }), "BAD_REQUEST", /uncompressed P-256 point \(65 bytes/);
    expectTrpcError(await init({ publicKey: sent[2] }), "BAD_REQUEST", /uncompressed P-256 point/);
    expectTrpcError(await init({ publicKey: sent[3] }), "BAD_REQUEST", /publicKey must be base64url/);
    expectTrpcError(await init({ publicKey: sent[4] }), "BAD_REQUEST", /publicKey is too long/);
    expectTrpcError(await init({ publicKey: "" }), "BAD_REQUEST", /publicKey is required/);
    expectTrpcError(await init({ publicKey: 42 }), "BAD_REQUEST", /publicKey/);
    expectTrpcError(await init({}), "BAD_REQUEST", /publicKey/);
    expectTrpcError(await init(null), "BAD_REQUEST", /input/);
    expect(await handshakesWith([...sent, "", valid.publicKey])).toBe(0);
  });

  it("is public: a caller's access token (valid or not) changes nothing", async () => {
    const key = await generateHandshakeKeyPair();
    const withJunk = await rawCall(server, "auth.handshake.init", { input: { publicKey: key.publicKey }, token: "not-a-token" });
    expect(withJunk.status, JSON.stringify(withJunk.body)).toBe(200);
  });
});

describe("the whole flow, driven over HTTP", () => {
  it("seals the session to the editor's key; retrieve hands it over once, then NOT_FOUND", async () => {
    const github = fake.addUser({
      login: randomLogin("gh"),
      name: "Mona Lisa",
      email: "mona@example.test",
      avatarUrl: "https://a.example/m.png",
    });
    const { key, handshakeId, authorizeUrl } = await startHandshake(server);
    expect((await retrieve(server, handshakeId)).body.result.data).toEqual({ status: "pending" });

    const { page, callbackUrl, github: authorize } = await followBrowser(authorizeUrl);
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain(`signed in as <strong>${github.login}</strong>`);
    expect(authorize?.searchParams.get("redirect_uri")).toBe(`${server.url}/auth/github/callback`);
    expect(authorize?.searchParams.get("scope")).toBe("read:user user:email");
    seen.push(new URL(callbackUrl ?? "").searchParams.get("code") ?? "", new URL(callbackUrl ?? "").searchParams.get("state") ?? "");

    const stored = await handshakeRow(handshakeId);
    expect(stored?.status).toBe("complete");
    expect(JSON.stringify(stored)).not.toMatch(/eyJ|osr_|gho_/);

    const first = await retrieve(server, handshakeId);
    expect(first.status).toBe(200);
    expect(first.body.result.data.status).toBe("complete");
    const session = await openSealedSession({ keyPair: key.keyPair, handshakeId, sealedSession: first.body.result.data.sealedSession });
    seen.push(session.accessToken, session.refreshToken);
    expect(session.user).toMatchObject({
      login: github.login,
      name: "Mona Lisa",
      email: "mona@example.test",
      avatarUrl: "https://a.example/m.png",
    });
    const me = await rawCall(server, "auth.me", { kind: "query", token: session.accessToken });
    expect(me.body.result.data.id).toBe(session.user.id);
    const sessions = await rawCall(server, "auth.sessions.list", { kind: "query", token: session.accessToken });
    expect(sessions.body.result.data.map((s: { method: string }) => s.method)).toEqual(["github"]);
    const teams = await rawCall(server, "teams.mine", { kind: "query", token: session.accessToken });
    expect(teams.body.result.data).toEqual([expect.objectContaining({ personal: true, myRole: "owner" })]);

    expectTrpcError(await retrieve(server, handshakeId), "NOT_FOUND", /already retrieved: a sealed session is handed over only once/);
    expect(await handshakeRow(handshakeId)).toMatchObject({ status: "retrieved" });
  });

  it("onComplete delivers the sealed session over a WebSocket as the browser finishes, then ends", async () => {
    fake.addUser({ login: randomLogin("gh") });
    const { key, handshakeId, authorizeUrl } = await startHandshake(server);
    const ws = wsClient(server, "");
    try {
      const received = onCompleteOf(ws, refOf(handshakeId));
      await new Promise((r) => setTimeout(r, 300));
      expect(received.data).toEqual([]);
      await followBrowser(authorizeUrl);
      await received.ended;
      expect(received.data).toHaveLength(1);
      const sealedSession = received.data[0]?.sealedSession ?? { enc: "", ciphertext: "" };
      const session = await openSealedSession({ keyPair: key.keyPair, handshakeId, sealedSession });
      seen.push(session.accessToken, session.refreshToken);
      expectTrpcError(await retrieve(server, handshakeId), "NOT_FOUND", /already retrieved/);
    } finally {
      ws.close();
    }
  });

  it("a sealed session does not open without the editor's private key, nor for another handshake", async () => {
    fake.addUser({ login: randomLogin("gh") });
    const { key, handshakeId, authorizeUrl } = await startHandshake(server);
    const other = await startHandshake(server);
    await followBrowser(authorizeUrl);
    const { sealedSession } = (await retrieve(server, handshakeId)).body.result.data;
    const stranger = await generateHandshakeKeyPair();
    await expect(openSealedSession({ keyPair: stranger.keyPair, handshakeId, sealedSession })).rejects.toThrow(SealedSessionError);
    await expect(openSealedSession({ keyPair: other.key.keyPair, handshakeId, sealedSession })).rejects.toThrow(/does not open/);
    // The right key, but the blob presented as another handshake's: the HPKE info binds it to its own.
    await expect(openSealedSession({ keyPair: key.keyPair, handshakeId: other.handshakeId, sealedSession })).rejects.toThrow(
      /does not open/,
    );
    const session = await openSealedSession({ keyPair: key.keyPair, handshakeId, sealedSession });
    seen.push(session.accessToken, session.refreshToken);
  });
});

describe("auth.handshake.retrieve and onComplete: bad input and unknown handshakes", () => {
  const bad: [string, unknown, RegExp][] = [
    ["no id", { retrievalSecret: "osh_x" }, /handshakeId/],
    ["an empty id", { handshakeId: "", retrievalSecret: "osh_x" }, /handshakeId is required/],
    ["a number", { handshakeId: 7, retrievalSecret: "osh_x" }, /handshakeId/],
    ["not a handshake id", { handshakeId: "ses_abc", retrievalSecret: "osh_x" }, /not a handshake id/],
    ["a too long id", { handshakeId: `hs_${"a".repeat(80)}`, retrievalSecret: "osh_x" }, /handshakeId is too long/],
    ["no retrieval secret", { handshakeId: "hs_abc" }, /retrievalSecret/],
    ["a malformed retrieval secret", { handshakeId: "hs_abc", retrievalSecret: "nope" }, /not a retrieval secret/],
  ];
  for (const [what, input, message] of bad) {
    it(`retrieve with ${what}: BAD_REQUEST`, async () => {
      expectTrpcError(await rawCall(server, "auth.handshake.retrieve", { input }), "BAD_REQUEST", message);
    });
    it(`onComplete with ${what}: BAD_REQUEST`, async () => {
      const ws = wsClient(server, "");
      try {
        const error = await onCompleteOf(ws, input).ended.then(
          () => null,
          (e) => e,
        );
        expect(error?.data?.code).toBe("BAD_REQUEST");
        expect(error?.message).toMatch(message);
      } finally {
        ws.close();
      }
    });
  }

  it("an unknown handshake: NOT_FOUND from both", async () => {
    expectTrpcError(await retrieve(server, "hs_doesNotExist000000000"), "NOT_FOUND", /not found, or the retrieval secret does not match/);
    const ws = wsClient(server, "");
    try {
      const error = await onCompleteOf(ws, refOf("hs_doesNotExist000000000")).ended.then(
        () => null,
        (e) => e,
      );
      expect(error?.data?.code).toBe("NOT_FOUND");
      expect(error?.message).toMatch(/not found, or the retrieval secret does not match/);
    } finally {
      ws.close();
    }
  });
});

describe("a server without GitHub configured", () => {
  it("refuses handshake init and token login with FORBIDDEN, and its browser routes say so", async () => {
    const key = await generateHandshakeKeyPair();
    expectTrpcError(await init({ publicKey: key.publicKey }, plain), "FORBIDDEN", /GitHub sign-in is not configured on this server/);
    const login = await rawCall(plain, "auth.loginWithGitHubToken", { input: { githubToken: fake.tokenFor("nobody") } });
    expectTrpcError(login, "FORBIDDEN", /GitHub sign-in is not configured/);
    for (const path of ["/auth/github/start?handshake=hs_x", "/auth/github/callback?code=a&state=b"]) {
      const page = await fetch(`${plain.url}${path}`, { redirect: "manual" });
      expect(page.status).toBe(404);
      expect(await page.text()).toContain("GitHub sign-in is not configured on this server.");
    }
  });
});

describe("the SDK's sign-in methods", () => {
  /** A WebSocket that never connects, like one a proxy blocks. */
  class BlockedWebSocket extends WebSocket {
    constructor(_url: string, protocols?: string | string[]) {
      super("ws://127.0.0.1:9/blocked", protocols);
    }
  }

  it("signInWithBrowser falls back to polling retrieve when the WebSocket cannot connect", async () => {
    const github = fake.addUser({ login: randomLogin("gh") });
    const client = createOsmyntClient({ url: server.url, WebSocket: BlockedWebSocket });
    try {
      const session = await client.signInWithBrowser({
        openUrl: async (url, code) => void (await followBrowser(url, "approve", code)),
        pollIntervalMs: 100,
      });
      seen.push(session.accessToken, session.refreshToken);
      expect(session.user.login).toBe(github.login);
      expect((await client.auth.me.query()).login).toBe(github.login);
      expect(server.logs.join("\n")).toContain("/trpc/auth.handshake.retrieve");
    } finally {
      await client.close();
    }
  });

  it("signInWithBrowser rejects with openUrl's error, and with the signal's reason when aborted", async () => {
    const client = createOsmyntClient({ url: server.url });
    try {
      await expect(
        client.signInWithBrowser({
          openUrl: () => {
            throw new Error("no browser on this machine");
          },
        }),
      ).rejects.toThrow("no browser on this machine");
      const controller = new AbortController();
      const waiting = client.signInWithBrowser({
        openUrl: () => controller.abort(new Error("the user cancelled")),
        signal: controller.signal,
      });
      await expect(waiting).rejects.toThrow("the user cancelled");
      expect(await client.getSession()).toBeNull();
    } finally {
      await client.close();
    }
  });

  it("signInWithGitHubToken stores the session; a refused token stores nothing", async () => {
    const github = fake.addUser({ login: randomLogin("gh") });
    const client = createOsmyntClient({ url: server.url });
    try {
      await expect(client.signInWithGitHubToken("gho_refusedrefusedrefusedrefused00")).rejects.toThrow(/GitHub did not accept the token/);
      expect(await client.getSession()).toBeNull();
      const session = await client.signInWithGitHubToken(fake.tokenFor(github.login));
      seen.push(session.accessToken, session.refreshToken);
      expect(await client.getSession()).toEqual(session);
      expect((await client.auth.me.query()).login).toBe(github.login);
    } finally {
      await client.close();
    }
  });
});

describe("logs", () => {
  it("hold no access, refresh or GitHub token, nor OAuth code or state", () => {
    expectNoSecretsInLogs([...server.logs, ...plain.logs], [...seen.filter(Boolean), ...fake.issuedTokens()]);
  });
});
