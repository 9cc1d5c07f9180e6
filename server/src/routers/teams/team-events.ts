import type { schema } from "@osmynt/db";
import type { EventToRecord } from "../../events/catalogue.js";

type TeamRole = schema.TeamRole;

/**
 * Event rows for membership changes. A team row reaches every current member; a user who is no
 * longer a member (removed, left, team deleted) also gets a personal copy, because the team row
 * stops reaching them at that very event. `payload.userId` always names the member the change is
 * about: the event stream uses it to start or stop a subscriber's team audience.
 * Payloads hold ids and routing data only.
 */
export const teamEvents = {
  memberJoined: (teamId: string, userId: string, role: TeamRole, via: "created" | "invite"): EventToRecord[] => [
    { type: "team.memberJoined", teamId, userId: null, payload: { teamId, userId, role, via } },
  ],

  memberLeft: (teamId: string, userId: string, reason: "left" | "removed"): EventToRecord[] => [
    { type: "team.memberLeft", teamId, userId: null, payload: { teamId, userId, reason } },
    { type: "team.memberLeft", teamId: null, userId, payload: { teamId, userId, reason } },
  ],

  roleChanged: (teamId: string, userId: string, role: TeamRole, previousRole: TeamRole): EventToRecord[] => [
    { type: "team.roleChanged", teamId, userId: null, payload: { teamId, userId, role, previousRole } },
  ],

  renamed: (teamId: string): EventToRecord[] => [{ type: "team.renamed", teamId, userId: null, payload: { teamId } }],

  deleted: (teamId: string, memberIds: readonly string[]): EventToRecord[] => [
    { type: "team.deleted", teamId, userId: null, payload: { teamId } },
    ...memberIds.map((userId): EventToRecord => ({ type: "team.deleted", teamId: null, userId, payload: { teamId } })),
  ],

  inviteAccepted: (teamId: string, inviteId: string, userId: string): EventToRecord[] => [
    { type: "invite.accepted", teamId, userId: null, payload: { teamId, inviteId, userId } },
  ],
};
