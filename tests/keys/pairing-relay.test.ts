import { randomBytes } from "node:crypto";
import { schema } from "@osmynt/db";
import { generateDeviceKeys, toBase64url } from "@osmynt/sdk/crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { wsClient } from "../helpers/trpc.js";
import { call, expectError, ok, register } from "./helpers.js";

// The relay on its own, driven with raw calls: who may take which step, in which order, until
// when, and how often. The SDK's pairing flows over it are in pairing.test.ts.

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { PAIRING_ATTEMPTS_PER_HOUR: "6" } });
});
afterAll(async () => {
  await server?.close();
});

const b64 = (n: number) => toBase64url(randomBytes(n));
const point = async () => (await generateDeviceKeys()).kemPublicKey as string;

async function request() {
  const n = await generateDeviceKeys();
  return {
    transactionId: b64(16),
    deviceId: n.deviceId,
    name: "new laptop",
    signingKey: n.signingPublicKey,
    kemKey: n.kemPublicKey as string,
    commitment: b64(32),
  };
}

/** A user with a registered device (E's session) and a second session of theirs (the new device N). */
async function account() {
  const e = await signUp(server, randomLogin("pair"));
  const registered = await register(server, e);
  const n = (await ok(rawCall(server, "auth.devLogin", { input: { login: e.user.login } }))) as TestSession;
  return { e, n, existing: registered.device };
}

async function started(a: Awaited<ReturnType<typeof account>>) {
  return ok(call(server, "keys.pairing.init", a.n, await request()));
}

async function throughRespond(a: Awaited<ReturnType<typeof account>>) {
  const p = await started(a);
  await ok(
    call(server, "keys.pairing.respond", a.e, { pairingId: p.pairingId, deviceId: a.existing.deviceId, ephemeralKey: await point() }),
  );
  return p;
}

