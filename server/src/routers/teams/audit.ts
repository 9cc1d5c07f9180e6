import { listTeamAudit } from "@osmynt/db";
import { z } from "zod";
import { teamProcedure } from "../../trpc/init.js";

const auditInput = z.object({
  /** The `nextCursor` of the previous page. */
  cursor: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(100).default(50),
});

const auditEntry = z.object({
  id: z.number().int(),
  action: z.string(),
  actor: z.object({ id: z.string(), login: z.string().nullable() }).nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string().describe("ISO 8601 timestamp"),
});

const auditOutput = z.object({ entries: auditEntry.array(), nextCursor: z.number().int().nullable() });

export const auditProcedures = {
  /** Owner or admin: the team's audit trail, newest first, a page at a time. */
  audit: teamProcedure
    .input(auditInput)
    .output(auditOutput)
    .query(async ({ ctx, input }) => {
      const page = await listTeamAudit(ctx.db, { teamId: input.teamId, userId: ctx.user.id, cursor: input.cursor, limit: input.limit });
      return {
        nextCursor: page.nextCursor,
        entries: page.entries.map(({ actorId, actorLogin, createdAt, ...entry }) => ({
          ...entry,
          actor: actorId ? { id: actorId, login: actorLogin } : null,
          createdAt: createdAt.toISOString(),
        })),
      };
    }),
};
