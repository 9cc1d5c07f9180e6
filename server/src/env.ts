import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { type GitHubConfig, githubConfigOf, githubEnvShape } from "./auth/github-env.js";
import { envNumber } from "./env-number.js";
import { parseTrustProxy, type TrustProxy } from "./limits/trust-proxy.js";

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

const envSchema = z.object({
  NODE_ENV: z.preprocess(emptyAsUndefined, z.enum(["development", "test", "production"]).default("development")),
  HOST: z.preprocess(emptyAsUndefined, z.string().default("127.0.0.1")),
  PORT: z.preprocess(emptyAsUndefined, envNumber().int().min(0).max(65535).default(8787)),
  PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
  ),
  DATABASE_POOL_SIZE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(200).default(10)),
  DATABASE_CONNECT_TIMEOUT_SECONDS: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(120).default(5)),
  DATABASE_STATEMENT_TIMEOUT_MS: z.preprocess(emptyAsUndefined, envNumber().int().min(0).max(3_600_000).default(30_000)),
  OSMYNT_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default("./.osmynt/data")),
  REDIS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .optional(),
  ),
  REDIS_CHANNEL_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[\w.:-]+$/)
      .default("osmynt"),
  ),
  JWT_SECRET: optionalString,
  ACCESS_TOKEN_TTL_SECONDS: z.preprocess(emptyAsUndefined, envNumber().int().min(30).max(86_400).default(900)),
  REFRESH_TOKEN_TTL_DAYS: z.preprocess(emptyAsUndefined, envNumber().min(0.00001).max(365).default(30)),
  SESSION_MAX_AGE_DAYS: z.preprocess(emptyAsUndefined, envNumber().min(0.00001).max(3650).default(90)),
  SESSION_IDLE_TIMEOUT_DAYS: z.preprocess(emptyAsUndefined, envNumber().min(0.00001).max(3650).default(30)),
  SESSION_CACHE_TTL_SECONDS: z.preprocess(emptyAsUndefined, envNumber().min(0).max(300).default(10)),
  CORS_ORIGINS: optionalString,
  BODY_LIMIT_BYTES: z.preprocess(
    emptyAsUndefined,
    envNumber()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
  ),
  REQUEST_TIMEOUT_MS: z.preprocess(emptyAsUndefined, envNumber().int().min(1000).max(600_000).default(30_000)),
  HEADERS_TIMEOUT_MS: z.preprocess(emptyAsUndefined, envNumber().int().min(1000).max(600_000).default(10_000)),
  RATE_LIMIT_PER_MINUTE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).default(600)),
  RATE_LIMIT_PER_USER_PER_MINUTE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(1000000).default(600)),
  RATE_LIMIT_SIGN_IN_PER_MINUTE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(1000000).default(20)),
  RATE_LIMIT_INVITE_ACCEPT_PER_MINUTE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(1000000).default(10)),
  RATE_LIMIT_PAIRING_PER_MINUTE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(1000000).default(5)),
  RATE_LIMIT_ON_REDIS_DOWN: z.preprocess(emptyAsUndefined, z.enum(["local", "open", "closed"]).default("local")),
  MAX_BATCH_SIZE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(100).default(10)),
  MAX_TEAMS_PER_USER: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(100_000).default(100)),
  EVENT_RETENTION_DAYS: z.preprocess(emptyAsUndefined, envNumber().min(0.001).max(3650).default(30)),
  EVENT_RETENTION_BATCH_SIZE: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(100_000).default(1000)),
  MAX_CONNECTIONS: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(1_000_000).default(10_000)),
  WS_MAX_CONNECTIONS_PER_USER: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(1000).default(20)),
  WS_MAX_ANONYMOUS_PER_IP: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(100_000).default(20)),
  SUBSCRIPTIONS_PER_USER: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(10_000).default(50)),
  EVENT_CHECKPOINT_MS: z.preprocess(emptyAsUndefined, envNumber().int().min(20).max(3_600_000).default(60_000)),
  SUBSCRIPTION_BUFFER_EVENTS: z.preprocess(emptyAsUndefined, envNumber().int().min(10).max(1_000_000).default(2000)),
  WS_MAX_BUFFERED_BYTES: z.preprocess(
    emptyAsUndefined,
    envNumber()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(8 * 1024 * 1024),
  ),
  KEYS_MAX_DEVICES_PER_USER: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(1000).default(10)),
  PAIRING_TTL_SECONDS: z.preprocess(emptyAsUndefined, envNumber().min(1).max(3600).default(300)),
  PAIRING_ATTEMPTS_PER_HOUR: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(10_000).default(10)),
  SHARE_MAX_CIPHERTEXT_BYTES: z.preprocess(
    emptyAsUndefined,
    envNumber()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
  ),
  SHARE_PURGE_INTERVAL_SECONDS: z.preprocess(emptyAsUndefined, envNumber().int().min(1).max(86_400).default(300)),
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, "must be at least 16 characters").optional()),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info")),
  TRUST_PROXY: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      const parsed = parseTrustProxy(value);
      if (parsed && "error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
    }),
  GITHUB_CLIENT_ID: optionalString,
  GITHUB_CLIENT_SECRET: optionalString,
  ...githubEnvShape,
});

