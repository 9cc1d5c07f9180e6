import { AppError, type GitHubProfile } from "@osmynt/db";
import { z } from "zod";
import type { GitHubConfig } from "./github-env.js";

/** The fields of GitHub's `GET /user` that the engine keeps. */
const userSchema = z.object({
  id: z.number().int().positive(),
  login: z.string().min(1).max(39),
  name: z.string().nullish(),
  avatar_url: z.string().nullish(),
});

const emailsSchema = z.array(z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }).loose());

type Outcome = { ok: true; status: number; body: unknown } | { ok: false; status: number | null };

/**
 * One authenticated GET to GitHub's API, bounded by the configured timeout. The token travels
 * only in the Authorization header and is never part of a thrown error or a log line.
 */
async function getJson(github: Pick<GitHubConfig, "apiUrl" | "timeoutMs">, path: string, token: string): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(`${github.apiUrl}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/vnd.github+json",
        "user-agent": "osmynt-engine",
        "x-github-api-version": "2022-11-28",
      },
      signal: AbortSignal.timeout(github.timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    throw new AppError(
      "BAD_GATEWAY",
      timedOut
        ? `GitHub did not answer ${path} within ${github.timeoutMs} ms; try again`
        : `GitHub could not be reached (${path}); try again`,
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    return { ok: false, status: response.status };
  }
  try {
    return { ok: true, status: response.status, body: await response.json() };
  } catch {
    throw new AppError("BAD_GATEWAY", `GitHub answered ${path} with something that is not JSON`);
  }
}

/**
 * Who a GitHub access token belongs to: `/user`, and the primary verified address from
 * `/user/emails`. A token GitHub refuses is UNAUTHORIZED; GitHub failing or timing out is
 * BAD_GATEWAY. The emails call is best-effort: tokens without the `user:email` scope (such as some
 * `gh auth token` tokens) still sign in, without an email.
 */
export async function fetchGitHubProfile(github: Pick<GitHubConfig, "apiUrl" | "timeoutMs">, token: string): Promise<GitHubProfile> {
  const user = await getJson(github, "/user", token);
  if (!user.ok) {
    if (user.status === 401)
      throw new AppError("UNAUTHORIZED", "GitHub did not accept the token (401 Bad credentials); sign in to GitHub again");
    if (user.status === 403)
      throw new AppError("BAD_GATEWAY", "GitHub refused /user for this token (403: rate limited or blocked); try again later");
    throw new AppError("BAD_GATEWAY", `GitHub answered /user with HTTP ${user.status}; try again`);
  }
  const parsed = userSchema.safeParse(user.body);
  if (!parsed.success) throw new AppError("BAD_GATEWAY", "GitHub answered /user with something that is not a GitHub user");

  let email: string | null = null;
  const emails = await getJson(github, "/user/emails", token).catch(() => null);
  if (emails?.ok) {
    const list = emailsSchema.safeParse(emails.body);
    email = (list.success && list.data.find((e) => e.primary && e.verified)?.email) || null;
  }
  return {
    githubId: parsed.data.id,
    login: parsed.data.login,
    name: parsed.data.name ?? null,
    email,
    avatarUrl: parsed.data.avatar_url ?? null,
  };
}
