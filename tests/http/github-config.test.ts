import { ConfigError, loadConfig } from "@osmynt/server";
import { describe, expect, it } from "vitest";

const app = { GITHUB_CLIENT_ID: "Iv1.id", GITHUB_CLIENT_SECRET: "secret" };

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("GitHub sign-in settings", () => {
  it("are off without an OAuth app, and default to github.com with one", () => {
    expect(loadConfig({}).github).toBeNull();
    expect(loadConfig(app).github).toEqual({
      clientId: "Iv1.id",
      clientSecret: "secret",
      authorizeUrl: "https://github.com/login/oauth/authorize",
      tokenUrl: "https://github.com/login/oauth/access_token",
      apiUrl: "https://api.github.com",
      timeoutMs: 10_000,
      handshakeTtlMs: 600_000,
    });
  });

  it("take another GitHub's base URLs (a trailing slash is dropped), a timeout and a handshake lifetime", () => {
    const github = loadConfig({
      ...app,
      GITHUB_OAUTH_URL: "https://ghe.example.com/",
      GITHUB_API_URL: "https://ghe.example.com/api/v3/",
      GITHUB_TIMEOUT_MS: "2500",
      HANDSHAKE_TTL_SECONDS: "120",
    }).github;
    expect(github).toMatchObject({
      authorizeUrl: "https://ghe.example.com/login/oauth/authorize",
      tokenUrl: "https://ghe.example.com/login/oauth/access_token",
      apiUrl: "https://ghe.example.com/api/v3",
      timeoutMs: 2500,
      handshakeTtlMs: 120_000,
    });
  });

  it("name every bad value", () => {
    const message = problemsOf({
      ...app,
      GITHUB_API_URL: "ftp://x",
      GITHUB_OAUTH_URL: "not a url",
      GITHUB_TIMEOUT_MS: "soon",
      HANDSHAKE_TTL_SECONDS: "0",
    });
    for (const name of ["GITHUB_API_URL", "GITHUB_OAUTH_URL", "GITHUB_TIMEOUT_MS", "HANDSHAKE_TTL_SECONDS"])
      expect(message).toMatch(new RegExp(`^  ${name}: `, "m"));
  });

  it("production with GitHub needs PUBLIC_URL, the base of the registered callback", () => {
    const production = { NODE_ENV: "production", JWT_SECRET: "a-production-secret-of-more-than-32-chars", ...app };
    expect(problemsOf(production)).toMatch(/PUBLIC_URL: required in production when GitHub sign-in is configured/);
    expect(loadConfig({ ...production, PUBLIC_URL: "https://osmynt.example.com" }).github?.clientId).toBe("Iv1.id");
  });
});