export type RawEnv = z.input<typeof envSchema>;

export interface Config {
  env: "development" | "test" | "production";
  host: string;
  port: number;
  publicUrl: string | undefined;
  database: { url: string | undefined; dataDir: string; poolSize: number; connectTimeoutSeconds: number; statementTimeoutMs: number };
  redis: { url: string | undefined; channelPrefix: string };
  auth: {
    jwtSecret: Uint8Array;
    jwtSecretGenerated: boolean;
    accessTtlSeconds: number;
    refreshTtlMs: number;
    /** Absolute lifetime of a session from sign-in, and the idle time (since its last refresh) that ends it. */
    sessionLimits: { maxAgeMs: number; idleMs: number };
    /** How long an instance may trust its memory that a session is active (0: ask the database every request). */
    sessionCacheTtlMs: number;
  };
  /** Null when devLogin is allowed; otherwise why it is not. */
  devLoginDisabledReason: string | null;
  /** Null when GitHub sign-in is not configured. */
  github: GitHubConfig | null;
  corsOrigins: string[] | "*";
  bodyLimit: number;
  /** Open TCP connections (HTTP, SSE, WebSocket) past which new ones are answered 503. */
  maxConnections: number;
  /** Most time a client may take to send a whole request (headers and body), and its headers alone. */
  timeouts: { requestMs: number; headersMs: number };
  /** Calls a minute: per client address, per user, and the stricter per-procedure budgets (limits/budgets.ts). */
  rateLimits: {
    perAddress: number;
    perUser: number;
    signIn: number;
    inviteAccept: number;
    pairing: number;
    /** What the limits do while Redis is unreachable (see limits/limiter.ts). */
    onRedisDown: "local" | "open" | "closed";
  };
  /** Bearer token /metrics requires; undefined: /metrics is open. */
  metricsToken: string | undefined;
  /** Most calls in one HTTP batch or one WebSocket message. */
  maxBatchSize: number;
  /** Live teams one user may belong to (their personal team included). */
  maxTeamsPerUser: number;
  eventRetentionMs: number;
  eventRetentionBatchSize: number;
  realtime: {
    maxAnonymousPerIp: number;
    maxConnectionsPerUser: number;
    maxSubscriptionsPerUser: number;
    subscriptionBufferEvents: number;
    maxBufferedBytes: number;
    /** A stream with nothing to send for this long gets a `sync.checkpoint` (its cursor moves on). */
    checkpointMs: number;
  };
  keys: {
    /** Active devices (recovery key not counted) one user may have. */
    maxDevicesPerUser: number;
    /** How long a pairing may take from `keys.pairing.init` to the appended add_device. */
    pairingTtlMs: number;
    /** Pairings one user may start in an hour. */
    pairingsPerHour: number;
  };
  /** Largest share ciphertext, the request body it needs (base64url and envelope), and how often expired shares are purged. */
  shares: { maxCiphertextBytes: number; maxBodyBytes: number; purgeIntervalMs: number };
  logLevel: string;
  trustProxy: TrustProxy;
}

function splitOrigins(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
}

/**
 * A rough entropy estimate of a secret from its own character statistics (Shannon entropy per
 * character × length): enough to catch `xxxx…`, `abcabc…` and short dictionary phrases, which
 * anyone can guess and then mint access tokens for any user. Real randomness (`openssl rand
 * -base64 32`) scores far above the bar.
 */
