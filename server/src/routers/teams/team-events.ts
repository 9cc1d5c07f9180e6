import type { NewEvent, schema } from "@osmynt/db";

type TeamRole = schema.TeamRole;

/**
 * Event rows for membership changes. A team row reaches every current member; a user who is no
 * longer a member (removed, left, team deleted) also gets a personal copy, because the team row
 * stops reaching them at that very event. `payload.userId` always names the member the change is
 * about: the event stream uses it to start or stop a subscriber's team audience.
 * Payloads hold ids and routing data only.
 */
export const teamEvents = {
  memberJoined: (teamId: string, userId: string, role: TeamRole, via: "created" | "invite"): NewEvent[] => [
    { type: "team.memberJoined", teamId, userId: null, payload: { teamId, userId, role, via } },
  ],

  memberLeft: (teamId: string, userId: string, reason: "left" | "removed"): NewEvent[] => [
    { type: "team.memberLeft", teamId, userId: null, payload: { teamId, userId, reason } },
    { type: "team.memberLeft", teamId: null, userId, payload: { teamId, userId, reason } },
  ],

  roleChanged: (teamId: string, userId: string, role: TeamRole, previousRole: TeamRole): NewEvent[] => [
    { type: "team.roleChanged", teamId, userId: null, payload: { teamId, userId, role, previousRole } },
  ],

  renamed: (teamId: string): NewEvent[] => [{ type: "team.renamed", teamId, userId: null, payload: { teamId } }],

  deleted: (teamId: string, memberIds: readonly string[]): NewEvent[] => [
    { type: "team.deleted", teamId, userId: null, payload: { teamId } },
    ...memberIds.map((userId) => ({ type: "team.deleted", teamId: null, userId, payload: { teamId } })),
  ],

  inviteAccepted: (teamId: string, inviteId: string, userId: string): NewEvent[] => [
    { type: "invite.accepted", teamId, userId: null, payload: { teamId, inviteId, userId } },
  ],
};
