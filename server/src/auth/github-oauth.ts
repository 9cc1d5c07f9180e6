import { AppError } from "@osmynt/db";
import { ArcticFetchError, OAuth2Client, OAuth2RequestError, UnexpectedErrorResponseBodyError, UnexpectedResponseError } from "arctic";
import type { GitHubConfig } from "./github-env.js";

/** What the engine asks GitHub for: the profile and the email addresses, nothing in any repository. */
export const GITHUB_SCOPES = ["read:user", "user:email"];

/**
 * arctic's GitHub class has github.com's endpoints built in; its generic OAuth2Client takes them as
 * arguments, which is what a configurable (or fake) GitHub needs.
 * @see https://arcticjs.dev/guides/generic-oauth2-client
 */
function clientFor(github: GitHubConfig, callbackUrl: string) {
  return new OAuth2Client(github.clientId, github.clientSecret, callbackUrl);
}

export function githubAuthorizeUrl(github: GitHubConfig, params: { callbackUrl: string; state: string }): string {
  return clientFor(github, params.callbackUrl).createAuthorizationURL(github.authorizeUrl, params.state, GITHUB_SCOPES).toString();
}

function refused(code: string, description: string | null) {
  return new AppError(
    "UNAUTHORIZED",
    `GitHub refused the authorization code (${code}${description ? `: ${description}` : ""}); sign in again`,
    {
      githubError: code,
    },
  );
}

/** arctic's errors, as what went wrong for the person signing in. */
function translate(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof OAuth2RequestError) return refused(error.code, error.description);
  if (error instanceof ArcticFetchError) return new AppError("BAD_GATEWAY", "GitHub could not be reached to exchange the code; try again");
  if (error instanceof UnexpectedResponseError)
    return new AppError("BAD_GATEWAY", `GitHub answered the code exchange with HTTP ${error.status}; try again`);
  if (error instanceof UnexpectedErrorResponseBodyError)
    return new AppError("BAD_GATEWAY", `GitHub answered the code exchange with HTTP ${error.status} and an unreadable body`);
  return new AppError("BAD_GATEWAY", "GitHub's answer to the code exchange could not be understood");
}

/**
 * Exchanges the code from the callback for a GitHub access token, within the configured timeout.
 * arctic's fetch takes no AbortSignal, so the timeout races it; the abandoned request is left to
 * finish (or fail) on its own and its outcome is swallowed.
 * GitHub answers a bad or expired code with HTTP 200 and an `error` field, which the generic
 * client reads as tokens: that body is checked here before any token is taken from it.
 */
export async function exchangeGitHubCode(github: GitHubConfig, params: { callbackUrl: string; code: string }): Promise<string> {
  const request = clientFor(github, params.callbackUrl).validateAuthorizationCode(github.tokenUrl, params.code, null);
  request.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AppError("BAD_GATEWAY", `GitHub did not answer the code exchange within ${github.timeoutMs} ms; try again`)),
      github.timeoutMs,
    );
  });
  try {
    const tokens = await Promise.race([request, timeout]);
    const data = tokens.data as Record<string, unknown>;
    if (typeof data.error === "string")
      throw refused(data.error, typeof data.error_description === "string" ? data.error_description : null);
    if (typeof data.access_token !== "string" || data.access_token.length === 0)
      throw new AppError("BAD_GATEWAY", "GitHub's answer to the code exchange held no access token");
    return data.access_token;
  } catch (error) {
    throw translate(error);
  } finally {
    clearTimeout(timer);
  }
}
