import { schema } from "@osmynt/db";
import {
  createRootLink,
  type DeviceKeys,
  type DeviceLink,
  type DeviceLogState,
  generateDeviceKeys,
  verifyDeviceLog,
} from "@osmynt/sdk/crypto";
import { asc, inArray, or, sql } from "drizzle-orm";
import { expect } from "vitest";
import { rawCall, type TestSession } from "../helpers/factories.js";
import type { TestServer } from "../helpers/server.js";

const queries = new Set([
  "keys.mine",
  "keys.forTeam",
  "keys.forUser",
  "keys.pairing.pending",
  "keys.pairing.get",
  "teams.mine",
  "teams.audit",
]);

/** One call over HTTP as `who` (or anonymously). */
export function call(server: TestServer, path: string, who: TestSession | null, input?: unknown) {
  return rawCall(server, path, { kind: queries.has(path) ? "query" : "mutation", input, ...(who ? { token: who.accessToken } : {}) });
}

export { expectTrpcError as expectError } from "../helpers/trpc-errors.js";
export { ok } from "../teams/helpers.js";

/** A user with a registered first device: its keys never leave the test process. */
export interface Registered {
  session: TestSession;
  userId: string;
  device: DeviceKeys;
  root: DeviceLink;
}

/** Generates device keys and registers them as the user's first device (a self-signed root). */
export async function register(server: TestServer, session: TestSession, name = "laptop"): Promise<Registered> {
  const device = await generateDeviceKeys();
  const root = await createRootLink(session.user.id, device, { name });
  const response = await call(server, "keys.register", session, { link: root });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return { session, userId: session.user.id, device, root };
}

/** The user's log as the server hands it out, verified from the root. */
export async function verifiedLog(server: TestServer, who: TestSession, userId = who.user.id): Promise<DeviceLogState> {
  const response = await call(server, "keys.forUser", who, { userId });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return verifyDeviceLog(response.body.result.data.links, { userId });
}

const db = (server: TestServer) => server.deps.db;

/** Everything stored about these users' devices: a refused append must leave all of it alone. */
export async function keysState(server: TestServer, userIds: string[]) {
  const { deviceLinks, devices, deviceLogs, events, auditLog } = schema;
  return {
    links: await db(server)
      .select({ userId: deviceLinks.userId, seq: deviceLinks.seq, hash: deviceLinks.hash })
      .from(deviceLinks)
      .where(inArray(deviceLinks.userId, userIds))
      .orderBy(asc(deviceLinks.userId), asc(deviceLinks.seq)),
    logs: await db(server).select().from(deviceLogs).where(inArray(deviceLogs.userId, userIds)).orderBy(asc(deviceLogs.userId)),
    devices: await db(server)
      .select({ userId: devices.userId, id: devices.id, status: devices.status, kemKey: devices.kemKey })
      .from(devices)
      .where(inArray(devices.userId, userIds))
      .orderBy(asc(devices.userId), asc(devices.id)),
    events: await db(server)
      .select({ id: events.id })
      .from(events)
      .where(or(inArray(events.userId, userIds), inArray(sql`${events.payload}->>'userId'`, userIds)))
      .orderBy(asc(events.id)),
    audit: await db(server).select({ id: auditLog.id }).from(auditLog).where(inArray(auditLog.actorId, userIds)).orderBy(asc(auditLog.id)),
  };
}