export function estimatedSecretBits(secret: string): number {
  const counts = new Map<string, number>();
  for (const c of secret) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / secret.length) * Math.log2(n / secret.length);
  return perChar * secret.length;
}

/** The shortest period that repeats to the whole string (`abab` → 2); the length when none does. */
function period(text: string): number {
  for (let p = 1; p <= text.length / 2; p++) if (text.length % p === 0 && text.slice(0, p).repeat(text.length / p) === text) return p;
  return text.length;
}

export const MIN_SECRET_BITS = 96;

function weakSecretProblem(secret: string): string | null {
  const bits = Math.floor(estimatedSecretBits(secret));
  const repeats = period(secret) < secret.length;
  if (!repeats && bits >= MIN_SECRET_BITS && new Set(secret).size >= 8) return null;
  return (
    `JWT_SECRET: too predictable for production (${repeats ? "a repeated pattern" : `about ${bits} bits by its character statistics, under ${MIN_SECRET_BITS}`}); ` +
    "whoever guesses it can sign access tokens for any user. Use 32 random bytes, e.g. `openssl rand -base64 32`"
  );
}

/** Production talks to browsers and GitHub over HTTPS only; plain HTTP is for loopback (a laptop, a test). */
function insecureUrlProblem(name: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null; // the schema names a malformed URL
  }
  if (url.protocol === "https:" || isLoopbackHost(url.hostname)) return null;
  return `${name}: must be https:// in production (${url.protocol}// is allowed for loopback addresses only): sign-in links, OAuth codes and tokens travel over it`;
}

function crossFieldProblems(source: Record<string, string | undefined>): string[] {
  const raw = (name: string) => {
    const v = source[name]?.trim();
    return v ? v : undefined;
  };
  const problems: string[] = [];
  const production = raw("NODE_ENV") === "production";
  const secret = raw("JWT_SECRET");
  if (secret !== undefined && secret.length < 32) problems.push("JWT_SECRET: must be at least 32 characters");
  if (production && secret === undefined) problems.push("JWT_SECRET: required in production (at least 32 random characters)");
  if (production && secret !== undefined && secret.length >= 32) {
    const weak = weakSecretProblem(secret);
    if (weak) problems.push(weak);
  }
  if (production) {
    for (const name of ["PUBLIC_URL", "GITHUB_OAUTH_URL", "GITHUB_API_URL"]) {
      const insecure = insecureUrlProblem(name, raw(name));
      if (insecure) problems.push(insecure);
    }
  }
  const cors = splitOrigins(raw("CORS_ORIGINS"));
  if (production && cors.includes("*")) problems.push("CORS_ORIGINS: a wildcard is refused in production; list the allowed origins");
  for (const origin of cors) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin))
      problems.push(`CORS_ORIGINS: "${origin}" is not an origin like https://example.com`);
  }
  const requestTimeout = Number(raw("REQUEST_TIMEOUT_MS") ?? 30_000);
  const headersTimeout = Number(raw("HEADERS_TIMEOUT_MS") ?? 10_000);
  if (headersTimeout > requestTimeout)
    problems.push("HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS (headers are part of the request)");
  if ((raw("GITHUB_CLIENT_ID") === undefined) !== (raw("GITHUB_CLIENT_SECRET") === undefined)) {
    problems.push("GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET: set both or neither");
  }
  // The OAuth callback must be the URL registered with GitHub, never one read from a request.
  if (production && raw("GITHUB_CLIENT_ID") !== undefined && raw("PUBLIC_URL") === undefined)
    problems.push(
      "PUBLIC_URL: required in production when GitHub sign-in is configured (the OAuth callback is PUBLIC_URL/auth/github/callback)",
    );
  return problems;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** TRUST_PROXY set to anything but empty/false/0 (whatever its form: flag, hop count, addresses). */
function trustProxyConfigured(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v !== undefined && v !== "" && v !== "false" && v !== "0";
}

export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "[::1]";
}

