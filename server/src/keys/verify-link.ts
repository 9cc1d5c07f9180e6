import { AppError, type AppErrorCode, type DeviceState } from "@osmynt/db";
import {
  type DeviceLink,
  DeviceLogError,
  type DeviceLogErrorReason,
  type DeviceLogState,
  KeyError,
  parseLink,
  verifyLink,
} from "@osmynt/sdk/crypto";

/**
 * How each verification failure is answered: CONFLICT when the link was built on a head that is no
 * longer the head (fetch the log and build again), FORBIDDEN when the signer may not sign,
 * BAD_REQUEST for a link that is wrong in itself. The crypto core's message says what failed.
 */
const codeFor: Partial<Record<DeviceLogErrorReason, AppErrorCode>> = {
  wrong_seq: "CONFLICT",
  wrong_prev: "CONFLICT",
  duplicate_root: "CONFLICT",
  forked: "CONFLICT",
  unknown_signer: "FORBIDDEN",
  revoked_signer: "FORBIDDEN",
  signer_not_allowed: "FORBIDDEN",
};

export interface VerifiedLink {
  link: DeviceLink;
  state: DeviceLogState;
}

/**
 * Checks `input` as the next link of the user's log, whose verified state so far is `state` (null
 * before the root), with the crypto core's `verifyLink`. Returns the link (its signed fields only)
 * and the state it leads to; any failure is a domain error naming the reason, and nothing is kept.
 */
export async function verifyNextLink(userId: string, state: DeviceLogState | null, input: unknown): Promise<VerifiedLink> {
  try {
    const next = await verifyLink(state, input, userId);
    return { link: parseLink(input), state: next };
  } catch (error) {
    if (error instanceof DeviceLogError)
      throw new AppError(codeFor[error.reason] ?? "BAD_REQUEST", `Link refused: ${error.message}`, {
        reason: error.reason,
        seq: error.seq ?? null,
        deviceId: error.deviceId ?? null,
      });
    if (error instanceof KeyError) throw new AppError("BAD_REQUEST", `Link refused: ${error.message}`, { reason: error.reason });
    throw error;
  }
}

/** The devices a verified state describes, as the `devices` table keeps them. */
export function devicesOf(state: DeviceLogState): DeviceState[] {
  return state.devices.map((d) => ({
    deviceId: d.deviceId,
    kind: d.kind,
    name: d.name,
    status: d.status,
    signingKey: d.signingKey,
    kemKey: d.kemKey,
    kemKeyId: d.kemKeyId,
    addedAt: d.addedAt,
    revokedAt: d.revokedAt,
  }));
}
