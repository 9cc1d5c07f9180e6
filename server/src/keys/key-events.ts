import type { schema } from "@osmynt/db";
import type { EventToRecord } from "../events/catalogue.js";

export interface KeysChange {
  userId: string;
  seq: number;
  type: schema.DeviceLinkType;
  deviceId: string;
}

/**
 * `keys.changed` for a user's device log: one row for each live team they are in (their teammates
 * encrypt to their devices and must refetch the log) and a personal copy (their own other
 * devices, and a user who is in no team). Ids and positions only; clients fetch and verify the log.
 */
export function keysChanged(change: KeysChange, teamIds: readonly string[]): EventToRecord[] {
  const payload = { userId: change.userId, seq: change.seq, type: change.type, deviceId: change.deviceId };
  return [
    ...teamIds.map((teamId): EventToRecord => ({ type: "keys.changed", teamId, userId: null, payload })),
    { type: "keys.changed", teamId: null, userId: change.userId, payload },
  ];
}
