import type { schema } from "@osmynt/db";
import type { EventToRecord } from "../events/catalogue.js";

export interface KeysChange {
  userId: string;
  seq: number;
  type: schema.DeviceLinkType;
  deviceId: string;
}

/**
 * `keys.changed` for a user's device log, addressed to each person it concerns once: the user
 * (their own other devices) and everyone sharing a live team with them (they encrypt to the user's
 * devices and must refetch the log). Not one row per team: a teammate in N shared teams would hear
 * the same change N times. Ids and positions only; clients fetch and verify the log.
 */
export function keysChanged(change: KeysChange, userIds: readonly string[]): EventToRecord[] {
  const payload = { userId: change.userId, seq: change.seq, type: change.type, deviceId: change.deviceId };
  return userIds.map((userId): EventToRecord => ({ type: "keys.changed", teamId: null, userId, payload }));
}
