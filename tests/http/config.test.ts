import { ConfigError, loadConfig } from "@osmynt/server";
import { describe, expect, it } from "vitest";

const GOOD_SECRET = "a-production-secret-of-more-than-32-chars";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).name).toBe("ConfigError");
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig: every bad variable is named at once", () => {
  it("PORT=abc and DATABASE_URL=mysql://x together", () => {
    const { message } = configError({ PORT: "abc", DATABASE_URL: "mysql://x" });
    expect(message).toMatch(/^Invalid configuration:/);
    expect(message).toMatch(/PORT: /);
    expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
  });

  it("many bad values in one error, one line each", () => {
    const { message } = configError({
      NODE_ENV: "staging",
      PORT: "70000",
      DATABASE_URL: "mysql://x",
      REDIS_URL: "http://localhost:6379",
      BODY_LIMIT_BYTES: "10",
      ACCESS_TOKEN_TTL_SECONDS: "5",
      LOG_LEVEL: "loud",
      TRUST_PROXY: "maybe",
    });
    for (const name of [
      "NODE_ENV",
      "PORT",
      "DATABASE_URL",
      "REDIS_URL",
      "BODY_LIMIT_BYTES",
      "ACCESS_TOKEN_TTL_SECONDS",
      "LOG_LEVEL",
      "TRUST_PROXY",
    ]) {
      expect(message).toMatch(new RegExp(`^  ${name}: `, "m"));
    }
  });

  // Review finding: a number past a variable's bound was reported as "must be a number".
  it("a number out of bounds names the bound; a fraction where a whole number belongs says so", () => {
    const { message } = configError({
      PORT: "70000",
      MAX_BATCH_SIZE: "0",
      DATABASE_POOL_SIZE: "2.5",
      GITHUB_TIMEOUT_MS: "999999",
      ACCESS_TOKEN_TTL_SECONDS: "ten",
    });
    expect(message).toMatch(/^ {2}PORT: must be at most 65535$/m);
    expect(message).toMatch(/^ {2}MAX_BATCH_SIZE: must be at least 1$/m);
    expect(message).toMatch(/^ {2}DATABASE_POOL_SIZE: must be a whole number$/m);
    expect(message).toMatch(/^ {2}GITHUB_TIMEOUT_MS: must be at most 120000$/m);
    expect(message).toMatch(/^ {2}ACCESS_TOKEN_TTL_SECONDS: must be a number$/m);
  });

  it("names a value that fails to parse together with the cross-field problems", () => {
    const { message } = configError({ PORT: "abc", JWT_SECRET: "short", NODE_ENV: "production", CORS_ORIGINS: "*" });
    expect(message).toMatch(/PORT: must be a number/);
    expect(message).toMatch(/JWT_SECRET: must be at least 32 characters/);
    expect(message).toMatch(/CORS_ORIGINS: a wildcard is refused/);
  });

  it("names every bad value among the cross-checked ones too", () => {
    const { message } = configError({ JWT_SECRET: "short", CORS_ORIGINS: "not-an-origin", GITHUB_CLIENT_ID: "only-the-id" });
    expect(message).toMatch(/JWT_SECRET: must be at least 32 characters/);
    expect(message).toMatch(/CORS_ORIGINS: "not-an-origin" is not an origin/);
    expect(message).toMatch(/GITHUB_CLIENT_ID \/ GITHUB_CLIENT_SECRET: set both or neither/);
  });
});

