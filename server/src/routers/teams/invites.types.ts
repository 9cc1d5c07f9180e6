import { INVITE_TOKEN_PREFIX, schema } from "@osmynt/db";
import { createInsertSchema, createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { idInput } from "../../trpc/id-input.js";
import { grantableRoleSchema, teamSummarySchema } from "./teams.types.js";

const iso = z.string().describe("ISO 8601 timestamp");

export const DEFAULT_INVITE_HOURS = 24;
const MAX_INVITE_HOURS = 24 * 30;

/** Role and uses come from the invites table; expiry is asked for in hours. */
export const createInviteInput = createInsertSchema(schema.teamInvites, {
  maxUses: (s) => s.int().min(1, "maxUses is at least 1").max(1000, "maxUses is at most 1000"),
})
  .pick({ role: true, maxUses: true })
  .partial()
  .extend({
    expiresInHours: z
      .number()
      .positive("expiresInHours must be positive")
      .max(MAX_INVITE_HOURS, `expiresInHours is at most ${MAX_INVITE_HOURS} (30 days)`)
      .optional(),
  });

export const createInviteOutput = z.object({
  inviteId: z.string(),
  /** Shown once: only its hash is stored. */
  token: z.string(),
  url: z.string(),
  role: grantableRoleSchema,
  maxUses: z.number().int(),
  expiresAt: iso,
});

export const listInvitesInput = z.object({
  cursor: idInput("invite", "cursor").optional(),
  limit: z.number().int().min(1).max(100).default(50),
});

export const inviteSchema = createSelectSchema(schema.teamInvites)
  .pick({ id: true, role: true, maxUses: true, uses: true, createdBy: true })
  .extend({
    status: z.enum(["active", "expired", "revoked", "usedUp"]),
    expiresAt: iso,
    createdAt: iso,
    revokedAt: iso.nullable(),
  });

export const listInvitesOutput = z.object({ invites: inviteSchema.array(), nextCursor: z.string().nullable() });
export const revokeInviteInput = z.object({ inviteId: idInput("invite", "inviteId") });
export const revokeInviteOutput = z.object({ inviteId: z.string(), changed: z.boolean() });

// 32 random bytes in base64url are 43 characters.
const tokenPattern = new RegExp(`^${INVITE_TOKEN_PREFIX}_[A-Za-z0-9_-]{43}$`);

/** The token itself, or the invite URL that carries it as its last path segment. */
function extractToken(value: string): string {
  if (!/^https?:\/\//i.test(value)) return value;
  try {
    const match = new URL(value).pathname.match(/\/invite\/([^/]+)\/?$/);
    return match?.[1] ? decodeURIComponent(match[1]) : "";
  } catch {
    return "";
  }
}

export const acceptInviteInput = z.object({
  token: z
    .string()
    .trim()
    .min(1, "token is required")
    .max(2048, "token is too long")
    .transform((value, ctx) => {
      const token = extractToken(value);
      if (tokenPattern.test(token)) return token;
      ctx.addIssue({
        code: "custom",
        message: `not an invite token or invite URL: expected ${INVITE_TOKEN_PREFIX}_… or …/invite/${INVITE_TOKEN_PREFIX}_…`,
      });
      return z.NEVER;
    }),
});

export const acceptInviteOutput = teamSummarySchema.extend({ joined: z.boolean() });

/**
 * `url` is the invite page on this server: PUBLIC_URL when set, else the origin the request came
 * to (right even when the server listens on port 0), else the configured listening address.
 */
export function inviteUrl(
  config: { publicUrl: string | undefined; host: string; port: number },
  requestOrigin: string | undefined,
  token: string,
): string {
  const host = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  const base = (config.publicUrl ?? requestOrigin ?? `http://${host}:${config.port}`).replace(/\/+$/, "");
  return `${base}/invite/${token}`;
}
