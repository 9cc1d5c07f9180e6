import { schema } from "@osmynt/db";
import { createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { idInput } from "../../trpc/id-input.js";
import { plainText } from "../../trpc/text-input.js";

const iso = z.string().describe("ISO 8601 timestamp");

/** The signed-in user as they see themselves; derived from the users table. */
export const selfUserSchema = createSelectSchema(schema.users)
  .pick({ id: true, login: true, name: true, avatarUrl: true, email: true })
  .extend({ createdAt: iso });

export const sessionSchema = z.object({
  accessToken: z.string(),
  accessTokenExpiresAt: iso,
  refreshToken: z.string(),
  refreshTokenExpiresAt: iso,
  user: selfUserSchema,
});

/** GitHub's login rules: letters, digits and single hyphens, at most 39 characters. */
export const loginSchema = z
  .string()
  .trim()
  .min(1, "login is required")
  .max(39, "login is at most 39 characters")
  .regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9]))*$/, "login may hold letters, digits and single hyphens, not at either end");

export const devLoginInput = z.object({ login: loginSchema });
export const refreshInput = z.object({
  refreshToken: plainText("refreshToken", 200),
});

export const sessionInfoSchema = createSelectSchema(schema.sessions)
  .pick({ id: true, method: true, userAgent: true })
  .extend({ createdAt: iso, lastUsedAt: iso, current: z.boolean() });

export const revokeSessionInput = z.object({
  sessionId: idInput("session", "sessionId"),
});
export const okSchema = z.object({ ok: z.literal(true) });