describe("loadConfig: production refuses laptop-only settings", () => {
  it("a missing JWT_SECRET", () => {
    expect(configError({ NODE_ENV: "production" }).message).toMatch(/JWT_SECRET: required in production/);
    expect(configError({ NODE_ENV: "production", JWT_SECRET: "   " }).message).toMatch(/JWT_SECRET: required in production/);
  });

  it("a short JWT_SECRET", () => {
    expect(configError({ NODE_ENV: "production", JWT_SECRET: "x".repeat(31) }).message).toMatch(
      /JWT_SECRET: must be at least 32 characters/,
    );
  });

  it("CORS_ORIGINS=*", () => {
    expect(configError({ NODE_ENV: "production", JWT_SECRET: GOOD_SECRET, CORS_ORIGINS: "*" }).message).toMatch(
      /CORS_ORIGINS: a wildcard is refused in production/,
    );
    expect(configError({ NODE_ENV: "production", JWT_SECRET: GOOD_SECRET, CORS_ORIGINS: "https://a.example, *" }).message).toMatch(
      /wildcard/,
    );
  });

  it("a missing secret and a wildcard are named together", () => {
    const { message } = configError({ NODE_ENV: "production", CORS_ORIGINS: "*" });
    expect(message).toMatch(/JWT_SECRET: required in production/);
    expect(message).toMatch(/CORS_ORIGINS: a wildcard is refused/);
  });

  it("accepts a proper production configuration, with devLogin disabled", () => {
    const config = loadConfig({ NODE_ENV: "production", JWT_SECRET: GOOD_SECRET, CORS_ORIGINS: "https://a.example,https://b.example" });
    expect(config.env).toBe("production");
    expect(config.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(config.auth.jwtSecretGenerated).toBe(false);
    expect(config.devLoginDisabledReason).toMatch(/production/);
  });
});

describe("loadConfig: defaults and devLogin mode", () => {
  it("sessions last 90 days at most and end after 30 idle days, both configurable", () => {
    expect(loadConfig({}).auth.sessionLimits).toEqual({ maxAgeMs: 90 * 86_400_000, idleMs: 30 * 86_400_000 });
    expect(loadConfig({ SESSION_MAX_AGE_DAYS: "7", SESSION_IDLE_TIMEOUT_DAYS: "1" }).auth.sessionLimits).toEqual({
      maxAgeMs: 7 * 86_400_000,
      idleMs: 86_400_000,
    });
    const { message } = configError({ SESSION_MAX_AGE_DAYS: "forever", SESSION_IDLE_TIMEOUT_DAYS: "0" });
    expect(message).toMatch(/^ {2}SESSION_MAX_AGE_DAYS: /m);
    expect(message).toMatch(/^ {2}SESSION_IDLE_TIMEOUT_DAYS: /m);
  });

  it("empty strings count as unset", () => {
    const config = loadConfig({ PORT: "", DATABASE_URL: "", REDIS_URL: " ", JWT_SECRET: "" });
    expect(config.port).toBe(8787);
    expect(config.database.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.auth.jwtSecretGenerated).toBe(true);
  });

  it("devLogin is on only for a loopback host outside production without GitHub", () => {
    for (const host of ["127.0.0.1", "localhost", "::1", "127.0.0.2"]) expect(loadConfig({ HOST: host }).devLoginDisabledReason).toBeNull();
    expect(loadConfig({ HOST: "0.0.0.0" }).devLoginDisabledReason).toMatch(/listens on 0\.0\.0\.0, not on loopback/);
    expect(loadConfig({ HOST: "192.168.1.10" }).devLoginDisabledReason).toMatch(/192\.168\.1\.10/);
    expect(loadConfig({ GITHUB_CLIENT_ID: "id", GITHUB_CLIENT_SECRET: "secret" }).devLoginDisabledReason).toMatch(
      /GitHub sign-in is configured/,
    );
    expect(loadConfig({ TRUST_PROXY: "1" }).devLoginDisabledReason).toMatch(/TRUST_PROXY is set/);
    expect(loadConfig({ TRUST_PROXY: "false" }).devLoginDisabledReason).toBeNull();
  });
});

describe("loadConfig: production refuses guessable secrets and plain-HTTP URLs", () => {
  const base = { NODE_ENV: "production", JWT_SECRET: GOOD_SECRET };

  it("a JWT_SECRET of 32 identical characters, or a repeated pattern, saying why", () => {
    const same = configError({ ...base, JWT_SECRET: "a".repeat(32) }).message;
    expect(same).toMatch(/JWT_SECRET: too predictable for production/);
    expect(same).toMatch(/whoever guesses it can sign access tokens for any user/);
    expect(same).toMatch(/openssl rand -base64 32/);
    expect(configError({ ...base, JWT_SECRET: "abcd1234".repeat(5) }).message).toMatch(/JWT_SECRET: too predictable .*repeated pattern/);
    expect(configError({ ...base, JWT_SECRET: `${"0".repeat(30)}12` }).message).toMatch(/JWT_SECRET: too predictable .*bits/);
  });

  it("accepts random secrets (base64 and hex) and leaves development alone", () => {
    expect(loadConfig({ ...base, JWT_SECRET: "E6vN/E1FqEXGjiaNhCpOwOLDN2zLxOklUQ0pjNGtqsk=" }).env).toBe("production");
    expect(loadConfig({ ...base, JWT_SECRET: "4377011e2a1d4d22070e5a998d9a0658257fcdbb77b80538ed5062ae5f07a834" }).env).toBe("production");
    expect(loadConfig({ JWT_SECRET: "a".repeat(32) }).env).toBe("development");
  });

  it("http:// for PUBLIC_URL, GITHUB_OAUTH_URL and GITHUB_API_URL, except on loopback", () => {
    const message = configError({
      ...base,
      PUBLIC_URL: "http://osmynt.example.com",
      GITHUB_CLIENT_ID: "id",
      GITHUB_CLIENT_SECRET: "secret",
      GITHUB_OAUTH_URL: "http://ghe.example.com",
      GITHUB_API_URL: "http://ghe.example.com/api/v3",
    }).message;
    for (const name of ["PUBLIC_URL", "GITHUB_OAUTH_URL", "GITHUB_API_URL"])
      expect(message).toMatch(new RegExp(`^  ${name}: must be https:// in production`, "m"));
    const loopback = loadConfig({
      ...base,
      PUBLIC_URL: "http://127.0.0.1:8787",
      GITHUB_CLIENT_ID: "id",
      GITHUB_CLIENT_SECRET: "secret",
      GITHUB_OAUTH_URL: "http://localhost:9999",
      GITHUB_API_URL: "http://[::1]:9999/api",
    });
    expect(loopback.publicUrl).toBe("http://127.0.0.1:8787");
    expect(loadConfig({ PUBLIC_URL: "http://osmynt.example.com" }).publicUrl).toBe("http://osmynt.example.com");
  });
});
