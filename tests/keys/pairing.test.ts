import { randomBytes } from "node:crypto";
import { schema } from "@osmynt/db";
import { createDevices, createOsmyntClient, type Devices, memorySessionStore, type OsmyntClient, PairingAbortedError } from "@osmynt/sdk";
import { generateDeviceKeys, memoryKeyStore, PairingError } from "@osmynt/sdk/crypto";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { startTamperingProxy, type Tamper } from "../helpers/tampering-proxy.js";
import { join } from "../teams/helpers.js";
import { call, expectError, ok } from "./helpers.js";

// Pairing a new device through a real server, with both sides run by the SDK: the happy path, a
// relay that tampers with messages, a wrong code, an expired pairing, and a flood.

let server: TestServer;
let proxy: Awaited<ReturnType<typeof startTamperingProxy>>;
const clients: OsmyntClient[] = [];
beforeAll(async () => {
  // A budget of its own (its own Redis prefix on the services backend): counts are shared through
  // Redis, and other files' pairings in the same minute must not spend this one's 40.
  server = await startServer({
    env: { RATE_LIMIT_PAIRING_PER_MINUTE: "40", REDIS_CHANNEL_PREFIX: `pairing-${randomBytes(4).toString("hex")}` },
  });
  proxy = await startTamperingProxy(server.url);
});
afterEach(() => proxy.setTamper((_p, d) => d));
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  await server?.close();
});

function sdk(session: TestSession, url = server.url): Devices {
  const client = createOsmyntClient({ url, session: memorySessionStore(session) });
  clients.push(client);
  return createDevices(client, { keyStore: memoryKeyStore() });
}

/** Alice with one registered device (E), and a second sign-in of hers on a new machine (N). */
async function alice(options: { newDeviceVia?: string; existingVia?: string } = {}) {
  const e = await signUp(server, randomLogin("alice"));
  const existing = sdk(e, options.existingVia);
  await existing.register({ name: "laptop" });
  const n = (await ok(rawCall(server, "auth.devLogin", { input: { login: e.user.login } }))) as TestSession;
  return { e, n, existing, fresh: sdk(n, options.newDeviceVia) };
}

/** Runs both sides; the user reads the code on N and types `typed(code)` on E. */
async function pair(a: Awaited<ReturnType<typeof alice>>, typed: (code: string) => string = (c) => c) {
  let shown: string | undefined;
  const waitForCode = async () => {
    while (!shown) await new Promise((r) => setTimeout(r, 20));
    return shown;
  };
  const [n, e] = await Promise.allSettled([
    a.fresh.pairNewDevice({
      name: "desktop",
      showCode: (code) => {
        shown = code;
      },
      pollMs: 50,
    }),
    a.existing.approveNewDevice({ enterCode: async () => typed(await waitForCode()), pollMs: 50 }),
  ]);
  return { n, e, shown };
}

async function deviceCount(userId: string) {
  return (await server.deps.db.select().from(schema.devices).where(eq(schema.devices.userId, userId))).length;
}

