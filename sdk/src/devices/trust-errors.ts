import { DeviceLogError } from "../crypto/index.js";

/**
 * The one error for keys the SDK will not trust or encrypt to: a DeviceLogError whose message
 * names the user (and login, when known) and says what failed; `reason` is the machine-readable
 * code (`bad_signature`, `rolled_back`, `forked`, `fingerprint_changed`, `revoked_device`…).
 */
export function untrusted(error: unknown, userId: string, login?: string): never {
  const who = login ? `${login} (${userId})` : `user ${userId}`;
  if (error instanceof DeviceLogError) {
    throw new DeviceLogError(error.reason, `Refusing the keys of ${who}: ${error.message}`, {
      userId,
      ...(error.seq === undefined ? {} : { seq: error.seq }),
      ...(error.deviceId === undefined ? {} : { deviceId: error.deviceId }),
      cause: error,
    });
  }
  throw error;
}
