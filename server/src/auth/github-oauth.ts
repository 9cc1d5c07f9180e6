import { AppError } from "@osmynt/db";
import { OAuth2Client } from "arctic";
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

/**
 * Exchanges the code from the callback for a GitHub access token (RFC 6749 §4.1.3, client
 * credentials in HTTP Basic). The request is aborted at the configured timeout, so a GitHub that
 * never answers costs neither a socket nor a pending promise. (arctic builds the authorize URL;
 * its token request takes no AbortSignal, which is why the exchange is done here.)
 * GitHub answers a bad or expired code with HTTP 200 and an `error` field: that body is checked
 * before any token is taken from it.
 */
export async function exchangeGitHubCode(github: GitHubConfig, params: { callbackUrl: string; code: string }): Promise<string> {
  const body = new URLSearchParams({ grant_type: "authorization_code", code: params.code, redirect_uri: params.callbackUrl });
  let response: Response;
  try {
    response = await fetch(github.tokenUrl, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        "user-agent": "osmynt-engine",
        authorization: `Basic ${Buffer.from(`${github.clientId}:${github.clientSecret}`).toString("base64")}`,
      },
      body,
      signal: AbortSignal.timeout(github.timeoutMs),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError")
      throw new AppError("BAD_GATEWAY", `GitHub did not answer the code exchange within ${github.timeoutMs} ms; try again`);
    throw new AppError("BAD_GATEWAY", "GitHub could not be reached to exchange the code; try again");
  }
  let data: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = await response.json();
    if (typeof parsed === "object" && parsed !== null) data = parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError")
      throw new AppError("BAD_GATEWAY", `GitHub did not answer the code exchange within ${github.timeoutMs} ms; try again`);
  }
  if (data && typeof data.error === "string" && (response.ok || response.status === 400 || response.status === 401))
    throw refused(data.error, typeof data.error_description === "string" ? data.error_description : null);
  if (!response.ok) throw new AppError("BAD_GATEWAY", `GitHub answered the code exchange with HTTP ${response.status}; try again`);
  if (!data) throw new AppError("BAD_GATEWAY", "GitHub's answer to the code exchange could not be understood");
  if (typeof data.access_token !== "string" || data.access_token.length === 0)
    throw new AppError("BAD_GATEWAY", "GitHub's answer to the code exchange held no access token");
  return data.access_token;
}