describe("pairing a new device", () => {
  it("adds the new device to the same identity; a teammate trusts it without a warning", async () => {
    const a = await alice();
    const bob = await signUp(server, randomLogin("bob"));
    const team = await ok(call(server, "teams.create", a.e, { name: `pair ${randomLogin("t")}` }));
    await join(server, team.id, a.e, bob);
    const bobSdk = sdk(bob);
    await bobSdk.register();
    const before = await bobSdk.logOf(a.e.user.id);

    const { n, e, shown } = await pair(a);
    expect(n.status, String((n as PromiseRejectedResult).reason)).toBe("fulfilled");
    expect(e.status, String((e as PromiseRejectedResult).reason)).toBe("fulfilled");
    expect(shown).toMatch(/^\d{4} \d{4}$/);
    const added = (n as PromiseFulfilledResult<{ deviceId: string; fingerprint: string }>).value;
    expect(added.fingerprint).toBe(before.state.fingerprint);
    expect((e as PromiseFulfilledResult<{ deviceId: string }>).value.deviceId).toBe(added.deviceId);

    const after = await bobSdk.logOf(a.e.user.id);
    expect(after.state.devices.map((d) => [d.name, d.status])).toEqual([
      ["laptop", "active"],
      ["desktop", "active"],
    ]);
    expect((await bobSdk.recipientsForTeam(team.id)).filter((r) => r.userId === a.e.user.id).map((r) => r.deviceId)).toContain(
      added.deviceId,
    );
    // the new device can now act on the log itself
    await a.fresh.rotate();
    expect(
      (await ok(call(server, "keys.pairing.get", a.e, { pairingId: (n as PromiseFulfilledResult<{ pairingId: string }>).value.pairingId })))
        .status,
    ).toBe("completed");
  });

  it("aborts on a wrong code: nothing is added and both sides hear why", async () => {
    const a = await alice();
    const { n, e } = await pair(a, (code) => (code.startsWith("0") ? `1${code.slice(1)}` : `0${code.slice(1)}`));
    expect(e.status).toBe("rejected");
    expect((e as PromiseRejectedResult).reason).toBeInstanceOf(PairingError);
    expect((e as PromiseRejectedResult).reason.reason).toBe("code_mismatch");
    expect(n.status).toBe("rejected");
    expect((n as PromiseRejectedResult).reason).toBeInstanceOf(PairingAbortedError);
    expect(String((n as PromiseRejectedResult).reason.message)).toMatch(/code_mismatch/);
    expect(await deviceCount(a.e.user.id)).toBe(1);
  });

  const mitm: [string, "new" | "existing", (swap: string) => Tamper, string][] = [
    // the relay gives N its own ephemeral key instead of E's: the two codes differ
    [
      "swaps E's ephemeral key (SAS differs)",
      "new",
      (swap) => (path, d) => (path === "keys.pairing.get" && d.response ? { ...d, response: { ...d.response, ephemeralKey: swap } } : d),
      "code_mismatch",
    ],
    // the relay gives E another ephemeral key than N committed to
    [
      "swaps N's revealed key (commitment)",
      "existing",
      (swap) => (path, d) => (path === "keys.pairing.get" && d.reveal ? { ...d, reveal: { ephemeralKey: swap } } : d),
      "commitment_mismatch",
    ],
    // the relay swaps N's long-term key for one of its own before E sees the request
    [
      "swaps the new device's key (commitment)",
      "existing",
      (swap) => (path, d) => (path === "keys.pairing.get" && d.request ? { ...d, request: { ...d.request, kemKey: swap } } : d),
      "commitment_mismatch",
    ],
    // the relay changes E's key confirmation on its way to N
    [
      "changes E's MAC",
      "new",
      () => (path, d) =>
        path === "keys.pairing.get" && d.existingConfirmation
          ? { ...d, existingConfirmation: { ...d.existingConfirmation, mac: "A".repeat(43) } }
          : d,
      "bad_mac",
    ],
  ];

  it.each(mitm)("detects a relay that %s", async (_what, side, tamper, reason) => {
    const a = await alice(side === "new" ? { newDeviceVia: proxy.url } : { existingVia: proxy.url });
    proxy.setTamper(tamper((await generateDeviceKeys()).kemPublicKey as string));
    const { n, e } = await pair(a);
    const detector = side === "new" && reason === "bad_mac" ? n : e;
    expect(detector.status).toBe("rejected");
    expect((detector as PromiseRejectedResult).reason).toBeInstanceOf(PairingError);
    expect((detector as PromiseRejectedResult).reason.reason).toBe(reason);
    expect(n.status).toBe("rejected");
    expect(e.status).toBe("rejected");
    expect(await deviceCount(a.e.user.id)).toBe(1);
  });

  it("refuses an expired pairing", async () => {
    const a = await alice();
    const started = a.fresh.pairNewDevice({ name: "late", showCode: () => {}, pollMs: 50 }).catch((error: unknown) => error);
    let pending: { pairingId: string }[] = [];
    while (pending.length === 0) pending = (await a.existing.pendingPairings()).pairings;
    await server.deps.db
      .update(schema.pairings)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.pairings.userId, a.e.user.id));
    const approve = await a.existing
      .approveNewDevice({ pairingId: pending[0]?.pairingId as string, enterCode: () => "0000 0000", pollMs: 50 })
      .catch((error: unknown) => error);
    expect(String(approve)).toMatch(/expired/);
    const refused = await started;
    expect(refused).toBeInstanceOf(PairingAbortedError);
    expect((refused as PairingAbortedError).reason).toBe("expired");
    expect(await deviceCount(a.e.user.id)).toBe(1);
  });

  it("refuses a flood of pairing attempts: open pairings, then the per-minute budget (RATE_LIMIT_PAIRING_PER_MINUTE)", async () => {
    const a = await alice();
    const answers = [];
    for (let i = 0; i < 45; i++) {
      const n = await generateDeviceKeys();
      answers.push(
        await call(server, "keys.pairing.init", a.n, {
          transactionId: "AAAAAAAAAAAAAAAAAAAAAA",
          deviceId: n.deviceId,
          name: "",
          signingKey: n.signingPublicKey,
          kemKey: n.kemPublicKey,
          commitment: "A".repeat(43),
        }),
      );
    }
    const limited = answers.filter((r) => r.status === 429);
    for (const r of limited) expectError(r as { status: number; body: unknown }, "TOO_MANY_REQUESTS");
    // the relay's own limit (3 open pairings) first, then the per-minute budget of keys.pairing.init
    expect(answers.filter((r) => r.status === 200)).toHaveLength(3);
    expect(limited.some((r) => /at most 3 at a time/.test(r.body.error.message))).toBe(true);
    expect(limited.some((r) => /at most 40 a minute/.test(r.body.error.message))).toBe(true);
  });
});
