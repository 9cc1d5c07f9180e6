import { lockDeviceLog, schema } from "@osmynt/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, firstDevice, join, ok, seal } from "./helpers.js";

// Review finding: shares.create checked "recipients = the target's active devices" inside its
// transaction but locked nothing, so a device committed while the share was being stored was
// missed and left without a key. (PostgreSQL only: PGlite runs one transaction at a time.)

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

/** Sessions of this database waiting for a lock right now. */
async function lockWaiters(): Promise<number> {
  const rows = await server.deps.db.execute(
    sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
  );
  return Number((rows as unknown as { n: number }[])[0]?.n ?? 0);
}

describe("shares.create and a device added at the same moment", () => {
  it("a device whose add commits while the share is stored is not left out: PRECONDITION_FAILED names it", async () => {
    const [a, b] = await Promise.all([signUp(server, randomLogin("alice")), signUp(server, randomLogin("bob"))]);
    const team = await ok(call(server, "teams.create", a, { name: "race" }));
    await join(server, team.id, a, b);
    const alice = await firstDevice(server, a);
    await firstDevice(server, b);
    const sealed = await seal(server, alice, { teamId: team.id }, { code: "x", title: "y" });

    // Bob's second device, added by a transaction held open the way keys.addDevice holds it.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const newDevice = "dev_addedDuringTheShare";
    const adding = server.deps.db.transaction(async (tx) => {
      await lockDeviceLog(tx, { userId: b.user.id });
      await tx.insert(schema.devices).values({
        userId: b.user.id,
        id: newDevice,
        kind: "device",
        signingKey: "AAAA",
        kemKey: "AAAA",
        kemKeyId: "k2",
        addedSeq: 1,
      });
      locked();
      await held;
    });
    await isLocked;

    let answered = false;
    const creating = call(server, "shares.create", alice.session, {
      target: { teamId: team.id },
      envelope: sealed.envelope,
      recipients: sealed.wraps,
    }).finally(() => {
      answered = true;
    });
    // Until the create either answers (it did not wait: the race) or waits on a lock (the fix).
    while (!answered && (await lockWaiters()) === 0) await new Promise((r) => setTimeout(r, 20));
    release();
    await adding;

    const error = expectError(await creating, "PRECONDITION_FAILED", /recipients must be exactly/);
    expect(error.data.details.missing).toEqual([expect.objectContaining({ userId: b.user.id, deviceId: newDevice })]);
    const stored = await server.deps.db.select().from(schema.shares).where(sql`${schema.shares.id} = ${sealed.shareId}`);
    expect(stored).toEqual([]);
  });
});
