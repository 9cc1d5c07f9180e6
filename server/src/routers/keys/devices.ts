import { explainTeamAccess, listDevices, readDeviceLog, readDeviceLogFor, readDeviceLogsForTeam } from "@osmynt/db";
import { appendLink } from "../../keys/append-link.js";
import { authedProcedure, teamProcedure } from "../../trpc/init.js";
import {
  addDeviceInput,
  appendInput,
  appendOutput,
  type DeviceLinkOutput,
  deviceLogOutput,
  forTeamOutput,
  forUserInput,
  mineOutput,
} from "./keys.types.js";

// Reads hand out the links exactly as stored: clients verify the whole log themselves and trust
// nothing else the server says about devices.
const asLinks = (links: Record<string, unknown>[]) => links as DeviceLinkOutput[];

export const deviceProcedures = {
  /** The first device of an account: a root link, self-signed by that device. */
  register: authedProcedure
    .input(appendInput)
    .output(appendOutput)
    .mutation(({ ctx, input }) =>
      appendLink(ctx.deps, { userId: ctx.user.id, link: input.link, accepts: ["root"], procedure: "keys.register" }),
    ),

  /** My device log and the devices it currently describes. */
  mine: authedProcedure.output(mineOutput).query(async ({ ctx }) => {
    const [links, devices] = await Promise.all([
      readDeviceLog(ctx.db, { userId: ctx.user.id }),
      listDevices(ctx.db, { userId: ctx.user.id }),
    ]);
    return {
      userId: ctx.user.id,
      links: asLinks(links),
      devices: devices.map((d) => ({
        deviceId: d.id,
        kind: d.kind,
        name: d.name,
        status: d.status,
        signingKey: d.signingKey,
        kemKey: d.kemKey,
        kemKeyId: d.kemKeyId,
        addedSeq: d.addedSeq,
        revokedSeq: d.revokedSeq,
        createdAt: d.createdAt.toISOString(),
      })),
    };
  }),

  /** Every member's device log in one of my teams: what to encrypt to, and verify, for a team share. */
  forTeam: teamProcedure.output(forTeamOutput).query(async ({ ctx, input }) => {
    const members = await readDeviceLogsForTeam(ctx.db, { teamId: input.teamId, viewerId: ctx.user.id });
    if (members.length === 0) await explainTeamAccess(ctx.db, { teamId: input.teamId, userId: ctx.user.id, permission: "view" });
    return { teamId: input.teamId, members: members.map((m) => ({ userId: m.userId, links: asLinks(m.links) })) };
  }),

  /** One user's device log: mine, or a teammate's (a user I share no team with is NOT_FOUND). */
  forUser: authedProcedure
    .input(forUserInput)
    .output(deviceLogOutput)
    .query(async ({ ctx, input }) => {
      const links = await readDeviceLogFor(ctx.db, { viewerId: ctx.user.id, userId: input.userId });
      return { userId: input.userId, links: asLinks(links) };
    }),

  /**
   * Adds a device with an add_device link signed by one of my active devices (or the recovery key)
   * and reverse-signed by the new device. With `pairingId`, it completes that pairing.
   */
  addDevice: authedProcedure
    .input(addDeviceInput)
    .output(appendOutput)
    .mutation(({ ctx, input }) =>
      appendLink(ctx.deps, {
        userId: ctx.user.id,
        link: input.link,
        accepts: ["add_device"],
        procedure: "keys.addDevice",
        pairing: input.pairingId === undefined ? undefined : { id: input.pairingId, sessionId: ctx.sessionId },
      }),
    ),

  /** Adds the account's recovery key (add_recovery, reverse-signed by the recovery key). */
  addRecovery: authedProcedure
    .input(appendInput)
    .output(appendOutput)
    .mutation(({ ctx, input }) =>
      appendLink(ctx.deps, { userId: ctx.user.id, link: input.link, accepts: ["add_recovery"], procedure: "keys.addRecovery" }),
    ),

  /** Revokes a device (or the recovery key): a revoke_device link signed by an active key. */
  revoke: authedProcedure
    .input(appendInput)
    .output(appendOutput)
    .mutation(({ ctx, input }) =>
      appendLink(ctx.deps, { userId: ctx.user.id, link: input.link, accepts: ["revoke_device"], procedure: "keys.revoke" }),
    ),

  /** Replaces a device's encryption key: a rotate_kem link signed by that device. */
  rotate: authedProcedure
    .input(appendInput)
    .output(appendOutput)
    .mutation(({ ctx, input }) =>
      appendLink(ctx.deps, { userId: ctx.user.id, link: input.link, accepts: ["rotate_kem"], procedure: "keys.rotate" }),
    ),
};
