import { AppError, type GitHubProfile, type Transaction, upsertGitHubUser } from "@osmynt/db";
import type { GitHubConfig } from "../../auth/github-env.js";
import type { Config } from "../../env.js";
import { startPersonalTeam } from "../teams/manage-team.js";
import { openSession } from "./issue-session.js";

/** GitHub sign-in is on only with an OAuth app configured; otherwise say how to turn it on. */
export function requireGitHub(config: Config): GitHubConfig {
  if (!config.github)
    throw new AppError(
      "FORBIDDEN",
      "GitHub sign-in is not configured on this server (the operator sets GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET)",
    );
  return config.github;
}

/**
 * Signs in the GitHub user `profile` describes, inside the caller's transaction: the user is
 * created or brought up to date, a first sign-in gets the personal team (the same provisioning
 * as devLogin), and a session is opened. Both GitHub flows (browser and token) end here.
 */
export async function signInGitHubUser(
  tx: Transaction,
  config: Config,
  params: { profile: GitHubProfile; method: "github" | "github-token"; userAgent: string | undefined },
) {
  const user = await provisionGitHubUser(tx, params.profile);
  return openSession(tx, config, { user, method: params.method, userAgent: params.userAgent });
}

/** The user GitHub vouched for, created (with a personal team) or brought up to date; no session yet. */
export async function provisionGitHubUser(tx: Transaction, profile: GitHubProfile) {
  const { user, created } = await upsertGitHubUser(tx, profile);
  if (created) await startPersonalTeam(tx, user);
  return user;
}

/**
 * The public base URL that links and the OAuth callback are built on: PUBLIC_URL when set
 * (required in production), else the origin the request came to, which is right for a server
 * reached directly (local development, tests).
 */
export function publicBaseUrl(config: Config, requestOrigin: string | undefined): string {
  const base = config.publicUrl ?? requestOrigin;
  if (!base) throw new AppError("PRECONDITION_FAILED", "the server cannot tell its public URL; the operator sets PUBLIC_URL");
  return base.replace(/\/+$/, "");
}
