import type { ShareRouting } from "@osmynt/db";
import type { EventToRecord } from "../events/catalogue.js";

/**
 * Event rows for shares: a team share is announced to its team (the event stream delivers team
 * rows only to current members, from their join on), a direct share to its two users personally.
 * Payloads hold ids, sizes and times only, never anything from inside the envelope.
 */
function audience(share: ShareRouting): { teamId: string | null; userId: string | null }[] {
  if (share.teamId) return [{ teamId: share.teamId, userId: null }];
  return [...new Set([share.authorId, share.targetUserId as string])].map((userId) => ({ teamId: null, userId }));
}

function routing(share: ShareRouting) {
  return { shareId: share.id, teamId: share.teamId, targetUserId: share.targetUserId, authorId: share.authorId };
}

export const shareEvents = {
  created: (share: ShareRouting): EventToRecord[] =>
    audience(share).map((to) => ({
      type: "share.created",
      ...to,
      payload: { ...routing(share), authorDeviceId: share.authorDeviceId, ciphertextBytes: share.ciphertextBytes },
    })),

  deleted: (share: ShareRouting, deletedBy: string): EventToRecord[] =>
    audience(share).map((to) => ({ type: "share.deleted", ...to, payload: { ...routing(share), deletedBy } })),

  recipientsAdded: (share: ShareRouting, added: { userId: string; deviceId: string }[], forwarderId: string): EventToRecord[] =>
    audience(share).map((to) => ({
      type: "share.recipientsAdded",
      ...to,
      payload: { ...routing(share), forwarderId, devices: added.map((d) => ({ userId: d.userId, deviceId: d.deviceId })) },
    })),
};
