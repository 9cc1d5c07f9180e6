import {
  AppError,
  countUnread,
  deleteShare,
  explainTeamAccess,
  getShareForDevice,
  isActiveDeviceOf,
  listDirectShares,
  listSharesNeedingForward,
  listTeamShares,
  markSharesRead,
  recordAudit,
  type ShareHeader,
  type ShareRouting,
} from "@osmynt/db";
import { addRecipients } from "../../shares/add-recipients.js";
import { checkEnvelope, checkForward } from "../../shares/check-envelope.js";
import { createShare } from "../../shares/create-share.js";
import { shareEvents } from "../../shares/share-events.js";
import { authedProcedure, router } from "../../trpc/init.js";
import { withEvents } from "../../trpc/with-events.js";
import {
  addRecipientsInput,
  addRecipientsOutput,
  createInput,
  createOutput,
  deleteInput,
  getInput,
  getOutput,
  listDirectInput,
  listTeamInput,
  markReadInput,
  markReadOutput,
  needingForwardInput,
  needingForwardOutput,
  okOutput,
  pageOutput,
  unreadOutput,
} from "./shares.types.js";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const routingOut = (s: ShareRouting) => ({ ...s, createdAt: s.createdAt.toISOString(), expiresAt: iso(s.expiresAt) });
const headerOut = (h: ShareHeader) => ({ ...routingOut(h), unread: h.unread });
const cursorOf = (c: string | null | undefined) => (c ? Number(c) : null);

/**
 * `shares.*` of the API contract (design/api.md). The server stores and routes envelopes it
 * cannot read; every read carries the visibility rule (`shareVisibleTo` in @osmynt/db) in its
 * `where`, so whoever may not see a share gets NOT_FOUND, the same answer as for no share at all.
 */
export const sharesRouter = router({
  /** Stores a sealed share for a team or one teammate; its recipients must be exactly the target's active devices. */
  create: authedProcedure
    .input(createInput)
    .output(createOutput)
    .mutation(async ({ ctx, input }) => {
      const checked = await checkEnvelope(input, { userId: ctx.user.id, maxCiphertextBytes: ctx.config.shares.maxCiphertextBytes });
      const share = await createShare(ctx.deps, { userId: ctx.user.id, target: input.target, checked, expiresAt: input.expiresAt });
      return { id: share.id, createdAt: share.createdAt.toISOString(), expiresAt: iso(share.expiresAt) };
    }),

  /** The envelope and only the asking device's wrapped key (`deviceId` must be an active device of mine). */
  get: authedProcedure
    .input(getInput)
    .output(getOutput)
    .query(async ({ ctx, input }) => {
      const share = await getShareForDevice(ctx.db, { id: input.id, userId: ctx.user.id, deviceId: input.deviceId });
      return { ...routingOut(share), envelope: share.envelope, wrap: share.wrap, forward: share.forward };
    }),

  /** A team's feed, newest first, headers only; optionally one author's shares. */
  listTeam: authedProcedure
    .input(listTeamInput)
    .output(pageOutput)
    .query(async ({ ctx, input }) => {
      await explainTeamAccess(ctx.db, { teamId: input.teamId, userId: ctx.user.id, permission: "view" });
      const page = await listTeamShares(ctx.db, { ...input, userId: ctx.user.id, cursor: cursorOf(input.cursor) });
      return { items: page.items.map(headerOut), nextCursor: page.nextCursor };
    }),

  /** The direct shares between me and `userId`, both ways, newest first. */
  listDirect: authedProcedure
    .input(listDirectInput)
    .output(pageOutput)
    .query(async ({ ctx, input }) => {
      const page = await listDirectShares(ctx.db, {
        userId: ctx.user.id,
        peerId: input.userId,
        cursor: cursorOf(input.cursor),
        limit: input.limit,
      });
      return { items: page.items.map(headerOut), nextCursor: page.nextCursor };
    }),

  /** Re-wraps a share's key for devices that lack one (backfill), with a forward record signed by the forwarding device. */
  addRecipients: authedProcedure
    .input(addRecipientsInput)
    .output(addRecipientsOutput)
    .mutation(async ({ ctx, input }) => {
      const { forward, wraps } = await checkForward(input, { userId: ctx.user.id });
      return addRecipients(ctx.deps, { userId: ctx.user.id, shareId: input.id, forward, wraps });
    }),

  /** Author, or an owner or admin of the share's team. The rows go at once; readers hear `share.deleted`. */
  delete: authedProcedure
    .input(deleteInput)
    .output(okOutput)
    .mutation(({ ctx, input }) =>
      withEvents(ctx.deps, async (tx, emit) => {
        const { share } = await deleteShare(tx, { id: input.id, userId: ctx.user.id });
        await recordAudit(tx, {
          teamId: share.teamId,
          actorId: ctx.user.id,
          action: "share.deleted",
          targetType: "share",
          targetId: share.id,
          metadata: { authorId: share.authorId, targetUserId: share.targetUserId },
        });
        await emit(shareEvents.deleted(share, ctx.user.id));
        return { ok: true as const };
      }),
    ),

  /**
   * Backfill work for one of my devices (`deviceId`, which must be active): the shares it holds a
   * key of while another active device of mine holds none. The SDK forwards each one.
   */
  needingForward: authedProcedure
    .input(needingForwardInput)
    .output(needingForwardOutput)
    .query(async ({ ctx, input }) => {
      if (!(await isActiveDeviceOf(ctx.db, { userId: ctx.user.id, deviceId: input.deviceId })))
        throw new AppError("FORBIDDEN", `Device ${input.deviceId} is not an active device of yours`, { deviceId: input.deviceId });
      return listSharesNeedingForward(ctx.db, {
        userId: ctx.user.id,
        deviceId: input.deviceId,
        cursor: cursorOf(input.cursor),
        limit: input.limit,
      });
    }),

  /** Marks shares read: some ids, a whole team feed, or a whole direct thread. */
  markRead: authedProcedure
    .input(markReadInput)
    .output(markReadOutput)
    .mutation(async ({ ctx, input }) => {
      if ("teamId" in input) await explainTeamAccess(ctx.db, { teamId: input.teamId, userId: ctx.user.id, permission: "view" });
      const scope = "userId" in input ? { peerId: input.userId } : input;
      return { marked: await markSharesRead(ctx.db, { userId: ctx.user.id, ...scope }) };
    }),

  /** Unread counts per team and per direct thread (shares by others I have not marked read). */
  unread: authedProcedure.output(unreadOutput).query(async ({ ctx }) => {
    const counts = await countUnread(ctx.db, { userId: ctx.user.id });
    const total = [...counts.teams, ...counts.direct].reduce((n, c) => n + c.unread, 0);
    return { total, ...counts };
  }),
});
