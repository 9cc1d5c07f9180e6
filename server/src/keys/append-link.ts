import {
  AppError,
  appendDeviceLink,
  completePairing,
  deleteDeviceWraps,
  listTeammates,
  lockDeviceLog,
  lockTeamsOf,
  readDeviceLogState,
  recordAudit,
  type schema,
  type Transaction,
} from "@osmynt/db";
import type { DeviceLogState } from "@osmynt/sdk/crypto";
import type { AppDeps } from "../deps.js";
import { withEvents } from "../trpc/with-events.js";
import { keysChanged } from "./key-events.js";
import { checkPairedDevice } from "./paired-device.js";
import { devicesOf, verifyNextLink } from "./verify-link.js";

type LinkType = schema.DeviceLinkType;

export interface AppendParams {
  userId: string;
  /** The link as the client sent it (shape already checked). */
  link: { type: LinkType; userId: string };
  /** The link types this procedure appends. */
  accepts: readonly LinkType[];
  procedure: string;
  /** The pairing an add_device completes: the link must add exactly the device that was paired. */
  pairing?: { id: string; sessionId: string } | undefined;
}

function activeDeviceCount(state: DeviceLogState): number {
  return state.devices.filter((d) => d.kind === "device" && d.status === "active").length;
}

async function checkAndStore(tx: Transaction, deps: Pick<AppDeps, "config">, params: AppendParams) {
  const { userId } = params;
  if (!(await lockDeviceLog(tx, { userId }))) throw new AppError("NOT_FOUND", `User ${userId} not found`);
  const stored = (await readDeviceLogState(tx, { userId })) as DeviceLogState | undefined;
  if (params.link.type === "root" && stored)
    throw new AppError("CONFLICT", "This account already has a device log: add devices by pairing with one of them (or the recovery key)", {
      reason: "already_registered",
    });
  if (params.link.type !== "root" && !stored)
    throw new AppError("PRECONDITION_FAILED", "This account has no device log yet: register a first device with keys.register", {
      reason: "not_registered",
    });
  const { link, state } = await verifyNextLink(userId, stored ?? null, params.link);

  const max = deps.config.keys.maxDevicesPerUser;
  if (link.type === "add_device" && activeDeviceCount(state) > max)
    throw new AppError("PRECONDITION_FAILED", `Device limit reached: at most ${max} active devices per user; revoke one first`, {
      reason: "device_limit",
      limit: max,
    });
  if (params.pairing) {
    await checkPairedDevice(tx, { userId, pairingId: params.pairing.id, link });
    await completePairing(tx, { id: params.pairing.id, userId, sessionId: params.pairing.sessionId });
  }

  await appendDeviceLink(tx, {
    userId,
    link,
    hash: state.head.hash,
    state: state as unknown as Record<string, unknown>,
    devices: devicesOf(state),
  });
  // A revoked device is never served a key again; its wrapped keys go with the revocation.
  if (link.type === "revoke_device") await deleteDeviceWraps(tx, { userId, deviceId: link.deviceId });
  await recordAudit(tx, {
    teamId: null,
    actorId: userId,
    action: `keys.${link.type}`,
    targetType: "device",
    targetId: link.deviceId,
    metadata: { seq: link.seq, signerDeviceId: link.signerDeviceId, procedure: params.procedure },
  });
  return { link, state };
}

/**
 * Appends one link to the user's device log, the way every keys.* write does: lock the user's log,
 * verify the link against the stored state with the crypto core, store link, state and devices,
 * write the audit row and `keys.changed` for the user and each teammate, all in one transaction.
 * A refused link changes nothing.
 */
export async function appendLink(deps: Pick<AppDeps, "db" | "bus" | "config">, params: AppendParams) {
  if (!params.accepts.includes(params.link.type))
    throw new AppError("BAD_REQUEST", `${params.procedure} appends ${params.accepts.join(" or ")} links, not ${params.link.type}`, {
      reason: "wrong_link_type",
    });
  if (params.link.userId !== params.userId)
    throw new AppError("BAD_REQUEST", `The link belongs to user ${params.link.userId}; you can only append to your own device log`, {
      reason: "wrong_user",
    });
  return withEvents(deps, async (tx, emit) => {
    await lockTeamsOf(tx, { userId: params.userId }); // before the user's row: see lockTeamsOf
    const { link, state } = await checkAndStore(tx, deps, params);
    const audience = await listTeammates(tx, { userId: params.userId });
    await emit(keysChanged({ userId: params.userId, seq: link.seq, type: link.type, deviceId: link.deviceId }, audience));
    return { userId: params.userId, seq: link.seq, hash: state.head.hash, fingerprint: state.fingerprint };
  });
}
