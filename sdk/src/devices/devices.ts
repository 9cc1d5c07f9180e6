import type { TRPCClient } from "@trpc/client";
import type { AppRouter } from "../app-router.js";
import {
  activeDevices,
  CryptoError,
  createAddDeviceLink,
  createDeviceKeys,
  createRevokeLink,
  createRootLink,
  createRotateKemLink,
  DEFAULT_DEVICE_KEY_NAME,
  type DeviceKeys,
  type DeviceLink,
  DeviceLogError,
  type DeviceLogState,
  type DeviceRecord,
  findDevice,
  generateKemKey,
  type KeyStore,
  kemKeyId,
  loadDeviceKeys,
  replaceStoredKemKey,
  safetyNumber,
  sameSafetyNumber,
  verifyDeviceLog,
} from "../crypto/index.js";
import { pairingFlows } from "./pairing.js";
import { checkPin, type Pin, readPin, writePin } from "./pins.js";
import { recoveryFlows } from "./recovery.js";
import { untrusted } from "./trust-errors.js";

export type KeysClient = Pick<TRPCClient<AppRouter>, "keys" | "auth">;

export interface DevicesOptions {
  /** Where this device's private keys and the pinned fingerprints live (see `KeyStore`). */
  keyStore: KeyStore;
  /** The key-store entry of this device's keys. Default `osmynt.device`. */
  deviceKeyName?: string;
}

/** A device a share may be encrypted to: from a verified log, active, with its current HPKE key. */
export interface Recipient {
  userId: string;
  deviceId: string;
  kemKey: string;
  kemKeyId: string;
}

export type RecipientErrorReason = "unknown_device" | "revoked_device" | "retired_key" | "not_a_recipient";

/** The SDK refuses to encrypt to this key: it is not a current key of an active device. */
export class RecipientError extends CryptoError<RecipientErrorReason> {
  override readonly name = "RecipientError";
}

/** A user's verified log and what this device has pinned about them. */
export interface TrustedLog {
  state: DeviceLogState;
  pin: Pin;
}

/**
 * This device's keys and every device log it reads, verified. Nothing the server says about
 * devices is believed before the crypto core has verified the whole log from its root and the
 * log has been checked against this device's pin for the user (first sight pins the fingerprint;
 * a new root, a rollback or a fork is a hard error naming the user).
 */
