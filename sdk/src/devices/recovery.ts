import {
  activeRecoveryKey,
  assertRecoveryKeyOf,
  createAddDeviceLink,
  createDeviceKeys,
  createRevokeLink,
  deriveRecoveryKeys,
  findDevice,
  generateRecoveryCode,
  loadDeviceKeys,
} from "../crypto/index.js";
import type { DeviceInternals } from "./devices.js";

/**
 * The recovery key (crypto.md §4.2): a device of kind `recovery`, derived from a code shown once,
 * that can sign the log when every device is lost. Only its public key is ever stored (in the
 * log); the code itself never leaves the user's hands, and the server plays no part in recovery.
 */
export function recoveryFlows(internals: DeviceInternals) {
  const { client, store, keyName, myself, myActiveLog, trust } = internals;

  return {
    /**
     * Makes the account's recovery key, signed in by this device, and returns its code: show it
     * once, for the user to keep offline; the SDK keeps no copy. A previous recovery key is
     * revoked first, so only the newest code works.
     */
    async createRecoveryKey(): Promise<{ code: string; recoveryKeyId: string }> {
      const { log, device } = await myActiveLog();
      let state = log.state;
      const previous = activeRecoveryKey(state);
      if (previous) {
        await client.keys.revoke.mutate({ link: await createRevokeLink(state, device, previous.deviceId) });
        state = (await internals.myLog()).state;
      }
      const { code, keys } = await generateRecoveryCode();
      await client.keys.addRecovery.mutate({ link: await createAddDeviceLink(state, device, keys) });
      return { code, recoveryKeyId: keys.deviceId };
    },

    /**
     * On a new device, signed in to an account whose devices are all lost: the recovery code adds
     * this device to the same identity (same fingerprint, so teammates keep trusting it). The log
     * is trusted because it holds the very key the code derives; a code of another account, or a
     * revoked one, is refused (`RecoveryError`). With `revokeOtherDevices`, the lost devices are
     * revoked by the new one right away.
     */
    async recoverWithCode(
      code: string,
      params: { name?: string; revokeOtherDevices?: boolean } = {},
    ): Promise<{ deviceId: string; fingerprint: string; revoked: string[] }> {
      const recovery = await deriveRecoveryKeys(code);
      const user = await myself();
      const { state } = await trust(user.id, (await client.keys.mine.query()).links);
      assertRecoveryKeyOf(state, recovery);
      const device = (await loadDeviceKeys(store, keyName)) ?? (await createDeviceKeys(store, { name: keyName }));
      await client.keys.addDevice.mutate({ link: await createAddDeviceLink(state, recovery, device, { name: params.name ?? "" }) });
      let after = (await trust(user.id, (await client.keys.mine.query()).links)).state;
      const revoked: string[] = [];
      if (params.revokeOtherDevices) {
        for (const lost of after.devices.filter((d) => d.kind === "device" && d.status === "active" && d.deviceId !== device.deviceId)) {
          await client.keys.revoke.mutate({ link: await createRevokeLink(after, device, lost.deviceId) });
          revoked.push(lost.deviceId);
          after = (await trust(user.id, (await client.keys.mine.query()).links)).state;
        }
      }
      if (findDevice(after, device.deviceId)?.status !== "active") throw new Error("the recovered device is not active in the log");
      return { deviceId: device.deviceId, fingerprint: after.fingerprint, revoked };
    },
  };
}
