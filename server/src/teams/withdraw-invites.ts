import { recordAudit, revokeInvitesOfCreator, roleMay, type schema, type Transaction } from "@osmynt/db";

export type WithdrawReason = "creatorRemoved" | "creatorLeft" | "creatorDemoted";

/**
 * After a member's role changed (or they are gone: `role` null), revokes the invites they created
 * that their new role could not create, and records each revocation. Run in the transaction, and
 * under the team lock, of the change itself: no invite outlives its creator's authority.
 */
export async function withdrawInvitesBeyondRole(
  tx: Transaction,
  params: { teamId: string; creatorId: string; role: schema.TeamRole | null; actorId: string; reason: WithdrawReason },
): Promise<void> {
  if (roleMay(params.role, "manageInvites")) return;
  const revoked = await revokeInvitesOfCreator(tx, { teamId: params.teamId, creatorId: params.creatorId });
  await recordAudit(
    tx,
    revoked.map((inviteId) => ({
      teamId: params.teamId,
      actorId: params.actorId,
      action: "team.inviteRevoked",
      targetType: "invite",
      targetId: inviteId,
      metadata: { reason: params.reason, createdBy: params.creatorId },
    })),
  );
}