/**
 * Validates the environment once, at start-up. Every bad variable is named in one error, and
 * production refuses settings that are only safe on a laptop.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  // Cross-field rules read the raw strings, so they are reported even when some value failed to parse.
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`)),
    ...crossFieldProblems(source),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  const e = parsed.data;
  const production = e.NODE_ENV === "production";
  const cors = splitOrigins(e.CORS_ORIGINS);

  const github = githubConfigOf(e);
  let devLoginDisabledReason: string | null = null;
  if (production) devLoginDisabledReason = "devLogin is disabled in production mode";
  else if (github) devLoginDisabledReason = "devLogin is disabled because GitHub sign-in is configured";
  else if (!isLoopbackHost(e.HOST))
    devLoginDisabledReason = `devLogin is disabled because the server listens on ${e.HOST}, not on loopback only`;
  // Behind a proxy every request looks local to the server: a proxied dev server is not a laptop.
  else if (trustProxyConfigured(source.TRUST_PROXY))
    devLoginDisabledReason = "devLogin is disabled because TRUST_PROXY is set (the server sits behind a proxy)";

  const secret = e.JWT_SECRET ?? randomBytes(32).toString("base64url");
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    database: {
      url: e.DATABASE_URL,
      dataDir: e.OSMYNT_DATA_DIR,
      poolSize: e.DATABASE_POOL_SIZE,
      connectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT_SECONDS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: e.REDIS_URL, channelPrefix: e.REDIS_CHANNEL_PREFIX },
    auth: {
      jwtSecret: new TextEncoder().encode(secret),
      jwtSecretGenerated: e.JWT_SECRET === undefined,
      accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlMs: e.REFRESH_TOKEN_TTL_DAYS * 86_400_000,
      sessionLimits: { maxAgeMs: e.SESSION_MAX_AGE_DAYS * 86_400_000, idleMs: e.SESSION_IDLE_TIMEOUT_DAYS * 86_400_000 },
      sessionCacheTtlMs: e.SESSION_CACHE_TTL_SECONDS * 1000,
    },
    devLoginDisabledReason,
    github,
    corsOrigins: cors.includes("*") ? "*" : cors,
    bodyLimit: e.BODY_LIMIT_BYTES,
    maxConnections: e.MAX_CONNECTIONS,
    timeouts: { requestMs: e.REQUEST_TIMEOUT_MS, headersMs: e.HEADERS_TIMEOUT_MS },
    rateLimits: {
      perAddress: e.RATE_LIMIT_PER_MINUTE,
      perUser: e.RATE_LIMIT_PER_USER_PER_MINUTE,
      signIn: e.RATE_LIMIT_SIGN_IN_PER_MINUTE,
      inviteAccept: e.RATE_LIMIT_INVITE_ACCEPT_PER_MINUTE,
      pairing: e.RATE_LIMIT_PAIRING_PER_MINUTE,
      onRedisDown: e.RATE_LIMIT_ON_REDIS_DOWN,
    },
    metricsToken: e.METRICS_TOKEN,
    maxBatchSize: e.MAX_BATCH_SIZE,
    maxTeamsPerUser: e.MAX_TEAMS_PER_USER,
    eventRetentionMs: e.EVENT_RETENTION_DAYS * 86_400_000,
    eventRetentionBatchSize: e.EVENT_RETENTION_BATCH_SIZE,
    realtime: {
      maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
      maxAnonymousPerIp: e.WS_MAX_ANONYMOUS_PER_IP,
      subscriptionBufferEvents: e.SUBSCRIPTION_BUFFER_EVENTS,
      maxSubscriptionsPerUser: e.SUBSCRIPTIONS_PER_USER,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      checkpointMs: e.EVENT_CHECKPOINT_MS,
    },
    keys: {
      maxDevicesPerUser: e.KEYS_MAX_DEVICES_PER_USER,
      pairingTtlMs: e.PAIRING_TTL_SECONDS * 1000,
      pairingsPerHour: e.PAIRING_ATTEMPTS_PER_HOUR,
    },
    shares: {
      maxCiphertextBytes: e.SHARE_MAX_CIPHERTEXT_BYTES,
      // base64url inflates by 4/3; the manifest and wrapped keys need room too (about 300 bytes per recipient device).
      maxBodyBytes: Math.ceil((e.SHARE_MAX_CIPHERTEXT_BYTES * 4) / 3) + 2 * 1024 * 1024,
      purgeIntervalMs: e.SHARE_PURGE_INTERVAL_SECONDS * 1000,
    },
    logLevel: e.LOG_LEVEL,
    trustProxy: parseTrustProxy(e.TRUST_PROXY) as TrustProxy,
  };
}
