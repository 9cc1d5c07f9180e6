import { hostname } from "node:os";
import type { Command } from "commander";
import type { Session } from "../app-router.js";
import { createOsmyntClient, type OsmyntClient } from "../client.js";
import { fileKeyStore } from "../crypto/file-key-store.js";
import type { KeyStore } from "../crypto/key-store.js";
import { createDevices, type Devices } from "../devices/devices.js";
import { fileSessionStore } from "../session-store.js";
import { createShares, type Shares } from "../shares/shares.js";
import { type ConfigPaths, configPaths, ensureConfigDir, normalizeServer, readJson, writeJson } from "./config.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { createOutput, type Output } from "./output.js";

export interface GlobalOptions {
  json?: boolean;
  server?: string;
}

/** What every command starts from: where files live, which server, and how to print. */
export interface Base {
  paths: ConfigPaths;
  out: Output;
  /** The server named by --server, $OSMYNT_SERVER or the last login, normalized; null if none. */
  server: string | null;
  savedServer: string | null;
}

export async function base(command: Command): Promise<Base> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const paths = configPaths();
  await ensureConfigDir(paths);
  const saved = (await readJson<{ server: string }>(paths.config)).server ?? null;
  const chosen = options.server || process.env.OSMYNT_SERVER || saved;
  let server: string | null = null;
  try {
    server = chosen ? normalizeServer(chosen) : null;
  } catch (error) {
    throw new CliError(ExitCode.usage, (error as Error).message);
  }
  return { paths, out: createOutput(Boolean(options.json)), server, savedServer: saved ? normalizeServer(saved) : null };
}

export function clientFor(b: Base, server: string): OsmyntClient {
  return createOsmyntClient({ url: server, session: fileSessionStore(b.paths.session) });
}

export async function rememberServer(b: Base, server: string): Promise<void> {
  await writeJson(b.paths, b.paths.config, { server });
}

/** A signed-in command: the client, the session's user, and this device's keys and shares. */
export interface Context extends Base {
  server: string;
  client: OsmyntClient;
  session: Session;
  keyStore: KeyStore;
  devices: Devices;
  shares: Shares;
  /** Registers this device (first device of the account) or explains how to pair it; see `ensureDevice`. */
  ensureDevice(): Promise<{ deviceId: string; registered: boolean }>;
}

const notSignedIn = (server: string | null) =>
  new CliError(ExitCode.notSignedIn, `not signed in${server ? ` to ${server}` : ""}; run: osmynt login --server URL`);

/** The device's keys are kept per account, so signing in as someone else never reuses them. */
export const deviceKeyName = (userId: string) => `osmynt.device.${userId}`;

export function devicesFor(b: Base, client: OsmyntClient, userId: string): { keyStore: KeyStore; devices: Devices; shares: Shares } {
  const keyStore = fileKeyStore(b.paths.keys);
  const devices = createDevices(client, { keyStore, deviceKeyName: deviceKeyName(userId) });
  return { keyStore, devices, shares: createShares(client, devices) };
}

export const defaultDeviceName = () => `${hostname()} (osmynt CLI)`;

/**
 * Runs `run` signed in: refuses (exit 2) without a session for the chosen server, and always
 * closes the client, so the process can end.
 */
export async function signedIn<T>(command: Command, run: (ctx: Context) => Promise<T>): Promise<T> {
  const b = await base(command);
  if (!b.server) throw notSignedIn(null);
  // One session at a time: it belongs to the server of the last login.
  if (b.savedServer !== b.server) throw notSignedIn(b.server);
  const server = b.server;
  const client = clientFor(b, server);
  try {
    const session = await client.getSession();
    if (!session) throw notSignedIn(server);
    const { keyStore, devices, shares } = devicesFor(b, client, session.user.id);
    const ctx: Context = {
      ...b,
      server,
      client,
      session,
      keyStore,
      devices,
      shares,
      ensureDevice: () => ensureDevice(client, devices, defaultDeviceName()),
    };
    return await run(ctx);
  } finally {
    await client.close();
  }
}

/**
 * First use on a device: an account without devices gets this one as its root; an account that
 * has devices must pair this one from one of them (`devices pair` here, `devices approve` there).
 */
export async function ensureDevice(
  client: OsmyntClient,
  devices: Devices,
  name: string,
): Promise<{ deviceId: string; registered: boolean }> {
  const keys = await devices.thisDevice();
  const mine = await client.keys.mine.query();
  if (mine.links.length === 0) {
    const { deviceId } = await devices.register({ name });
    return { deviceId, registered: true };
  }
  const record = keys ? mine.devices.find((d) => d.deviceId === keys.deviceId) : undefined;
  if (keys && record?.status === "active") return { deviceId: keys.deviceId, registered: false };
  throw new CliError(
    ExitCode.notSignedIn,
    record
      ? `this device (${record.deviceId}) was revoked from your account; pair it again: osmynt devices pair`
      : "this device is not one of your account's devices yet: run `osmynt devices pair` here and `osmynt devices approve` on a device you already use",
  );
}
