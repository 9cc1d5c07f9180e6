import { fetchGitHubProfile } from "../../auth/github-api.js";
import { publicProcedure } from "../../trpc/init.js";
import { sessionSchema } from "./auth.types.js";
import { requireGitHub, signInGitHubUser } from "./github-sign-in.js";
import { githubTokenInput } from "./handshake.types.js";

/**
 * Signs in with a GitHub access token the caller already holds (an editor's GitHub session, or
 * `gh auth token` in a terminal). GitHub's user API says whose token it is; the token is used for
 * that one question and is never stored or logged (the logger censors `githubToken` fields).
 */
export const loginWithGitHubToken = publicProcedure
  .input(githubTokenInput)
  .output(sessionSchema)
  .mutation(async ({ ctx, input }) => {
    const github = requireGitHub(ctx.config);
    const profile = await fetchGitHubProfile(github, input.githubToken);
    return ctx.db.transaction((tx) => signInGitHubUser(tx, ctx.config, { profile, method: "github-token", userAgent: ctx.meta.userAgent }));
  });
