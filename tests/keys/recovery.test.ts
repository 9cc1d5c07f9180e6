import { schema } from "@osmynt/db";
import { createDevices, createOsmyntClient, type Devices, memorySessionStore, type OsmyntClient } from "@osmynt/sdk";
import { generateRecoveryCode, memoryKeyStore, RecoveryError } from "@osmynt/sdk/crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { join } from "../teams/helpers.js";
import { call, ok } from "./helpers.js";

let server: TestServer;
const clients: OsmyntClient[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.close();
});

function sdk(session: TestSession): Devices {
  const client = createOsmyntClient({ url: server.url, session: memorySessionStore(session) });
  clients.push(client);
  return createDevices(client, { keyStore: memoryKeyStore() });
}

/** Alice with a device and a recovery key; Bob, a teammate, has pinned her. Then she loses the device. */
async function scene() {
  const a = await signUp(server, randomLogin("alice"));
  const laptop = sdk(a);
  const { fingerprint } = await laptop.register({ name: "laptop" });
  const { code } = await laptop.createRecoveryKey();
  const bob = await signUp(server, randomLogin("bob"));
  const team = await ok(call(server, "teams.create", a, { name: `rec ${randomLogin("t")}` }));
  await join(server, team.id, a, bob);
  const bobSdk = sdk(bob);
  await bobSdk.register();
  await bobSdk.logOf(a.user.id);
  // every device lost: a new machine, a new sign-in, an empty key store
  const again = (await ok(rawCall(server, "auth.devLogin", { input: { login: a.user.login } }))) as TestSession;
  return { a, code, fingerprint, teamId: team.id as string, bobSdk, laptop, newMachine: sdk(again) };
}

const linkCount = async (userId: string) =>
  (await server.deps.db.select().from(schema.deviceLinks).where(eq(schema.deviceLinks.userId, userId))).length;

describe("recovery key", () => {
  it("is shown once as a code and recorded in the log as a recovery device that never receives shares", async () => {
    const s = await scene();
    expect(s.code).toMatch(/^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/);
    const { state } = await s.laptop.myLog();
    expect(state.devices.map((d) => [d.kind, d.status])).toEqual([
      ["device", "active"],
      ["recovery", "active"],
    ]);
    expect((await s.bobSdk.recipientsForTeam(s.teamId)).filter((r) => r.userId === s.a.user.id)).toHaveLength(1);
    // the code is nowhere on the server
    const dump = JSON.stringify(await server.deps.db.select().from(schema.deviceLinks).where(eq(schema.deviceLinks.userId, s.a.user.id)));
    expect(dump).not.toContain(s.code);
    expect(dump).not.toContain(s.code.replace(/-/g, ""));
  });

  it("adds a new device to the same identity when every device is lost; teammates trust it without a warning", async () => {
    const s = await scene();
    const recovered = await s.newMachine.recoverWithCode(s.code.toLowerCase(), { name: "new laptop", revokeOtherDevices: true });
    expect(recovered.fingerprint).toBe(s.fingerprint);
    expect(recovered.revoked).toHaveLength(1);
    const seen = await s.bobSdk.logOf(s.a.user.id);
    expect(seen.state.fingerprint).toBe(s.fingerprint);
    expect((await s.bobSdk.recipientsForTeam(s.teamId)).filter((r) => r.userId === s.a.user.id).map((r) => r.deviceId)).toEqual([
      recovered.deviceId,
    ]);
    // the recovered device is a full device: it can make a new recovery key (the old one is revoked)
    const { code } = await s.newMachine.createRecoveryKey();
    expect(code).not.toBe(s.code);
  });

  it("refuses a wrong recovery key, a mistyped code, and a replaced one, changing nothing", async () => {
    const s = await scene();
    const before = await linkCount(s.a.user.id);
    const someoneElses = await generateRecoveryCode();
    await expect(s.newMachine.recoverWithCode(someoneElses.code)).rejects.toMatchObject({
      name: "RecoveryError",
      reason: "not_this_account",
    });
    const typo = s.code.startsWith("A") ? `B${s.code.slice(1)}` : `A${s.code.slice(1)}`;
    const mistyped = await s.newMachine.recoverWithCode(typo).catch((e: unknown) => e);
    expect(mistyped).toBeInstanceOf(RecoveryError);
    expect((mistyped as RecoveryError).reason).toBe("code_typo");
    await expect(s.newMachine.recoverWithCode("not a code")).rejects.toMatchObject({ reason: "malformed_code" });
    expect(await linkCount(s.a.user.id)).toBe(before);
    // a new recovery key revokes the old one: the old code no longer works
    await s.laptop.createRecoveryKey();
    await expect(s.newMachine.recoverWithCode(s.code)).rejects.toMatchObject({ reason: "not_this_account" });
  });
});