export function createDevices(client: KeysClient, options: DevicesOptions) {
  const store = options.keyStore;
  const keyName = options.deviceKeyName ?? DEFAULT_DEVICE_KEY_NAME;
  let me: Promise<{ id: string; login: string }> | null = null;
  const myself = () => {
    me ??= client.auth.me.query().catch((error: unknown) => {
      me = null;
      throw error;
    });
    return me;
  };

  /** Verifies a log from its root and checks it against the pin: the only way a log is trusted. */
  async function trust(userId: string, links: readonly unknown[], login?: string): Promise<TrustedLog> {
    try {
      const state = await verifyDeviceLog(links, { userId });
      return { state, pin: await checkPin(store, state) };
    } catch (error) {
      return untrusted(error, userId, login);
    }
  }

  async function thisDevice(): Promise<DeviceKeys> {
    const keys = await loadDeviceKeys(store, keyName);
    if (!keys)
      throw new CryptoError(
        "no_device_keys",
        "This device has no keys yet: register it (devices.register) or pair it (devices.pairNewDevice)",
      );
    return keys;
  }

  async function myLog(): Promise<TrustedLog> {
    const mine = await client.keys.mine.query();
    return trust(mine.userId, mine.links);
  }

  /** My verified log with this device active in it: what every change to my devices builds on. */
  async function myActiveLog(): Promise<{ log: TrustedLog; device: DeviceKeys }> {
    const device = await thisDevice();
    const log = await myLog();
    const record = findDevice(log.state, device.deviceId);
    if (record?.status !== "active")
      throw new DeviceLogError(
        record ? "revoked_signer" : "unknown_signer",
        record
          ? `This device (${device.deviceId}) was revoked at link ${record.revokedAt}`
          : `This device (${device.deviceId}) is not in your device log`,
        { userId: log.state.userId, deviceId: device.deviceId },
      );
    return { log, device };
  }

  function recipientsOf(state: DeviceLogState): Recipient[] {
    return activeDevices(state).map((d) => ({
      userId: state.userId,
      deviceId: d.deviceId,
      kemKey: d.kemKey as string,
      kemKeyId: d.kemKeyId as string,
    }));
  }

  const afterApprove = new Map<string, AfterApprove>();
  const internals: DeviceInternals = { client, store, keyName, myself, myLog, myActiveLog, thisDevice, trust, afterApprove };
  const base = {
    /** The keys of this device, or null before `register`/pairing. */
    thisDevice: () => loadDeviceKeys(store, keyName),

    /**
     * Makes this device the account's first: creates its keys in the key store and appends the
     * self-signed root. Later devices join by pairing (or with the recovery key).
     */
    async register(params: { name?: string } = {}): Promise<{ deviceId: string; fingerprint: string }> {
      const user = await myself();
      const device = (await loadDeviceKeys(store, keyName)) ?? (await createDeviceKeys(store, { name: keyName }));
      const root = await createRootLink(user.id, device, { name: params.name ?? "" });
      await client.keys.register.mutate({ link: root });
      const { state } = await myLog();
      return { deviceId: device.deviceId, fingerprint: state.fingerprint };
    },

    /** My log, verified, and my pin moved forward. */
    myLog,

    /** One user's log (mine or a teammate's), verified and checked against their pin. */
    async logOf(userId: string): Promise<TrustedLog> {
      const answer = await client.keys.forUser.query({ userId });
      return trust(userId, answer.links);
    },

    /**
     * Every member's verified log in a team, keyed by user. Members without devices are left out
     * (there is nothing to encrypt to); any member whose log fails, or whose pinned log went
     * missing, is a hard error naming them.
     */
    async teamLogs(teamId: string): Promise<Map<string, TrustedLog>> {
      const answer = await client.keys.forTeam.query({ teamId });
      const logs = new Map<string, TrustedLog>();
      for (const member of answer.members) {
        // An empty log is "no devices yet", unless this device saw the user's log before: then it
        // was taken away (empty_log), which is an error like any rollback.
        if (member.links.length > 0 || (await readPin(store, member.userId)))
          logs.set(member.userId, await trust(member.userId, member.links));
      }
      return logs;
    },

    /** The devices to encrypt a team share to: active devices with their current HPKE keys, from verified logs. */
    async recipientsForTeam(teamId: string): Promise<Recipient[]> {
      const logs = await this.teamLogs(teamId);
      return [...logs.values()].flatMap((l) => recipientsOf(l.state));
    },

    /** The devices to encrypt a direct share to: both users' active devices. */
    async recipientsForUser(userId: string): Promise<Recipient[]> {
      const [theirs, mine] = await Promise.all([this.logOf(userId), myLog()]);
      return [...recipientsOf(theirs.state), ...recipientsOf(mine.state)];
    },

    /**
     * Throws unless `kemKey` is the current HPKE key of an active device in the user's verified
     * log: never encrypt to a revoked device or to a key its device rotated away from.
     */
    async assertRecipient(userId: string, deviceId: string, kemKey: string): Promise<void> {
      const { state } = userId === (await myself()).id ? await myLog() : await this.logOf(userId);
      assertEncryptable(state, deviceId, kemKey, await kemKeyId(kemKey));
    },

    /**
     * Upgrades the pin of `userId` to verified when `safetyNumber` (read to you by them, or
     * scanned) matches the one computed from both fingerprints; throws otherwise.
     */
    async verifyUser(userId: string, typedSafetyNumber: string): Promise<Pin> {
      const [{ state: theirs, pin }, { state: mine }] = await Promise.all([this.logOf(userId), myLog()]);
      if (!sameSafetyNumber(typedSafetyNumber, await safetyNumber(mine.fingerprint, theirs.fingerprint)))
        throw new DeviceLogError("fingerprint_changed", `The safety number does not match the keys of user ${userId}: do not trust them`, {
          userId,
        });
      const verified = { ...pin, verified: true };
      await writePin(store, verified);
      return verified;
    },

    /** The 60-digit safety number of me and `userId`, for the two of us to compare out of band. */
    async safetyNumberWith(userId: string): Promise<string> {
      const [{ state: theirs }, { state: mine }] = await Promise.all([this.logOf(userId), myLog()]);
      return safetyNumber(mine.fingerprint, theirs.fingerprint);
    },

    /** What this device pinned for a user, or null before first sight. */
    pinOf: (userId: string) => readPin(store, userId),

    /** Revokes one of my devices (or the recovery key), signed by this device. */
    async revoke(deviceId: string): Promise<DeviceLogState> {
      const { log, device } = await myActiveLog();
      await client.keys.revoke.mutate({ link: await createRevokeLink(log.state, device, deviceId) });
      return (await myLog()).state;
    },

    /**
     * Gives this device a new HPKE key (a signed rotate_kem link). The new private key replaces the
     * old one in the key store only once the server accepted the link.
     */
    async rotate(): Promise<DeviceLogState> {
      const { log, device } = await myActiveLog();
      const next = await generateKemKey();
      await client.keys.rotate.mutate({ link: await createRotateKemLink(log.state, device, next.kemPublicKey) });
      await replaceStoredKemKey(store, next.kemPkcs8, keyName);
      return (await myLog()).state;
    },

    /** Appends an add_device (or add_recovery) link signed by `signer` for keys held in this process. */
    async addDeviceWith(signer: DeviceKeys, newDevice: DeviceKeys, params: { name?: string } = {}): Promise<DeviceLink> {
      const { state } = await myLog();
      const link = await createAddDeviceLink(state, signer, newDevice, params);
      if (link.type === "add_recovery") await client.keys.addRecovery.mutate({ link });
      else await client.keys.addDevice.mutate({ link });
      return link;
    },

    /** Building blocks shared with pairing and recovery. */
    internals,
  };
  return { ...base, ...pairingFlows(internals), ...recoveryFlows(internals) };
}

