import { schema } from "@osmynt/db";
import { z } from "zod";

/**
 * Every event the server records, with its payload: one zod discriminated union on `type`,
 * defined here once. `emit` (withEvents) takes only members of it, so a payload is type-checked
 * where it is written and parsed before it reaches the log; the event stream's output is typed
 * from it, and through the generated router types SDK users get `event.type === "share.created"`
 * narrowing `event.payload`. Payloads hold ids and routing data only, never plaintext.
 *
 * Adding an event type: add its member here (and to the scenario in tests/events/catalogue.test.ts,
 * which fails until every type is produced and parsed), then `pnpm sdk:types`.
 */

const ids = {
  user: z.string().startsWith("usr_"),
  team: z.string().startsWith("tm_"),
  share: z.string().startsWith("shr_"),
  invite: z.string().startsWith("inv_"),
  session: z.string().startsWith("ses_"),
  handshake: z.string().startsWith("hs_"),
  // Device ids are made by the crypto core on the device (not by the server), so no prefix is assumed.
  device: z.string().min(1),
};

const role = z.enum(schema.teamRoles);

/** Where a share goes, as every share event names it. */
const shareRouting = {
  shareId: ids.share,
  teamId: ids.team.nullable(),
  targetUserId: ids.user.nullable(),
  authorId: ids.user,
};

const event = <T extends string, P extends z.ZodRawShape>(type: T, payload: P) =>
  z.object({ type: z.literal(type), payload: z.object(payload).strict() });

export const catalogue = z.discriminatedUnion("type", [
  event("team.memberJoined", { teamId: ids.team, userId: ids.user, role, via: z.enum(["created", "invite"]) }),
  event("team.memberLeft", { teamId: ids.team, userId: ids.user, reason: z.enum(["left", "removed"]) }),
  event("team.roleChanged", { teamId: ids.team, userId: ids.user, role, previousRole: role }),
  event("team.renamed", { teamId: ids.team }),
  event("team.deleted", { teamId: ids.team }),
  event("invite.accepted", { teamId: ids.team, inviteId: ids.invite, userId: ids.user }),
  event("keys.changed", {
    userId: ids.user,
    seq: z.number().int().nonnegative(),
    type: z.enum(schema.deviceLinkTypes),
    deviceId: ids.device,
  }),
  event("session.revoked", { sessionId: ids.session, reason: z.enum(["logout", "revoked", "refresh-reuse"]) }),
  event("share.created", { ...shareRouting, authorDeviceId: ids.device, ciphertextBytes: z.number().int().nonnegative() }),
  event("share.deleted", { ...shareRouting, deletedBy: ids.user }),
  event("share.recipientsAdded", {
    ...shareRouting,
    forwarderId: ids.user,
    devices: z.array(z.object({ userId: ids.user, deviceId: ids.device }).strict()),
  }),
  /** Internal: wakes `auth.handshake.onComplete` waiters on every instance; it has no audience, so no stream carries it. */
  event("handshake.settled", { handshakeId: ids.handshake }),
]);

/** One event as written: its type and payload. */
export type CatalogueEvent = z.infer<typeof catalogue>;
export type CatalogueEventType = CatalogueEvent["type"];
/** The payload of one event type. */
export type EventPayload<T extends CatalogueEventType> = Extract<CatalogueEvent, { type: T }>["payload"];

/** Who hears an event: a team's members (`teamId`) or one user (`userId`); neither for internal events. */
export interface Audience {
  teamId: string | null;
  userId: string | null;
}

/** What `emit` takes: a catalogue event and its audience. */
export type EventToRecord = CatalogueEvent & Audience;

/** Events only the server uses; never on a stream (they have no audience). */
export const internalEventTypes = ["handshake.settled"] as const satisfies readonly CatalogueEventType[];

/** The stream's own event: it only moves the client's cursor forward. */
export interface CheckpointEvent {
  type: "sync.checkpoint";
  payload: Record<string, never>;
}

/** An event as `events.subscribe` delivers it: the catalogue's public events, plus checkpoints. */
export type StreamEvent = {
  [T in Exclude<CatalogueEventType, (typeof internalEventTypes)[number]> | "sync.checkpoint"]: {
    id: string;
    type: T;
    teamId: string | null;
    userId: string | null;
    payload: T extends "sync.checkpoint" ? CheckpointEvent["payload"] : EventPayload<Exclude<T, "sync.checkpoint">>;
    createdAt: string;
  };
}[Exclude<CatalogueEventType, (typeof internalEventTypes)[number]> | "sync.checkpoint"];

/** Parses one event before it is written; a mismatch is the server's own bug, named precisely. */
export function parseEvent(event: EventToRecord): EventToRecord {
  const parsed = catalogue.safeParse({ type: event.type, payload: event.payload });
  if (!parsed.success)
    throw new Error(`event ${event.type} does not match the event catalogue: ${z.prettifyError(parsed.error).replaceAll("\n", "; ")}`);
  return { ...parsed.data, teamId: event.teamId, userId: event.userId } as EventToRecord;
}
