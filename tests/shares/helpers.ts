import { randomBytes } from "node:crypto";
import {
  createAddDeviceLink,
  type DeviceKeys,
  type DeviceLogState,
  forwardShare,
  generateDeviceKeys,
  openShare,
  sealShare,
  verifyDeviceLog,
} from "@osmynt/sdk/crypto";
import { expect } from "vitest";
import { rawCall, type TestSession } from "../helpers/factories.js";
import type { TestServer } from "../helpers/server.js";
import { register } from "../keys/helpers.js";
import { ok } from "../teams/helpers.js";

export { expectTrpcError as expectError } from "../helpers/trpc-errors.js";
export { join, ok } from "../teams/helpers.js";

const queries = new Set([
  "shares.get",
  "shares.listTeam",
  "shares.listDirect",
  "shares.unread",
  "shares.needingForward",
  "keys.forUser",
  "keys.forTeam",
  "keys.mine",
  "teams.mine",
]);

/** One call over HTTP as `who` (or anonymously). */
export function call(server: TestServer, path: string, who: TestSession | null, input?: unknown) {
  return rawCall(server, path, { kind: queries.has(path) ? "query" : "mutation", input, ...(who ? { token: who.accessToken } : {}) });
}

/** A user's device: its session and its keys (which never leave the test process). */
export interface Device {
  session: TestSession;
  userId: string;
  keys: DeviceKeys;
}

/** Registers the user's first device. */
export async function firstDevice(server: TestServer, session: TestSession): Promise<Device> {
  const r = await register(server, session);
  return { session, userId: session.user.id, keys: r.device };
}

/** Adds another device to the user's log, signed by `by`. */
export async function addDevice(server: TestServer, by: Device): Promise<Device> {
  const keys = await generateDeviceKeys();
  const state = await logOf(server, by.session, by.userId);
  await ok(call(server, "keys.addDevice", by.session, { link: await createAddDeviceLink(state, by.keys, keys, { name: "second" }) }));
  return { session: by.session, userId: by.userId, keys };
}

/** A user's device log as the server hands it out, verified from the root. */
export async function logOf(server: TestServer, who: TestSession, userId: string): Promise<DeviceLogState> {
  const answer = await ok(call(server, "keys.forUser", who, { userId }));
  return verifyDeviceLog(answer.links, { userId });
}

/** The verified logs a share to `target` is encrypted to. */
export async function targetLogs(server: TestServer, author: Device, target: { teamId: string } | { userId: string }) {
  if ("userId" in target) return [await logOf(server, author.session, target.userId)];
  const answer = await ok(call(server, "keys.forTeam", author.session, { teamId: target.teamId }));
  const logs: DeviceLogState[] = [];
  for (const m of answer.members as { userId: string; links: unknown[] }[])
    if (m.links.length > 0) logs.push(await verifyDeviceLog(m.links, { userId: m.userId }));
  return logs;
}

export interface Payload {
  code: string;
  title: string;
  path?: string;
  repo?: string;
}

export const newShareId = () => `shr_${randomBytes(15).toString("base64url")}`;

/** Seals `payload` for `target` with the crypto core, from verified logs: the envelope and wraps to upload. */
export async function seal(
  server: TestServer,
  author: Device,
  target: { teamId: string } | { userId: string },
  payload: Payload | Uint8Array,
  options: { shareId?: string; expiresAt?: number | null; recipients?: DeviceLogState[] } = {},
) {
  const myLog = await logOf(server, author.session, author.userId);
  const recipients = options.recipients ?? (await targetLogs(server, author, target));
  const plaintext = payload instanceof Uint8Array ? payload : new TextEncoder().encode(JSON.stringify(payload));
  const shareId = options.shareId ?? newShareId();
  const sealed = await sealShare({
    sender: { userId: author.userId, keys: author.keys, log: myLog },
    target,
    shareId,
    recipients,
    plaintext,
    expiresAt: options.expiresAt ?? null,
  });
  return { shareId, ...sealed };
}

/** Seals and uploads a share; returns its id. */
export async function share(
  server: TestServer,
  author: Device,
  target: { teamId: string } | { userId: string },
  payload: Payload | Uint8Array,
  options: { expiresAt?: number | null } = {},
): Promise<string> {
  const { shareId, envelope, wraps } = await seal(server, author, target, payload, options);
  await ok(call(server, "shares.create", author.session, { target, envelope, recipients: wraps }));
  return shareId;
}

/** Fetches a share for `reader`'s device and opens it with the crypto core; returns the payload. */
export async function read(server: TestServer, reader: Device, shareId: string): Promise<Payload> {
  const got = await ok(call(server, "shares.get", reader.session, { id: shareId, deviceId: reader.keys.deviceId }));
  expect(got.wrap, "this device has a wrapped key").not.toBeNull();
  const manifest = got.envelope.manifest as { senderUserId: string };
  const senderLog = await logOf(server, reader.session, manifest.senderUserId);
  const me = { userId: reader.userId, keys: reader.keys, log: await logOf(server, reader.session, reader.userId) };
  const forward = got.forward
    ? { record: got.forward, forwarderLog: await logOf(server, reader.session, got.forward.forwarderUserId) }
    : undefined;
  const opened = await openShare({
    envelope: got.envelope,
    wrap: got.wrap,
    me,
    senderLog,
    expected: { shareId },
    ...(forward ? { forward } : {}),
  });
  return JSON.parse(new TextDecoder().decode(opened.plaintext)) as Payload;
}

/** `by` (a device holding a key of the share) forwards it to the active devices of `to` it was not sealed for. */
export async function forward(server: TestServer, by: Device, shareId: string, to: string[]) {
  const got = await ok(call(server, "shares.get", by.session, { id: shareId, deviceId: by.keys.deviceId }));
  const manifest = got.envelope.manifest as { senderUserId: string };
  const me = { userId: by.userId, keys: by.keys, log: await logOf(server, by.session, by.userId) };
  const senderLog = await logOf(server, by.session, manifest.senderUserId);
  const forwardParams = got.forward
    ? { forward: { record: got.forward, forwarderLog: await logOf(server, by.session, got.forward.forwarderUserId) } }
    : {};
  const toLogs = await Promise.all(to.map((userId) => logOf(server, by.session, userId)));
  const result = await forwardShare({
    envelope: got.envelope,
    wrap: got.wrap,
    me,
    senderLog,
    expected: { shareId },
    to: toLogs,
    ...forwardParams,
  });
  return {
    ...result,
    send: () => call(server, "shares.addRecipients", by.session, { id: shareId, forward: result.forward, recipients: result.wraps }),
  };
}