/** What the pairing and recovery flows share with the rest of the device layer. */
export interface DeviceInternals {
  client: KeysClient;
  store: KeyStore;
  keyName: string;
  myself(): Promise<{ id: string; login: string }>;
  myLog(): Promise<TrustedLog>;
  myActiveLog(): Promise<{ log: TrustedLog; device: DeviceKeys }>;
  thisDevice(): Promise<DeviceKeys>;
  trust(userId: string, links: readonly unknown[], login?: string): Promise<TrustedLog>;
  /**
   * Run by `approveNewDevice` once the new device is in the log, in the approving device's
   * process: the shares layer registers its backfill here, so the new device can read old shares
   * without anyone calling `backfill()`. One hook per name: a layer created again on the same
   * devices replaces its hook instead of running its work twice.
   */
  afterApprove: Map<string, AfterApprove>;
}

/** Work to do on the approving device after a new device was added; resolves to how many shares it forwarded. */
export type AfterApprove = (added: { deviceId: string }) => Promise<number>;

export type Devices = ReturnType<typeof createDevices>;

/** The check behind `assertRecipient`, on a state already verified. */
export function assertEncryptable(state: DeviceLogState, deviceId: string, kemKey: string, keyId: string): DeviceRecord {
  const record = findDevice(state, deviceId);
  const who = `device ${deviceId} of user ${state.userId}`;
  if (!record) throw new RecipientError("unknown_device", `Refusing to encrypt to ${who}: it is not in their verified device log`);
  if (record.kind !== "device")
    throw new RecipientError("not_a_recipient", `Refusing to encrypt to ${who}: a recovery key never receives shares`);
  if (record.status !== "active")
    throw new RecipientError("revoked_device", `Refusing to encrypt to ${who}: it was revoked at link ${record.revokedAt}`);
  if (record.kemKey !== kemKey)
    throw new RecipientError(
      "retired_key",
      record.retiredKemKeyIds.includes(keyId)
        ? `Refusing to encrypt to ${who}: that key was rotated away; its current key is ${record.kemKeyId}`
        : `Refusing to encrypt to ${who}: that is not its key`,
    );
  return record;
}
