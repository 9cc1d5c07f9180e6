import { z } from "zod";
import { envNumber } from "../env-number.js";

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const baseUrl = (fallback: string) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^https?$/ })
      .default(fallback)
      .transform((url) => url.replace(/\/+$/, "")),
  );

/**
 * GitHub sign-in settings beyond the OAuth app's id and secret. The base URLs exist so tests (and
 * GitHub Enterprise Server) can point the engine at another GitHub; they default to github.com.
 */
export const githubEnvShape = {
  /** Where the browser is sent to authorize and where codes are exchanged (`/login/oauth/*`). */
  GITHUB_OAUTH_URL: baseUrl("https://github.com"),
  /** GitHub's REST API (`/user`, `/user/emails`). */
  GITHUB_API_URL: baseUrl("https://api.github.com"),
  /** How long one request to GitHub may take before sign-in fails with BAD_GATEWAY. */
  GITHUB_TIMEOUT_MS: z.preprocess(emptyAsUndefined, envNumber().int().min(100).max(120_000).default(10_000)),
  /** How long an editor's browser sign-in may take, from `auth.handshake.init` to retrieval. */
  HANDSHAKE_TTL_SECONDS: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(3600).default(600)),
};

export interface GitHubConfig {
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  timeoutMs: number;
  handshakeTtlMs: number;
}

type GitHubEnv = { [K in keyof typeof githubEnvShape]: z.output<(typeof githubEnvShape)[K]> } & {
  GITHUB_CLIENT_ID?: string | undefined;
  GITHUB_CLIENT_SECRET?: string | undefined;
};

/** Null when no OAuth app is configured: then GitHub sign-in is off (and devLogin may be on). */
export function githubConfigOf(e: GitHubEnv): GitHubConfig | null {
  if (!e.GITHUB_CLIENT_ID || !e.GITHUB_CLIENT_SECRET) return null;
  return {
    clientId: e.GITHUB_CLIENT_ID,
    clientSecret: e.GITHUB_CLIENT_SECRET,
    authorizeUrl: `${e.GITHUB_OAUTH_URL}/login/oauth/authorize`,
    tokenUrl: `${e.GITHUB_OAUTH_URL}/login/oauth/access_token`,
    apiUrl: e.GITHUB_API_URL,
    timeoutMs: e.GITHUB_TIMEOUT_MS,
    handshakeTtlMs: e.HANDSHAKE_TTL_SECONDS * 1000,
  };
}