describe("keys.pairing relay", () => {
  it("relays each step once, in order, and shows both sides everything so far", async () => {
    const a = await account();
    const req = await request();
    const p = await ok(call(server, "keys.pairing.init", a.n, req));
    expect(p).toMatchObject({ status: "initiated", request: req, response: null });
    expect(new Date(p.expiresAt).getTime() - new Date(p.createdAt).getTime()).toBeCloseTo(300_000, -3);
    expect((await ok(call(server, "keys.pairing.pending", a.e))).pairings).toMatchObject([
      { pairingId: p.pairingId, deviceId: req.deviceId, name: "new laptop" },
    ]);
    const xe = await point();
    const r = await ok(
      call(server, "keys.pairing.respond", a.e, { pairingId: p.pairingId, deviceId: a.existing.deviceId, ephemeralKey: xe }),
    );
    expect(r).toMatchObject({ status: "responded", response: { deviceId: a.existing.deviceId, ephemeralKey: xe } });
    expect((await ok(call(server, "keys.pairing.pending", a.e))).pairings).toEqual([]);
    const xn = await point();
    expect(await ok(call(server, "keys.pairing.reveal", a.n, { pairingId: p.pairingId, ephemeralKey: xn }))).toMatchObject({
      status: "revealed",
      reveal: { ephemeralKey: xn },
    });
    const macE = b64(32);
    await ok(call(server, "keys.pairing.confirm", a.e, { pairingId: p.pairingId, side: "existing", mac: macE, headSeq: 0 }));
    const confirmation = { mac: b64(32), reverseSignature: b64(64), createdAt: Date.now() };
    const done = await ok(call(server, "keys.pairing.confirm", a.n, { pairingId: p.pairingId, side: "new", ...confirmation }));
    expect(done).toMatchObject({ status: "confirmed", existingConfirmation: { mac: macE, headSeq: 0 }, newConfirmation: confirmation });
    expect(await ok(call(server, "keys.pairing.get", a.e, { pairingId: p.pairingId }))).toEqual(done);
  });

  it("refuses steps out of order or repeated, naming the status", async () => {
    const a = await account();
    const p = await started(a);
    expectError(
      await call(server, "keys.pairing.reveal", a.n, { pairingId: p.pairingId, ephemeralKey: await point() }),
      "PRECONDITION_FAILED",
      /is initiated, not responded/,
    );
    await ok(
      call(server, "keys.pairing.respond", a.e, { pairingId: p.pairingId, deviceId: a.existing.deviceId, ephemeralKey: await point() }),
    );
    const again = expectError(
      await call(server, "keys.pairing.respond", a.e, {
        pairingId: p.pairingId,
        deviceId: a.existing.deviceId,
        ephemeralKey: await point(),
      }),
      "PRECONDITION_FAILED",
    );
    expect(again.data.details).toMatchObject({ status: "responded", reason: "wrong_step" });
  });

  it("lets each side take only its own steps", async () => {
    const a = await account();
    const p = await started(a);
    // the new device cannot answer its own request (it has no active device of the account)
    expectError(
      await call(server, "keys.pairing.respond", a.n, {
        pairingId: p.pairingId,
        deviceId: a.existing.deviceId,
        ephemeralKey: await point(),
      }),
      "FORBIDDEN",
      /cannot answer its own pairing request/,
    );
    await ok(
      call(server, "keys.pairing.respond", a.e, { pairingId: p.pairingId, deviceId: a.existing.deviceId, ephemeralKey: await point() }),
    );
    expectError(
      await call(server, "keys.pairing.reveal", a.e, { pairingId: p.pairingId, ephemeralKey: await point() }),
      "FORBIDDEN",
      /new device/,
    );
    // a third session of the same user cannot take over the existing side
    const third = (await ok(rawCall(server, "auth.devLogin", { input: { login: a.e.user.login } }))) as TestSession;
    await ok(call(server, "keys.pairing.reveal", a.n, { pairingId: p.pairingId, ephemeralKey: await point() }));
    expectError(
      await call(server, "keys.pairing.confirm", third, { pairingId: p.pairingId, side: "existing", mac: b64(32), headSeq: 0 }),
      "FORBIDDEN",
      /Only the device that answered/,
    );
  });

  it("accepts an answer only from an active device of the account", async () => {
    const a = await account();
    const p = await started(a);
    const stranger = await generateDeviceKeys();
    expectError(
      await call(server, "keys.pairing.respond", a.e, { pairingId: p.pairingId, deviceId: stranger.deviceId, ephemeralKey: await point() }),
      "FORBIDDEN",
      /not an active device/,
    );
  });

  it("hides another user's pairings (NOT_FOUND), and answers UNAUTHORIZED without a session", async () => {
    const a = await account();
    const p = await started(a);
    const other = await account();
    for (const [path, input] of [
      ["keys.pairing.get", { pairingId: p.pairingId }],
      ["keys.pairing.respond", { pairingId: p.pairingId, deviceId: other.existing.deviceId, ephemeralKey: await point() }],
      ["keys.pairing.reveal", { pairingId: p.pairingId, ephemeralKey: await point() }],
      ["keys.pairing.confirm", { pairingId: p.pairingId, side: "existing", mac: b64(32), headSeq: 0 }],
      ["keys.pairing.abort", { pairingId: p.pairingId, reason: "cancelled" }],
    ] as const) {
      expectError(await call(server, path, other.e, input), "NOT_FOUND", /Pairing .* not found/);
      expectError(await call(server, path, null, input), "UNAUTHORIZED");
    }
    expect((await ok(call(server, "keys.pairing.pending", other.e))).pairings).toEqual([]);
    expectError(await call(server, "keys.pairing.init", null, await request()), "UNAUTHORIZED");
    expectError(await call(server, "keys.pairing.pending", null), "UNAUTHORIZED");
    expect((await ok(call(server, "keys.pairing.get", a.e, { pairingId: p.pairingId }))).status).toBe("initiated");
  });

  it("refuses bad keys and malformed messages with clear errors", async () => {
    const a = await account();
    const p384 = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, true, ["deriveBits"]);
    const wrongCurve = toBase64url(new Uint8Array(await crypto.subtle.exportKey("raw", p384.publicKey)));
    expectError(await call(server, "keys.pairing.init", a.n, { ...(await request()), kemKey: wrongCurve }), "BAD_REQUEST", /P-384/);
    expectError(
      await call(server, "keys.pairing.init", a.n, {
        ...(await request()),
        signingKey: toBase64url(Uint8Array.from([4, ...randomBytes(64)])),
      }),
      "BAD_REQUEST",
      /not a point on the P-256 curve/,
    );
    expectError(
      await call(server, "keys.pairing.init", a.n, { ...(await request()), commitment: "x".repeat(500) }),
      "BAD_REQUEST",
      /commitment is too long/,
    );
    const p = await started(a);
    expectError(
      await call(server, "keys.pairing.respond", a.e, { pairingId: p.pairingId, deviceId: a.existing.deviceId, ephemeralKey: "!!" }),
      "BAD_REQUEST",
      /base64url/,
    );
    expectError(await call(server, "keys.pairing.get", a.e, { pairingId: "nope" }), "BAD_REQUEST", /not a pairing id/);
    expectError(await call(server, "keys.pairing.abort", a.e, { pairingId: p.pairingId, reason: "because" }), "BAD_REQUEST", /reason/);
  });

  it("refuses to pair into an account without a registered device", async () => {
    const fresh = await signUp(server, randomLogin("nodev"));
    expectError(await call(server, "keys.pairing.init", fresh, await request()), "PRECONDITION_FAILED", /keys.register/);
  });

  it("refuses every step of an expired pairing", async () => {
    const a = await account();
    const p = await throughRespond(a);
    await server.deps.db
      .update(schema.pairings)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.pairings.id, p.pairingId));
    const error = expectError(
      await call(server, "keys.pairing.reveal", a.n, { pairingId: p.pairingId, ephemeralKey: await point() }),
      "PRECONDITION_FAILED",
      /expired/,
    );
    expect(error.data.details.reason).toBe("expired");
    expect((await ok(call(server, "keys.pairing.pending", a.e))).pairings).toEqual([]);
  });

  it("aborts from either side; the other side's next step hears why", async () => {
    const a = await account();
    const p = await throughRespond(a);
    const aborted = await ok(call(server, "keys.pairing.abort", a.e, { pairingId: p.pairingId, reason: "code_mismatch" }));
    expect(aborted).toMatchObject({ status: "aborted", abortReason: "code_mismatch" });
    expectError(
      await call(server, "keys.pairing.reveal", a.n, { pairingId: p.pairingId, ephemeralKey: await point() }),
      "PRECONDITION_FAILED",
      /aborted \(code_mismatch\)/,
    );
    // aborting again changes nothing
    expect((await ok(call(server, "keys.pairing.abort", a.n, { pairingId: p.pairingId, reason: "cancelled" }))).abortReason).toBe(
      "code_mismatch",
    );
  });

  it("limits pairings in progress and pairings started per hour (PAIRING_ATTEMPTS_PER_HOUR)", async () => {
    const a = await account();
    const open = [await started(a), await started(a), await started(a)];
    const tooMany = expectError(await call(server, "keys.pairing.init", a.n, await request()), "TOO_MANY_REQUESTS", /at most 3 at a time/);
    expect(tooMany.data.details.limit).toBe(3);
    for (const p of open) await ok(call(server, "keys.pairing.abort", a.n, { pairingId: p.pairingId, reason: "cancelled" }));
    for (let i = 0; i < 3; i++) await started(a);
    expectError(await call(server, "keys.pairing.init", a.n, await request()), "TOO_MANY_REQUESTS", /at most 6 an hour/);
    // another user is not affected
    await started(await account());
  });

  it("keys.pairing.onUpdate streams each step and ends when the pairing ends", async () => {
    const a = await account();
    const p = await started(a);
    const ws = wsClient(server, a.n.accessToken);
    try {
      const seen: string[] = [];
      let completed = false;
      const sub = ws.client.keys.pairing.onUpdate.subscribe(
        { pairingId: p.pairingId },
        { onData: (d) => seen.push(d.status), onComplete: () => (completed = true) },
      );
      await until(() => seen.length === 1);
      await ok(
        call(server, "keys.pairing.respond", a.e, { pairingId: p.pairingId, deviceId: a.existing.deviceId, ephemeralKey: await point() }),
      );
      await until(() => seen.includes("responded"));
      await ok(call(server, "keys.pairing.abort", a.e, { pairingId: p.pairingId, reason: "cancelled" }));
      await until(() => completed);
      expect(seen).toEqual(["initiated", "responded", "aborted"]);
      sub.unsubscribe();

      const theirs = await started(await account());
      let refused: unknown;
      ws.client.keys.pairing.onUpdate.subscribe({ pairingId: theirs.pairingId }, { onError: (e) => (refused = e) });
      await until(() => refused !== undefined);
      expect(String(refused)).toMatch(/Pairing .* not found/);
    } finally {
      ws.close();
    }
  });

  it("keys.pairing.onUpdate ends an expired pairing with PRECONDITION_FAILED", async () => {
    const a = await account();
    const p = await started(a);
    await server.deps.db
      .update(schema.pairings)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.pairings.id, p.pairingId));
    const ws = wsClient(server, a.n.accessToken);
    try {
      let refused: any;
      ws.client.keys.pairing.onUpdate.subscribe({ pairingId: p.pairingId }, { onError: (e) => (refused = e) });
      await until(() => refused !== undefined);
      expect(refused.data?.code).toBe("PRECONDITION_FAILED");
      expect(String(refused.message)).toMatch(/expired/);
    } finally {
      ws.close();
    }
  });
});

async function until(predicate: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}
