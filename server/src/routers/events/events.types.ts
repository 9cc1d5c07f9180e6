import { z } from "zod";

/** The event types of the contract (api.md), plus the stream's own checkpoint. */
export const eventTypes = [
  "share.created",
  "share.deleted",
  "share.recipientsAdded",
  "team.memberJoined",
  "team.memberLeft",
  "team.roleChanged",
  "team.renamed",
  "team.deleted",
  "keys.changed",
  "invite.accepted",
  "session.revoked",
  "sync.checkpoint",
] as const;

export type EventType = (typeof eventTypes)[number];

export const subscribeInput = z
  .object({
    /** The id of the last event received; the stream resumes right after it. Sent by the client link on reconnect. */
    lastEventId: z
      .string()
      .regex(/^\d{1,15}$/, "lastEventId must be an event id received from this stream")
      .nullish(),
  })
  .optional();

/** What a subscriber receives: routing data only, never plaintext. */
export interface StreamEvent {
  id: string;
  type: EventType;
  teamId: string | null;
  userId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}
